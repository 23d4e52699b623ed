import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readExchanges } from '../../store/segment-reader.js';
import { writeExchanges } from '../../store/write-exchanges.js';
import type { Exchange } from '../../store/exchange.js';
import { expectOneLineError, runCli } from '../support/run-cli.js';
import { syntheticExchange, writeSyntheticStore } from '../support/synthetic-exchange.js';
import { makeTempDir } from '../support/temp-dir.js';

// A command that fails before its first record must not leave an empty store it created (the
// next run would find clutter, or a store it did not ask for); a store that was there before must
// come out of a failed command exactly as it went in.

const sampleHar = fileURLToPath(new URL('../fixtures/har/sample-api.har', import.meta.url));
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => { tmp = await makeTempDir(); });
afterEach(async () => { await tmp.cleanup(); });

async function count(store: string): Promise<number> {
  let n = 0;
  for await (const _ of readExchanges(store)) n++;
  return n;
}

/** Every path under `dir` with its size, to compare a tree before and after. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const p = join(e.parentPath, e.name);
    out.push(`${p.slice(dir.length)}${e.isFile() ? ` ${(await stat(p)).size}` : '/'}`);
  }
  return out.sort();
}

/** A TCP port on 127.0.0.1 that is taken while the returned server runs. */
async function takenPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe('a failed import leaves no store it created', () => {
  it('import har / import apigw / capture pcap / transform failing before the first record: no store, and the next run works', async () => {
    const badHar = join(tmp.dir, 'bad.har');
    await writeFile(badHar, '{"log": {"version": "1.2", "entries": [ {"request": 42} ]}}');
    const badApigw = join(tmp.dir, 'bad.ndjson');
    await writeFile(badApigw, '{"from": 1}\n');
    const badPcap = join(tmp.dir, 'bad.pcap');
    await writeFile(badPcap, Buffer.from('this is not a capture file at all, just text\n'));
    const brokenStore = join(tmp.dir, 'broken-store');
    await mkdir(join(brokenStore, 'segments'), { recursive: true });
    await writeFile(join(brokenStore, 'segments', '000001.ndjson.gz'), Buffer.from('not gzip at all'));
    const pipeline = join(tmp.dir, 'transforms.yaml');
    await writeFile(pipeline, 'steps:\n  - type: redact\n    headers: [authorization]\n');

    const out = (name: string): string => join(tmp.dir, name, 'new', 'store'); // with new parent directories
    const runs = await Promise.all([
      runCli(['import', 'har', badHar, '--out', out('har')]),
      runCli(['import', 'apigw', badApigw, '--out', out('apigw')]),
      runCli(['import', 'apigw', join(tmp.dir, 'missing.ndjson'), '--out', out('apigw-skip'), '--skip-invalid']),
      runCli(['capture', 'pcap', badPcap, '--out', out('pcap')]),
      runCli(['transform', brokenStore, '--out', out('transform'), '--with', pipeline]),
    ]);
    const codes = ['HAR_INVALID', 'APIGW_PAYLOAD_INVALID', 'INPUT_NOT_FOUND', 'PCAP_INVALID', 'STORE_CORRUPT'];
    runs.forEach((r, i) => {
      expect([i, r.code]).toEqual([i, 1]);
      expectOneLineError(r, codes[i]!);
    });
    for (const name of ['har', 'apigw', 'apigw-skip', 'pcap', 'transform']) expect([name, existsSync(join(tmp.dir, name))]).toEqual([name, false]);

    const again = await runCli(['import', 'har', sampleHar, '--out', out('har')]);
    expect(again.code).toBe(0);
    expect(await count(out('har'))).toBeGreaterThan(0);
  });

  it('a store that was there before is left exactly as it was; a plain directory gets back only what it held', async () => {
    const badHar = join(tmp.dir, 'bad.har');
    await writeFile(badHar, 'not json');
    const store = await writeSyntheticStore(tmp.dir, 25);
    const before = await tree(store);
    const emptyStore = join(tmp.dir, 'empty-store'); // a store with no records yet is still a store
    expect((await runCli(['import', 'har', sampleHar, '--out', emptyStore])).code).toBe(0);
    await writeExchanges([], emptyStore);
    const emptyBefore = await tree(emptyStore);
    const plain = join(tmp.dir, 'plain');
    await mkdir(plain);
    await writeFile(join(plain, 'NOTES.txt'), 'mine');

    const runs = await Promise.all([store, emptyStore, plain].map((dir) => runCli(['import', 'har', badHar, '--out', dir])));
    for (const r of runs) expectOneLineError(r, 'HAR_INVALID');
    expect(await tree(store)).toEqual(before);
    expect(await count(store)).toBe(25);
    expect(await tree(emptyStore)).toEqual(emptyBefore);
    expect(await tree(plain)).toEqual(['/NOTES.txt 4']);
  });

  it('capture ingest and capture proxy that cannot listen leave no store (nor dead-letter file) behind', async () => {
    const { port, server } = await takenPort();
    try {
      const ingest = runCli(['capture', 'ingest', '--listen', `127.0.0.1:${port}`, '--out', join(tmp.dir, 'ingest-store'), '--api-key-env', 'REPRISE_TEST_FAILED_KEY'], { env: { REPRISE_TEST_FAILED_KEY: 'k-123' } });
      const proxy = runCli(['capture', 'proxy', '--listen', `127.0.0.1:${port}`, '--upstream', 'http://127.0.0.1:9', '--out', join(tmp.dir, 'proxy-store')]);
      const [ri, rp] = await Promise.all([ingest, proxy]);
      for (const r of [ri, rp]) expect(expectOneLineError(r, 'CAPTURE_LISTEN')).toMatch(/EADDRINUSE/);
    } finally {
      server.close();
    }
    expect(await readdir(tmp.dir)).toEqual([]);
  });

  it('writeExchanges: a store that now holds something else (a dead-letter file) is kept, records or not', async () => {
    const dir = join(tmp.dir, 'kept');
    async function* deadLettersThenFail(): AsyncGenerator<Exchange> {
      await writeFile(join(dir, 'dead-letter.ndjson'), '{"problems":["x"]}\n');
      throw new Error('source failed');
    }
    await expect(writeExchanges(deadLettersThenFail(), dir)).rejects.toThrow('source failed');
    expect((await readdir(dir)).sort()).toEqual(['dead-letter.ndjson', 'manifest.json', 'segments']);
    expect(await count(dir)).toBe(0);

    const partial = join(tmp.dir, 'partial');
    async function* oneThenFail(): AsyncGenerator<Exchange> {
      yield syntheticExchange(0);
      throw new Error('later failure');
    }
    await expect(writeExchanges(oneThenFail(), partial)).rejects.toThrow('later failure');
    expect(await count(partial)).toBe(1); // what was captured is kept
    expect(JSON.parse(await readFile(join(partial, 'manifest.json'), 'utf8')).segments).toHaveLength(1);
  });
});
