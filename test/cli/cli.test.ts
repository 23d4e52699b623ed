import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStoreWriter } from '../../store/segment-writer.js';
import { syntheticExchange, writeSyntheticStore } from '../support/synthetic-exchange.js';
import { makeTempDir } from '../support/temp-dir.js';
import { expectOneLineError, runCli } from '../support/run-cli.js';
import { firstSentence } from '../../cli/main.js';

const sampleHar = fileURLToPath(new URL('../fixtures/har/sample-api.har', import.meta.url));
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => { tmp = await makeTempDir(); });
afterEach(async () => { await tmp.cleanup(); });

const writeStore = (n: number): Promise<string> => writeSyntheticStore(tmp.dir, n);

describe('reprise CLI', () => {
  it('--help lists the commands, and every command has its own --help', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['store inspect', 'store cat', 'import har', 'export har', 'export md']) expect(top.stdout).toContain(c);
    const sub = await runCli(['store', 'cat', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('--status');
    // Each command's line is its summary's first sentence, whole ("e.g." does not end it).
    expect(top.stdout).toContain('(a file, or - for stdin, e.g. a live `tcpdump -w -`) into exchanges in a store\n');
  });

  it('the command list shows a summary up to its first full stop', () => {
    expect(firstSentence('Run a thing. More detail.')).toBe('Run a thing');
    expect(firstSentence('Read a file (e.g. a pcap, i.e. bytes) into a store.')).toBe('Read a file (e.g. a pcap, i.e. bytes) into a store');
    expect(firstSentence('No full stop at all')).toBe('No full stop at all');
    expect(firstSentence('Version 1.2 of the format. Then more.')).toBe('Version 1.2 of the format');
  });

  it('a misspelt flag is answered with the flag it most likely meant', async () => {
    const r = await runCli(['store', 'inspect', 'x', '--josn']);
    expect(r.code).toBe(2);
    expectOneLineError(r, 'CLI_USAGE');
    expect(r.stderr).toContain("Unknown option '--josn' (did you mean --json?)");
    // An abbreviation of exactly one option names it; of several, none.
    expect((await runCli(['store', 'inspect', 'x', '--to'])).stderr).toContain("Unknown option '--to' (did you mean --top?)");
    expect((await runCli(['store', 'inspect', 'x', '--s3'])).stderr).toMatch(/Unknown option '--s3'\n$/);
  });

  it('a numeric flag that is not a positive whole number is a usage error, not NaN or a rounding', async () => {
    const store = await writeStore(5);
    for (const args of [['store', 'cat', store, '--limit', 'abc'], ['store', 'cat', store, '--limit', '2.5'], ['store', 'inspect', store, '--top', 'x']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expectOneLineError(r, 'CLI_USAGE');
      expect(r.stdout).toBe('');
    }
    expect((await runCli(['store', 'cat', store, '--limit', '2'])).stdout.trim().split('\n')).toHaveLength(2);
  });

  it('an unknown flag or command is a one-line usage error, exit 2', async () => {
    const r = await runCli(['store', 'inspect', '--bogus', 'x']);
    expect(r.code).toBe(2);
    expectOneLineError(r, 'CLI_USAGE');
    const r2 = await runCli(['frobnicate']);
    expect(r2.code).toBe(2);
    expectOneLineError(r2, 'CLI_USAGE');
    // parseArgs words this one over three lines
    const r3 = await runCli(['store', 'cat', 'x', '--limit', '-1']);
    expect(r3.code).toBe(2);
    expectOneLineError(r3, 'CLI_USAGE');
    expect(r3.stderr).toContain("use '--limit=-XYZ'");
  });

  it('import har → store inspect → store cat → export har / md', async () => {
    const store = join(tmp.dir, 'store');
    const imp = await runCli(['import', 'har', sampleHar, '--out', store]);
    expect(imp.stderr).toBe('');
    expect(imp.code).toBe(0);
    const n = Number(/imported (\d+)/.exec(imp.stdout)?.[1]);
    expect(n).toBeGreaterThan(10);

    const ins = await runCli(['store', 'inspect', store, '--json']);
    expect(ins.code).toBe(0);
    const summary = JSON.parse(ins.stdout);
    expect(summary.exchanges).toBe(n);
    expect(summary.topEndpoints.some((e: { endpoint: string }) => e.endpoint.includes(':id'))).toBe(true);

    const text = await runCli(['store', 'inspect', store]);
    expect(text.stdout).toMatch(/exchanges\s+\d+/);
    expect(text.stdout).toContain('top endpoints');

    const cat = await runCli(['store', 'cat', store, '--method', 'GET', '--status', '2xx']);
    const lines = cat.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((x) => x.request.method === 'GET' && x.response.status < 300)).toBe(true);

    const har = join(tmp.dir, 'out.har');
    expect((await runCli(['export', 'har', store, '--out', har])).code).toBe(0);
    expect(JSON.parse(await readFile(har, 'utf8')).log.entries).toHaveLength(n);

    const md = join(tmp.dir, 'md');
    expect((await runCli(['export', 'md', store, '--out', md])).code).toBe(0);
    expect((await readdir(md)).length).toBe(n + 1);
  });

  it('a missing store path: one line naming the path, exit 1', async () => {
    const missing = join(tmp.dir, 'no-such-store');
    const r = await runCli(['store', 'inspect', missing]);
    expect(r.code).toBe(1);
    expect(expectOneLineError(r, 'STORE_NOT_FOUND')).toContain(missing);
  });

  it('a truncated gzip segment: one line naming file and byte offset, exit 1', async () => {
    const store = await writeStore(3000);
    const seg = join(store, 'segments', '000001.ndjson.gz');
    await truncate(seg, Math.floor((await stat(seg)).size / 2));
    const r = await runCli(['store', 'cat', store]);
    expect(r.code).toBe(1);
    expect(expectOneLineError(r, 'STORE_CORRUPT')).toMatch(/000001\.ndjson\.gz at byte \d+: segment is truncated/);
  });

  it('a line that fails the schema: one line naming file:line, exit 1', async () => {
    const store = await writeStore(5);
    const { gzipSync, gunzipSync } = await import('node:zlib');
    const seg = join(store, 'segments', '000001.ndjson.gz');
    const lines = gunzipSync(await readFile(seg)).toString().split('\n');
    lines[3] = lines[3]!.replace(/"status":\d+/, '"status":"OK"');
    await writeFile(seg, gzipSync(lines.join('\n')));
    const r = await runCli(['store', 'cat', store]);
    expect(r.code).toBe(1);
    expect(expectOneLineError(r, 'STORE_SCHEMA')).toMatch(/000001\.ndjson\.gz:4: .*response\.status/);
  });

  it('a malformed HAR: one line naming file:line, exit 1, nothing half-imported lost', async () => {
    const bad = join(tmp.dir, 'bad.har');
    await writeFile(bad, '{\n  "log": {\n    "entries": [\n      { "request": { "method": "GET", ,\n');
    const r = await runCli(['import', 'har', bad, '--out', join(tmp.dir, 's')]);
    expect(r.code).toBe(1);
    expect(expectOneLineError(r, 'HAR_INVALID')).toMatch(/bad\.har:\d+/);
  });

  it('a bad filter value is a one-line FILTER_INVALID', async () => {
    const store = await writeStore(3);
    const r = await runCli(['store', 'cat', store, '--status', 'teapot']);
    expect(r.code).toBe(1);
    expectOneLineError(r, 'FILTER_INVALID');
  });
});
