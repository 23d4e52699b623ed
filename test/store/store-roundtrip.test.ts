import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openStoreWriter } from '../../store/segment-writer.js';
import { newReadReport, readExchanges } from '../../store/segment-reader.js';
import { readManifest } from '../../store/manifest.js';
import { syntheticExchange } from '../support/synthetic-exchange.js';
import { makeTempDir } from '../support/temp-dir.js';
import type { Exchange } from '../../store/exchange.js';
import { RepriseError } from '../../errors.js';

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => { tmp = await makeTempDir(); });
afterEach(async () => { await tmp.cleanup(); });

async function collect(it: AsyncIterable<Exchange>): Promise<Exchange[]> {
  const out: Exchange[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('segment writer and reader', () => {
  it('reads back exactly what was written, in order, with a manifest', async () => {
    const store = join(tmp.dir, 'store');
    const w = await openStoreWriter(store);
    const written = Array.from({ length: 1000 }, (_, i) => syntheticExchange(i));
    for (const ex of written) await w.write(ex);
    const summary = await w.close();
    expect(summary.exchanges).toBe(1000);
    expect(await collect(readExchanges(store))).toEqual(written);
    const m = await readManifest(store);
    expect(m?.segments).toHaveLength(1);
    expect(m?.segments[0]?.stats.count).toBe(1000);
    expect(m?.segments[0]?.stats.endpoints['GET /users/:id']).toBe(250);
    expect(await readdir(store)).not.toContain('writer.lock');
  });

  it('appends new segments when a store is reopened', async () => {
    const store = join(tmp.dir, 'store');
    for (let run = 0; run < 2; run++) {
      const w = await openStoreWriter(store);
      for (let i = 0; i < 10; i++) await w.write(syntheticExchange(run * 10 + i));
      await w.close();
    }
    const all = await collect(readExchanges(store));
    expect(all.map((x) => x.request.path)).toEqual(Array.from({ length: 20 }, (_, i) => syntheticExchange(i).request.path));
    expect((await readManifest(store))?.segments.map((s) => s.file)).toEqual(['segments/000001.ndjson.gz', 'segments/000002.ndjson.gz']);
  });

  it('refuses a second writer on the same store', async () => {
    const store = join(tmp.dir, 'store');
    const w = await openStoreWriter(store);
    await expect(openStoreWriter(store)).rejects.toMatchObject({ code: 'STORE_LOCKED' });
    await w.close();
  });

  it('filters by time range, method, host, path glob and status', async () => {
    const store = join(tmp.dir, 'store');
    const w = await openStoreWriter(store);
    for (let i = 0; i < 200; i++) await w.write(syntheticExchange(i));
    await w.close();
    const t0 = syntheticExchange(0).start;
    const byTime = await collect(readExchanges(store, { filter: { from: t0 + 10_000, to: t0 + 20_000 } }));
    expect(byTime).toHaveLength(10);
    const posts = await collect(readExchanges(store, { filter: { methods: ['post'] } }));
    expect(posts.every((x) => x.request.method === 'POST')).toBe(true);
    expect(posts).toHaveLength(50);
    const orders = await collect(readExchanges(store, { filter: { paths: ['/users/*/orders'] } }));
    expect(orders).toHaveLength(50);
    const deep = await collect(readExchanges(store, { filter: { paths: ['/users/**'] } }));
    expect(deep).toHaveLength(100);
    const errors = await collect(readExchanges(store, { filter: { statuses: ['5xx'] } }));
    expect(errors).toHaveLength(4);
    const hosts = await collect(readExchanges(store, { filter: { hosts: ['*.example.test'], statuses: ['200-299'] } }));
    expect(hosts).toHaveLength(196);
    expect(await collect(readExchanges(store, { filter: { hosts: ['other.test'] } }))).toHaveLength(0);
  });

  it('rotates by size: 50 MB with a 5 MB limit gives about 10 segments, read back in order', async () => {
    const store = join(tmp.dir, 'store');
    const w = await openStoreWriter(store, { segmentBytes: 5 * 1024 * 1024 });
    let i = 0;
    // Random bodies barely compress, so on-disk bytes track what was written.
    const stats = () => (w as unknown as { totals: { bytes: number } }).totals.bytes;
    while (stats() < 50 * 1024 * 1024) await w.write(syntheticExchange(i++, { randomBody: true, bodyBytes: 4096 }));
    const summary = await w.close();
    expect(summary.segments).toBeGreaterThanOrEqual(9);
    expect(summary.segments).toBeLessThanOrEqual(11);
    const files = (await readdir(join(store, 'segments'))).sort();
    expect(files).toHaveLength(summary.segments);
    let n = 0;
    for await (const ex of readExchanges(store)) {
      expect(ex.source.seq).toBe(Math.floor(n / 8));
      expect(ex.response?.body?.size).toBe(syntheticExchange(n, { randomBody: true, bodyBytes: 4096 }).response?.body?.size);
      n++;
    }
    expect(n).toBe(i);
    const manifest = JSON.parse(await readFile(join(store, 'manifest.json'), 'utf8'));
    expect(manifest.segments.reduce((a: number, s: { stats: { count: number } }) => a + s.stats.count, 0)).toBe(i);
  });

  it('reports a missing store as STORE_NOT_FOUND naming the path', async () => {
    const missing = join(tmp.dir, 'nope');
    const err = await collect(readExchanges(missing)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RepriseError);
    expect(err).toMatchObject({ code: 'STORE_NOT_FOUND', location: { file: missing } });
  });

  it('a report counts segments and records', async () => {
    const store = join(tmp.dir, 'store');
    const w = await openStoreWriter(store);
    for (let i = 0; i < 5; i++) await w.write(syntheticExchange(i));
    await w.close();
    const report = newReadReport();
    await collect(readExchanges(store, { report, filter: { methods: ['GET'] } }));
    expect(report).toMatchObject({ segments: 1, records: 5, matched: 4, tornTails: 0 });
  });
});
