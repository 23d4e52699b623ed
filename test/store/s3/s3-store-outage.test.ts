import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { access, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Exchange } from '../../../store/exchange.js';
import { readExchanges } from '../../../store/segment-reader.js';
import { readManifest } from '../../../store/manifest.js';
import { openS3StoreWriter, type S3StoreWriter, type S3StoreWriterOptions } from '../../../store/s3/s3-store-writer.js';
import { readS3Manifest } from '../../../store/s3/s3-store-reader.js';
import { startS3TestServer, type S3TestServer } from '../../support/s3-test-server.js';
import { syntheticExchange } from '../../support/synthetic-exchange.js';
import { makeTempDir } from '../../support/temp-dir.js';

/**
 * S3 goes away mid-run (the s3rver process stops: connections reset, then
 * refused) and comes back on the same port with the same data. Every record
 * written must end up in S3 exactly once, in order.
 */

let s3: S3TestServer;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeAll(async () => {
  s3 = await startS3TestServer();
  await s3.createBucket('reprise-outage');
});
afterAll(async () => {
  await s3.close();
});
beforeEach(async () => {
  tmp = await makeTempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

async function collect(it: AsyncIterable<Exchange>): Promise<Exchange[]> {
  const out: Exchange[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function options(spoolDir: string, extra: S3StoreWriterOptions = {}): S3StoreWriterOptions {
  return {
    s3: { client: s3.client },
    spoolDir,
    segmentBytes: 16 * 1024,
    scanIntervalMs: 20,
    retry: { baseDelayMs: 20, maxDelayMs: 200 },
    ...extra,
  };
}

/** Write records [from, to) in bursts, letting the uploader run between them. */
async function writeRange(w: S3StoreWriter, from: number, to: number, until?: () => boolean): Promise<number> {
  let i = from;
  while (i < to) {
    for (const end = Math.min(to, i + 200); i < end; i++) await w.write(syntheticExchange(i));
    await sleep(5);
    if (until?.()) break;
  }
  return i;
}

function starts(n: number): number[] {
  return Array.from({ length: n }, (_, i) => syntheticExchange(i).start);
}

describe('S3 store while S3 is unavailable', () => {
  it('keeps segments in the spool when S3 stops, reports them, and a later writer uploads them', async () => {
    const url = 's3://reprise-outage/stop-close-resume';
    const spool = join(tmp.dir, 'spool');
    const events: Array<{ type: string }> = [];
    const onEvent = (e: unknown): void => void events.push(e as { type: string });
    subscribe('reprise:store:s3-upload', onEvent);
    try {
      const w1 = await openS3StoreWriter(url, options(spool, { closeTimeoutMs: 300 }));
      let n = await writeRange(w1, 0, 20_000, () => w1.uploadStats().uploaded >= 2);
      expect(w1.uploadStats().uploaded).toBeGreaterThanOrEqual(2);
      await s3.stop();
      n = await writeRange(w1, n, n + 3000);
      const s1 = await w1.close();
      expect(s1.exchanges).toBe(n);
      expect(s1.upload.pending).toBeGreaterThan(0);
      expect(s1.upload.retries).toBeGreaterThan(0);
      expect(s1.upload.lastError).toMatch(/ECONNREFUSED|ECONNRESET|socket/i);
      for (const f of s1.upload.pendingFiles) {
        expect(f.startsWith(spool)).toBe(true);
        await access(f);
      }
      expect(events.some((e) => e.type === 'retry')).toBe(true);
      expect(events.find((e) => e.type === 'pending')).toMatchObject({ url, spoolDir: spool, pending: s1.upload.pending });

      // Nothing lost so far: the spool holds exactly the records S3 did not get.
      let inSpool = 0;
      for (const f of s1.upload.pendingFiles) inSpool += (await collect(readExchanges(f))).length;

      // A writer opened while S3 is still down starts from the spool's state and adds more.
      const w2 = await openS3StoreWriter(url, options(spool, { closeTimeoutMs: 100 }));
      n = await writeRange(w2, n, n + 1000);
      const s2 = await w2.close();
      expect(s2.upload.pending).toBeGreaterThan(s1.upload.pending);

      await s3.restart();
      const uploadedBefore = (await readS3Manifest(url, { client: s3.client }))!.segments.reduce((k, s) => k + s.stats.count, 0);
      expect(uploadedBefore + inSpool).toBe(s1.exchanges);

      const w3 = await openS3StoreWriter(url, options(spool));
      const s3summary = await w3.close();
      expect(s3summary.upload).toMatchObject({ pending: 0, uploaded: s2.upload.pending });

      const all = await collect(readExchanges(url, { s3: { client: s3.client } }));
      expect(all.map((x) => x.start)).toEqual(starts(n)); // every record, once, in write order
      const manifest = await readS3Manifest(url, { client: s3.client });
      expect(manifest!.segments.reduce((k, s) => k + s.stats.count, 0)).toBe(n);
    } finally {
      unsubscribe('reprise:store:s3-upload', onEvent);
      await s3.restart();
    }
  });

  it('catches up by itself when S3 comes back while the writer is open', async () => {
    const url = 's3://reprise-outage/stop-restart';
    const spool = join(tmp.dir, 'spool');
    const w = await openS3StoreWriter(url, options(spool, { closeTimeoutMs: 20_000 }));
    let n = await writeRange(w, 0, 20_000, () => w.uploadStats().uploaded >= 1);
    await s3.stop();
    n = await writeRange(w, n, n + 3000);
    await sleep(200);
    expect(w.uploadStats().pending).toBeGreaterThan(0);
    await s3.restart();
    n = await writeRange(w, n, n + 1000);
    const summary = await w.close();
    expect(summary.upload.pending).toBe(0);
    expect(summary.upload.retries).toBeGreaterThan(0);
    expect(summary.upload.uploaded).toBe(summary.segments);
    const all = await collect(readExchanges(url, { s3: { client: s3.client } }));
    expect(all.map((x) => x.start)).toEqual(starts(n));
  });

  it('loses nothing flushed when the writer is SIGKILLed: the next writer recovers and uploads the spool', async () => {
    const url = 's3://reprise-outage/killed';
    const spool = join(tmp.dir, 'spool');
    const durable = await killWriterAfter(url, spool, 3000);
    const sealed = new Set((await readManifest(spool))!.segments.map((s) => s.file));
    const open = (await readdir(join(spool, 'segments'))).filter((f) => !sealed.has(`segments/${f}`));
    const events: Array<{ type: string; records?: number }> = [];
    const onEvent = (e: unknown): void => void events.push(e as { type: string });
    subscribe('reprise:store:s3-upload', onEvent);
    const w = await openS3StoreWriter(url, options(spool));
    const summary = await w.close();
    unsubscribe('reprise:store:s3-upload', onEvent);
    expect(summary.upload.pending).toBe(0);
    // The segment the killed writer had open is rewritten into a new one, not lost.
    expect(events.filter((e) => e.type === 'recovered')).toHaveLength(open.length);
    expect(await readdir(join(spool, 'segments'))).toEqual([]);
    const all = await collect(readExchanges(url, { s3: { client: s3.client } }));
    expect(all.length).toBeGreaterThanOrEqual(durable);
    expect(all.map((x) => x.start)).toEqual(Array.from({ length: all.length }, (_, i) => syntheticExchange(i).start));
  });
});

const child = fileURLToPath(new URL('../../support/s3-crash-writer-child.ts', import.meta.url));

/** Run the S3 writer child until `atLeast` records are durable in its spool, then SIGKILL it. */
async function killWriterAfter(url: string, spoolDir: string, atLeast: number): Promise<number> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, url, spoolDir], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...s3.env } });
  let durable = 0;
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code}`))));
    proc.stdout.on('data', (c: Buffer) => {
      buffered += c.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const l of lines) durable = Number(l.split(' ')[1]);
      if (durable >= atLeast && !proc.killed) proc.kill('SIGKILL');
    });
  });
  return durable;
}
