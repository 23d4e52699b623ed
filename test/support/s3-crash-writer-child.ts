// Child process for the S3 crash test: writes synthetic exchanges to an S3
// store forever and prints "durable <n>" after each flush of the spool, so the
// parent knows which records must survive a SIGKILL. Args: url spoolDir.
// Reaches S3 through REPRISE_S3_ENDPOINT and the AWS_* credentials in its env.
import { openS3StoreWriter } from '../../store/s3/s3-store-writer.js';
import { syntheticExchange } from './synthetic-exchange.js';

const [url, spoolDir] = process.argv.slice(2) as [string, string];
const w = await openS3StoreWriter(url, { spoolDir, segmentBytes: 16 * 1024, flushIntervalMs: 3_600_000, scanIntervalMs: 10 });
for (let i = 0; ; i++) {
  await w.write(syntheticExchange(i, { bodyBytes: 200 }));
  if (i % 97 === 96) {
    await w.flush();
    process.stdout.write(`durable ${i + 1}\n`);
  }
}
