import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../cli/main.js';
import { expectOneLineError, runCli, type CliResult } from '../../support/run-cli.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { writeStorePair } from './support/offline-stores.js';
import { startRelease, writeRecordedStore, type RunningRelease } from './support/release-servers.js';

/**
 * `reprise diff` as a user runs it. The exit-code and one-line-error checks
 * spawn the real executable; the rest call the same `main()` in-process (a
 * process start costs seconds on a loaded 2-core box, and this file must stay
 * fast) with stdout/stderr captured.
 */
async function runMain(args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const sink = (into: (s: string) => void): NodeJS.WritableStream => new Writable({ write: (c, _e, cb) => (into(String(c)), cb()) });
  const code = await main(args, { stdout: sink((x) => (stdout += x)), stderr: sink((x) => (stderr += x)), debug: false, log: pino({ level: 'silent' }) });
  return { code, stdout, stderr };
}

describe('reprise diff (CLI)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let stores: { left: string; right: string };
  let recorded: string;
  let a: RunningRelease;
  let b: RunningRelease;

  beforeAll(async () => {
    ({ dir, cleanup } = await makeTempDir('reprise-diff-cli-'));
    stores = await writeStorePair(dir, 20, { sameIds: true });
    recorded = await writeRecordedStore(join(dir, 'live-store'));
    [a, b] = await Promise.all([startRelease('A'), startRelease('B')]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await cleanup?.();
  });

  it('offline: prints the report, exits 4 on a high-risk finding (default threshold), writes all reports', async () => {
    const out = join(dir, 'out');
    const r = await runCli(['diff', '--left', stores.left, '--right', stores.right, '--report', out]);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/HIGH\s+\$\.legacy\s+missing\s+10\/10/);
    expect(r.stdout).toMatch(/Threshold "no high": FAILED \(1\)/);
    for (const f of ['diff-report.json', 'diff-junit.xml', 'diff-report.html']) expect(existsSync(join(out, f))).toBe(true);
    const json = JSON.parse(await readFile(join(out, 'diff-report.json'), 'utf8'));
    expect(json.totals).toMatchObject({ high: 1, medium: 1, low: 2 });
    expect(json.thresholds).toEqual([{ threshold: 'no high', actual: 1, passed: false }]);
  });

  it('thresholds set the exit code', async () => {
    const base = ['diff', '--left', stores.left, '--right', stores.right];
    expect((await runMain([...base, '--threshold', 'max_high=1, max_medium=1'])).code).toBe(0);
    expect((await runMain([...base, '--threshold', 'none'])).code).toBe(0);
    expect((await runMain([...base, '--threshold', 'max_low=1'])).code).toBe(4);
    expect((await runMain([...base, '--ignore', '$.legacy'])).code).toBe(0);
    // A rules file: its thresholds apply unless --threshold is given; flags add to its lists.
    const rulesFile = join(dir, 'diff.yaml');
    await writeFile(rulesFile, "ignore: ['$.legacy']\nthresholds: ['no diff']\n");
    const fromFile = await runMain([...base, '--rules', rulesFile]);
    expect(fromFile.code).toBe(4);
    expect(fromFile.stdout).toMatch(/Threshold "no diff": FAILED \(3\)/);
    expect((await runMain([...base, '--rules', rulesFile, '--ignore', '$.email', '--ignore', 'header.x-served-*'])).code).toBe(0);
    const json = await runMain([...base, '--json', '--threshold', 'no diff']);
    expect(json.code).toBe(4);
    expect(JSON.parse(json.stdout).thresholds[0]).toMatchObject({ threshold: 'no diff', actual: 4, passed: false });
  });

  it('live: replays the store against both releases', async () => {
    const r = await runMain(['diff', recorded, '--baseline', a.url, '--candidate', b.url, '--threshold', 'max_high=3']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/48 pairs compared/);
    expect(r.stdout).toMatch(/GET \/health[\s\S]*HIGH\s+status\s+status/);
    expect(r.stdout).toMatch(/skipped 1: method POST not allowed/);
  });

  it('bad input: one line, a stable code, no stack', async () => {
    // The real executable: exit code 1, one line, no stack.
    const spawned = await runCli(['diff', recorded, '--baseline', 'ftp://x', '--candidate', b.url]);
    expect(spawned.code).toBe(1);
    expectOneLineError(spawned, 'DIFF_TARGET_INVALID');
    // Credentials in a target URL are refused, and never echoed.
    const creds = expectOneLineError(await runMain(['diff', recorded, '--baseline', 'http://user:s3cr3t@127.0.0.1:1', '--candidate', b.url]), 'DIFF_TARGET_INVALID');
    expect(creds).not.toContain('s3cr3t');
    expectOneLineError(await runMain(['diff', recorded, '--baseline', a.url, '--candidate', a.url]), 'DIFF_TARGET_INVALID');
    expectOneLineError(await runMain(['diff', '--left', stores.left, '--right', stores.right, '--threshold', 'fewer highs']), 'DIFF_THRESHOLD_INVALID');
    expectOneLineError(await runMain(['diff', '--left', stores.left, '--right', stores.right, '--array', '$.x=bag']), 'DIFF_OPTIONS_INVALID');
    expectOneLineError(await runMain(['diff', '--left', stores.left, '--right', stores.right, '--tolerance', 'abc']), 'DIFF_OPTIONS_INVALID');
    expectOneLineError(await runMain(['diff', '--left', join(dir, 'nope'), '--right', stores.right]), 'STORE_NOT_FOUND');
    const usage = await runMain(['diff', '--left', stores.left]);
    expect(usage.code).toBe(2);
    expectOneLineError(usage, 'CLI_USAGE');
    expect((await runMain(['diff', recorded])).code).toBe(2);
    // Flags of the other mode are refused by name, not silently dropped.
    const offline = ['diff', '--left', stores.left, '--right', stores.right];
    for (const flag of [['--limit', '5'], ['--concurrency', '2'], ['--allow-method', 'POST'], ['--baseline2', a.url], ['--set-header', 'Authorization: Bearer t0ken'], ['--timeout-ms', '500'], ['--secrets-file', join(dir, 'secrets.env')]]) {
      const r = await runMain([...offline, ...flag]);
      expect(r.code).toBe(2);
      const line = expectOneLineError(r, 'CLI_USAGE');
      expect(line).toContain(`${flag[0]} is for a live diff`);
      expect(line).not.toContain('t0ken');
    }
    const both = expectOneLineError(await runMain([...offline, '--limit', '5', '--baseline2', a.url]), 'CLI_USAGE');
    expect(both).toMatch(/--baseline2, --limit are for a live diff/);
    // …and the reverse: --left/--right beside a live diff.
    expect(expectOneLineError(await runMain(['diff', recorded, '--baseline', a.url, '--candidate', b.url, '--left', stores.left, '--right', stores.right]), 'CLI_USAGE')).toMatch(/not both/);
    // A closed port: every request is refused, so the run stops and names the target.
    const port = await freePort();
    const down = await runMain(['diff', recorded, '--baseline', `http://127.0.0.1:${port}`, '--candidate', b.url]);
    expect(down.code).toBe(1);
    expect(expectOneLineError(down, 'DIFF_TARGET_UNREACHABLE')).toMatch(/--baseline http:\/\/127\.0\.0\.1:\d+: all \d+ requests failed \(first: error: refused\)/);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
