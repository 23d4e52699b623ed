/**
 * Recording sources that write continuously (the proxy's recorder, the
 * ingest server) accept an s3:// store like every other command: records are
 * spooled locally and uploaded as segments seal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openRecorder } from '../../../capture/proxy/exchange-recorder.js';
import { readExchanges } from '../../../store/segment-reader.js';
import type { Exchange } from '../../../store/exchange.js';
import { startS3TestServer, type S3TestServer } from '../../support/s3-test-server.js';
import { syntheticExchange } from '../../support/synthetic-exchange.js';
import { makeTempDir } from '../../support/temp-dir.js';

let s3: S3TestServer;
beforeAll(async () => {
  s3 = await startS3TestServer();
  await s3.createBucket('reprise-rec');
});
afterAll(async () => {
  await s3.close();
});

describe('recording straight to S3', () => {
  it('the proxy recorder writes an s3:// store that reads back complete', async () => {
    const tmp = await makeTempDir();
    try {
      const url = 's3://reprise-rec/proxy/run-1';
      const rec = await openRecorder(url, { writer: { s3: { client: s3.client }, spoolDir: join(tmp.dir, 'spool'), scanIntervalMs: 50, segmentBytes: 64 * 1024 } });
      const sent = Array.from({ length: 2000 }, (_, i) => syntheticExchange(i));
      for (const ex of sent) rec.offer(ex);
      const stats = await rec.close();
      expect(stats).toMatchObject({ seen: 2000, recorded: 2000, dropped: 0 });
      const back: Exchange[] = [];
      for await (const ex of readExchanges(url, { s3: { client: s3.client } })) back.push(ex);
      expect(back.map((x) => x.id)).toEqual(sent.map((x) => x.id));
    } finally {
      await tmp.cleanup();
    }
  });
});
