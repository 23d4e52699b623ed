import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RepriseError } from '../../../errors.js';
import type { Exchange } from '../../../store/exchange.js';
import type { S3StoreWriterOptions } from '../../../store/s3/s3-store-writer.js';
import { readExchanges } from '../../../store/segment-reader.js';
import { writeExchanges } from '../../../store/write-exchanges.js';
import { expectOneLineError, runCli } from '../../support/run-cli.js';
import { startS3TestServer, type S3TestServer } from '../../support/s3-test-server.js';
import { syntheticExchange } from '../../support/synthetic-exchange.js';
import { makeTempDir } from '../../support/temp-dir.js';

// A command writing an s3:// store that fails must not leave the local spool it created (a
// directory per store under ~/.cache/reprise/spool) behind — except what in it has not reached
// S3: a segment there is the only copy of its records, and the next writer uploads it.

let s3: S3TestServer;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeAll(async () => {
  s3 = await startS3TestServer();
  await s3.createBucket('reprise-failed');
});
afterAll(async () => {
  await s3.close();
});
beforeEach(async (ctx) => {
  tmp = await makeTempDir('reprise-s3-failure-');
  ctx.onTestFinished(() => tmp.cleanup());
});

const sourceError = new RepriseError('HAR_INVALID', 'entries[7].request: not an object', { location: { file: 'session.har' } });

function options(spoolDir: string, extra: S3StoreWriterOptions = {}): S3StoreWriterOptions {
  return { s3: { client: s3.client }, spoolDir, scanIntervalMs: 20, retry: { baseDelayMs: 20, maxDelayMs: 100 }, ...extra };
}

/** `n` records, then the source fails (after `then`, when given). */
async function* failingAfter(n: number, then?: () => Promise<void>): AsyncGenerator<Exchange> {
  for (let i = 0; i < n; i++) yield syntheticExchange(i);
  await then?.();
  throw sourceError;
}

/** Object keys under a prefix of the test bucket. */
async function keys(prefix: string): Promise<string[]> {
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const res = await s3.client.send(new ListObjectsV2Command({ Bucket: 'reprise-failed', Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key!).sort();
}

async function inS3(url: string): Promise<Exchange[]> {
  const out: Exchange[] = [];
  for await (const ex of readExchanges(url, { s3: { client: s3.client } })) out.push(ex);
  return out;
}

describe('a failed write to an S3 store and its spool', () => {
  it('import fails before its first record, or S3 refuses the store: no spool is left (nor the parents made for it)', async () => {
    const bad = join(tmp.dir, 'bad.har');
    await writeFile(bad, '{"log": {"version": "1.2", "entries": [ {"request": 42} ]}}');
    const env = { ...s3.env, REPRISE_SPOOL_DIR: join(tmp.dir, 'spool-a') };
    const noBucket = { ...s3.env, REPRISE_SPOOL_DIR: join(tmp.dir, 'spool-b') };
    const [invalid, missing] = await Promise.all([
      runCli(['import', 'har', bad, '--out', 's3://reprise-failed/invalid'], { env }),
      runCli(['import', 'har', bad, '--out', 's3://no-such-bucket/x'], { env: noBucket }),
    ]);
    expectOneLineError(invalid, 'HAR_INVALID');
    expect(await keys('invalid/')).toEqual([]); // nor an empty store in S3
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^reprise: STORE_(NOT_FOUND|IO): /);
    expect(await readdir(tmp.dir)).toEqual(['bad.har']);
  });

  it('fails after records: they are in S3, and the spool they went through is gone', async () => {
    const spool = join(tmp.dir, 'cache', 'spool');
    const url = 's3://reprise-failed/after-records';
    await expect(writeExchanges(failingAfter(300), url, options(spool, { segmentBytes: 4 * 1024 }))).rejects.toBe(sourceError);
    expect((await inS3(url)).map((ex) => ex.start)).toEqual(Array.from({ length: 300 }, (_, i) => syntheticExchange(i).start));
    expect(existsSync(join(tmp.dir, 'cache'))).toBe(false);
  });

  it('a store that was in S3 before (empty, or with records) is left as it was', async () => {
    const spool = join(tmp.dir, 'spool');
    await writeExchanges([], 's3://reprise-failed/was-empty', options(join(tmp.dir, 'other-spool')));
    await writeExchanges([syntheticExchange(0), syntheticExchange(1)], 's3://reprise-failed/had-records', options(join(tmp.dir, 'other-spool-2')));
    const before = [await keys('was-empty/'), await keys('had-records/')];
    await expect(writeExchanges(failingAfter(0), 's3://reprise-failed/was-empty', options(spool))).rejects.toBe(sourceError);
    await expect(writeExchanges(failingAfter(0), 's3://reprise-failed/had-records', options(spool))).rejects.toBe(sourceError);
    expect([await keys('was-empty/'), await keys('had-records/')]).toEqual(before);
    expect(before[0]).toEqual(['was-empty/manifest.json']);
    expect(await inS3('s3://reprise-failed/had-records')).toHaveLength(2);
  });

  it('a spool an earlier writer of the store left (its cache) is kept', async () => {
    const spool = join(tmp.dir, 'spool');
    const url = 's3://reprise-failed/kept-cache';
    await writeExchanges([syntheticExchange(0)], url, options(spool));
    const before = (await readdir(spool, { recursive: true })).sort();
    await expect(writeExchanges(failingAfter(0), url, options(spool))).rejects.toBe(sourceError);
    expect((await readdir(spool, { recursive: true })).sort()).toEqual(before);
  });

  it('the store cannot be closed after the failure: the source error is reported, and the records stay in the spool', async () => {
    const spool = join(tmp.dir, 'spool');
    const url = 's3://reprise-failed/close-fails';
    // A directory where the spool's manifest is written: sealing the last segment cannot be recorded.
    const blockManifest = async (): Promise<void> => void (await mkdir(join(spool, `manifest.json.${process.pid}.tmp`)));
    const err = await writeExchanges(failingAfter(5, blockManifest), url, options(spool)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'HAR_INVALID', cause: sourceError, message: expect.stringMatching(/could not be closed after it .*: the last records may be missing$/) });
    const kept = (await readdir(join(spool, 'segments'))).map((f) => join(spool, 'segments', f));
    expect(kept).toHaveLength(1);
    const records: Exchange[] = [];
    for await (const ex of readExchanges(kept[0]!)) records.push(ex);
    expect(records).toHaveLength(5);
  });

  it('S3 is away when the command fails: the segments it did not take stay in the spool, and the next writer uploads them', async () => {
    const spool = join(tmp.dir, 'spool');
    const url = 's3://reprise-failed/away';
    const o = options(spool, { closeTimeoutMs: 200 });
    try {
      await expect(writeExchanges(failingAfter(20, () => s3.stop()), url, o)).rejects.toBe(sourceError);
      expect((await readdir(join(spool, 'segments'))).length).toBe(1);
    } finally {
      await s3.restart();
    }
    await writeExchanges([], url, o);
    expect(await inS3(url)).toHaveLength(20);
  });
});
