import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { readFile, truncate, writeFile, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openStoreWriter } from '../../store/segment-writer.js';
import { newReadReport, readExchanges } from '../../store/segment-reader.js';
import { inspectStore } from '../../store/inspect-store.js';
import { RepriseError } from '../../errors.js';
import { syntheticExchange, writeSyntheticStore } from '../support/synthetic-exchange.js';
import { makeTempDir } from '../support/temp-dir.js';

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => { tmp = await makeTempDir(); });
afterEach(async () => { await tmp.cleanup(); });

async function drain(store: string, opts: Parameters<typeof readExchanges>[1] = {}): Promise<number> {
  let n = 0;
  for await (const _ of readExchanges(store, opts)) n++;
  return n;
}

const writeStore = (n: number): Promise<string> => writeSyntheticStore(tmp.dir, n);

/** A hand-made segment holding these NDJSON lines. */
async function storeWithLines(lines: string[]): Promise<{ store: string; seg: string }> {
  const store = join(tmp.dir, 'hand');
  await mkdir(join(store, 'segments'), { recursive: true });
  const seg = join(store, 'segments', '000001.ndjson.gz');
  await writeFile(seg, gzipSync(lines.map((l) => `${l}\n`).join('')));
  return { store, seg };
}

describe('bad store input', () => {
  it('a truncated sealed segment is STORE_CORRUPT naming the file and byte offset', async () => {
    const store = await writeStore(3000);
    const seg = join(store, 'segments', '000001.ndjson.gz');
    const size = (await stat(seg)).size;
    await truncate(seg, Math.floor(size / 2));
    const err = await drain(store).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RepriseError);
    expect(err).toMatchObject({ code: 'STORE_CORRUPT', location: { file: seg } });
    expect((err as RepriseError).location?.offset).toBeGreaterThan(0);
    expect((err as RepriseError).message).toMatch(/truncated/);
  });

  it('with onCorrupt: skip, the readable part of a truncated segment is still returned', async () => {
    const store = await writeStore(3000);
    const seg = join(store, 'segments', '000001.ndjson.gz');
    await truncate(seg, Math.floor((await stat(seg)).size / 2));
    const report = newReadReport();
    const n = await drain(store, { onCorrupt: 'skip', report });
    expect(n).toBeGreaterThan(500);
    expect(n).toBeLessThan(3000);
    expect(report.problems[0]).toMatch(/000001\.ndjson\.gz at byte \d+/);
  });

  it('corrupt gzip bytes are STORE_CORRUPT with an offset', async () => {
    const store = await writeStore(2000);
    const seg = join(store, 'segments', '000001.ndjson.gz');
    const bytes = await readFile(seg);
    for (let i = 2000; i < 2400; i++) bytes[i] = bytes[i]! ^ 0x5a;
    await writeFile(seg, bytes);
    const err = await drain(store).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORE_CORRUPT', location: { file: seg } });
  });

  it('a line that fails the schema is STORE_SCHEMA naming file and line', async () => {
    const good = JSON.stringify(syntheticExchange(0));
    const bad = JSON.stringify({ ...syntheticExchange(1), request: { ...syntheticExchange(1).request, method: 42 } });
    const { store, seg } = await storeWithLines([good, good, bad, good]);
    const err = await drain(store).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORE_SCHEMA', location: { file: seg, line: 3 } });
    expect((err as Error).message).toContain('request.method');
  });

  it('a line that is not JSON is STORE_CORRUPT naming file and line', async () => {
    const good = JSON.stringify(syntheticExchange(0));
    const { store, seg } = await storeWithLines([good, '{"v":1, nope', good]);
    await expect(drain(store)).rejects.toMatchObject({ code: 'STORE_CORRUPT', location: { file: seg, line: 2 } });
    const report = newReadReport();
    expect(await drain(store, { onCorrupt: 'skip', report })).toBe(2);
    expect(report.skippedLines).toBe(1);
  });

  it('the records before a corrupt line are handed on before the error, and counted as read', async () => {
    const first = [0, 1, 2].map((i) => syntheticExchange(i));
    const { store } = await storeWithLines([...first.map((ex) => JSON.stringify(ex)), '{"v":1, nope', JSON.stringify(syntheticExchange(3))]);
    const seen: string[] = [];
    const report = newReadReport();
    const err = await (async () => {
      for await (const ex of readExchanges(store, { report })) seen.push(ex.id);
    })().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORE_CORRUPT', location: { line: 4 } });
    expect(seen).toEqual(first.map((ex) => ex.id));
    expect(report.records).toBe(3);
  });

  it('a record from a newer format version says to upgrade', async () => {
    const { store } = await storeWithLines([JSON.stringify({ ...syntheticExchange(0), v: 2 })]);
    await expect(drain(store)).rejects.toThrow(/newer than this reprise understands/);
  });

  it('a directory that is not a store is STORE_NOT_FOUND', async () => {
    await mkdir(join(tmp.dir, 'empty'));
    await expect(drain(join(tmp.dir, 'empty'))).rejects.toMatchObject({ code: 'STORE_NOT_FOUND' });
  });

  it('store inspect does not vouch for a sealed segment that was truncated or emptied since it was sealed', async () => {
    const store = await writeStore(3000);
    const seg = join(store, 'segments', '000001.ndjson.gz');
    expect((await inspectStore(store)).exchanges).toBe(3000);
    await truncate(seg, Math.floor((await stat(seg)).size / 2));
    const err = await inspectStore(store).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORE_CORRUPT', location: { file: seg } });
    expect((err as RepriseError).message).toMatch(/sealed segment is \d+ bytes, but the manifest sealed it at \d+/);
    await truncate(seg, 0);
    await expect(inspectStore(store)).rejects.toMatchObject({ code: 'STORE_CORRUPT', location: { file: seg } });
  });

  it('store inspect fails on a bad line inside an unsealed segment, as store cat does, instead of skipping it unreported', async () => {
    const good = JSON.stringify(syntheticExchange(1));
    const { store, seg } = await storeWithLines([good, '{"v": 1, "id": "x", "start"', good]);
    await expect(inspectStore(store)).rejects.toMatchObject({ code: 'STORE_CORRUPT', location: { file: seg, line: 2 } });
    // A file that is no store at all (a HAR here) is not a store of 0 exchanges.
    const har = join(tmp.dir, 'session.har');
    await writeFile(har, '{"log": {"version": "1.2",\n "entries": []}}\n');
    await expect(inspectStore(har)).rejects.toMatchObject({ code: 'STORE_CORRUPT', location: { file: har, line: 1 } });
  });

  it('a corrupt manifest is STORE_CORRUPT naming manifest.json', async () => {
    const store = await writeStore(10);
    await writeFile(join(store, 'manifest.json'), '{"format": "reprise-store", "segm');
    await expect(drain(store)).rejects.toMatchObject({ code: 'STORE_CORRUPT', location: { file: join(store, 'manifest.json') } });
  });

  it('hostile lines (huge numbers, deep nesting, prototype keys) are rejected or read safely', async () => {
    const base = syntheticExchange(0);
    const lines = [
      JSON.stringify({ ...base, start: 1e300 }),
      `${'['.repeat(5000)}${']'.repeat(5000)}`,
      JSON.stringify({ ...base, __proto__: { polluted: true } }).replace('"v":1', '"v":1,"__proto__":{"polluted":true}'),
    ];
    const { store } = await storeWithLines(lines);
    const report = newReadReport();
    const n = await drain(store, { onCorrupt: 'skip', report });
    expect(n).toBe(1); // the __proto__ key is plain data to JSON.parse; the record itself is valid
    expect(report.skippedLines).toBe(2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
