// Child process for the crash test: writes synthetic exchanges forever and
// prints "durable <n>" after each flush completes, so the parent knows which
// records must survive when it sends SIGKILL at a random moment.
import { openStoreWriter } from '../../store/segment-writer.js';
import { syntheticExchange } from './synthetic-exchange.js';

const store = process.argv[2]!;
const w = await openStoreWriter(store, { segmentBytes: 256 * 1024, flushIntervalMs: 3_600_000 });
for (let i = 0; ; i++) {
  await w.write(syntheticExchange(i, { bodyBytes: 200 }));
  if (i % 97 === 96) {
    await w.flush();
    process.stdout.write(`durable ${i + 1}\n`);
  }
}
