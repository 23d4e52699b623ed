import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { main } from '../../cli/main.js';
import type { Exchange } from '../../store/exchange.js';
import { readExchanges } from '../../store/segment-reader.js';
import { expectOneLineError, runCli, type CliResult } from '../support/run-cli.js';
import { makeTempDir } from '../support/temp-dir.js';
import { fixtureExchange, startTarget, writeFixtureStore, type TestTarget } from './replay-fixture.js';

/**
 * `reprise replay` as a user runs it, against a real target on loopback. The
 * exit-code test spawns the real executable; the others call the same
 * `main()` in-process (a process start costs seconds on a loaded 2-core box,
 * and this file must stay fast) with its stdout/stderr captured.
 */

async function runMain(args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const sink = (into: (s: string) => void): NodeJS.WritableStream => new Writable({ write: (c, _e, cb) => (into(String(c)), cb()) });
  const log = pino({ level: 'silent' });
  const code = await main(args, { stdout: sink((x) => (stdout += x)), stderr: sink((x) => (stderr += x)), debug: false, log });
  return { code, stdout, stderr };
}

let dir: string;
let store: string;
let target: TestTarget;
let cleanup: () => Promise<void>;
const seenHeaders: string[][] = [];

beforeAll(async () => {
  const tmp = await makeTempDir('reprise-replay-cli-');
  dir = tmp.dir;
  cleanup = tmp.cleanup;
  store = await writeFixtureStore(dir, 40, 5_000);
  target = await startTarget((req, res) => {
    seenHeaders.push(req.rawHeaders);
    res.end('ok');
  });
});
afterAll(async () => {
  await target.close();
  await cleanup();
});

describe('reprise replay (CLI)', () => {
  it('--dry-run prints the plan and sends nothing', async () => {
    const before = seenHeaders.length;
    const r = await runMain(['replay', store, '--target', target.url, '--speed', '2', '--amplify', '3', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^plan: 120 sends of 40 recorded exchanges over 0\.\d+ s/);
    expect(r.stdout).toMatch(/second {2}sends\n {5}0 {2}120\n/);
    const json = await runMain(['replay', store, '--target', target.url, '--profile', await profileFile('type: constant\nrate: 20\nduration: 3\n'), '--dry-run', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ sends: 60, perSecond: [20, 20, 20] });
    expect(seenHeaders.length).toBe(before);
  });

  it('--dry-run shows the plan the run would send: excluded methods left out, a refused target refused', async () => {
    const r = await runMain(['replay', store, '--target', target.url, '--exclude-methods', 'POST,PUT', '--dry-run', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ sends: 24, exchanges: 24 }); // 40 recorded, 16 POST/PUT
    const prod = await runMain(['replay', store, '--target', 'https://api.recorded.test', '--dry-run']);
    expect(prod.code).toBe(1);
    expect(prod.stderr).toMatch(/^reprise: REPLAY_RECORDED_HOST: /);
    const outside = await runMain(['replay', store, '--target', target.url, '--allow-host', 'staging.internal', '--dry-run']);
    expect(outside.stderr).toMatch(/^reprise: REPLAY_TARGET_NOT_ALLOWED: /);
  });

  it('a failed threshold exits 3 and the reports are written; headers are set and never printed', async () => {
    const out = join(dir, 'report');
    const r = await runCli(['replay', store, '--target', target.url, '--speed', '4', '-H', 'Authorization: Bearer s3cr3t-token', '--threshold', 'p99<1us', '--threshold', 'error_rate<1%', '--report', out, '-q']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/FAIL\s+p99<1us/);
    expect(r.stdout).toMatch(/PASS\s+error_rate<1%/);
    const last = seenHeaders.at(-1)!;
    expect(last[last.indexOf('Authorization') + 1]).toBe('Bearer s3cr3t-token');
    const files = await Promise.all(['summary.json', 'junit.xml', 'report.html'].map((f) => readFile(join(out, f), 'utf8')));
    expect(JSON.parse(files[0]!)).toBeTypeOf('object');
    for (const text of [r.stdout, r.stderr, ...files]) expect(text).not.toContain('s3cr3t-token');
  });

  it('rate>=0.99*target means the same with and without --report (target is the rate the sends were planned at)', async () => {
    // Ten sends 100 ms apart: a plan short enough that counting n sends over n − 1 gaps is 11% off.
    const short = await writeFixtureStore(dir, 10, 100_000, 'ten-sends');
    const limits: unknown[] = [];
    for (const report of [[], ['--report', join(dir, 'rate-report')]]) {
      const r = await runMain(['replay', short, '--target', target.url, '--threshold', 'rate>=0.5*target', '--json', ...report]);
      expect(r.code).toBe(0);
      limits.push(JSON.parse(r.stdout).thresholds[0].limit);
    }
    expect(limits[0]).toBeCloseTo(5, 6);
    expect(limits[1]).toBe(limits[0]);
  });

  it('an unwritable --report directory fails before anything is sent, not after the run', async () => {
    const before = seenHeaders.length;
    const file = join(dir, 'a-file');
    await writeFile(file, 'not a directory');
    const r = await runMain(['replay', store, '--target', target.url, '--report', join(file, 'out'), '-q']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^reprise: OUTPUT_UNWRITABLE: .*a-file\/out: cannot write replay reports: ENOTDIR/);
    expect(seenHeaders.length).toBe(before);
  });

  it('--record-out into a store that already holds exchanges: one-line STORE_EXISTS, nothing sent; --append adds to it', async () => {
    const out = join(dir, 'replayed-twice');
    const short = await writeFixtureStore(dir, 3, 1_000, 'three-sends');
    expect((await runMain(['replay', short, '--target', target.url, '--record-out', out, '-q'])).code).toBe(0);
    const before = seenHeaders.length;
    const again = await runMain(['replay', short, '--target', target.url, '--record-out', out, '-q']);
    expect(again.code).toBe(1);
    expect(expectOneLineError(again, 'STORE_EXISTS')).toMatch(/replayed-twice: the --record-out store already holds exchanges .*--append/);
    expect(seenHeaders.length).toBe(before);
    expect((await runMain(['replay', short, '--target', target.url, '--record-out', out, '--append', '-q'])).code).toBe(0);
    expect(seenHeaders.length).toBe(before + 3);
    const stray = await runMain(['replay', short, '--target', target.url, '--append', '-q']);
    expect(stray.code).toBe(2);
    expect(expectOneLineError(stray, 'CLI_USAGE')).toMatch(/--append .*--record-out/);
    const strayRedact = await runMain(['replay', short, '--target', target.url, '--no-redact', '-q']);
    expect(expectOneLineError(strayRedact, 'CLI_USAGE')).toMatch(/--no-redact applies to the --record-out store/);
  });

  it('--record-out redacts the secret headers and --redact-header ones, as capture does', async () => {
    const out = join(dir, 'replayed-redacted');
    const short = await writeFixtureStore(dir, 3, 1_000, 'three-more');
    const r = await runMain(['replay', short, '--target', target.url, '--record-out', out, '--redact-header', 'X-Trace', '--header', 'Authorization: Bearer cli-live-token', '-q']);
    expect(r.code).toBe(0);
    const stored: Exchange[] = [];
    for await (const ex of readExchanges(out)) stored.push(ex);
    expect(stored).toHaveLength(3);
    for (const ex of stored) {
      expect(ex.request.headers).toContainEqual(['Authorization', 'Bearer [REDACTED]']);
      expect(ex.request.headers.find(([n]) => n === 'X-Trace')?.[1]).toBe('[REDACTED]');
    }
  });

  it('the progress line has its bar (planned total) without --report: from the manifests, or from the profile', async () => {
    const bar = (r: CliResult): string | undefined => /^progress: (\[#+\] 100% {2}\S+)/m.exec(r.stderr)?.[1];
    expect(bar(await runMain(['replay', store, '--target', target.url, '--speed', '8', '--amplify', '2']))).toBe('[########################] 100%  80/80');
    expect(bar(await runMain(['replay', store, '--target', target.url, '--speed', '8', '--exclude-methods', 'POST,PUT']))).toBe('[########################] 100%  24/24');
    const profile = await profileFile('type: ramp\nfrom: 0\nto: 40\nduration: 1\n');
    expect(bar(await runMain(['replay', store, '--target', target.url, '--profile', profile]))).toBe('[########################] 100%  20/20');
  });

  it('the summary says why sends failed: one example message per error kind', async () => {
    const templated = await writeFixtureStore(dir, 3, 1_000, 'templated', (i, gap) => {
      const ex = fixtureExchange(i, gap);
      ex.request.query = 'k=${REPRISE_TEST_NEVER_SET}';
      ex.meta = { replay: { templates: ['request.query'] } };
      return ex;
    });
    const r = await runMain(['replay', templated, '--target', target.url, '-q']);
    expect(r.stdout).toMatch(/^errors {6}3 \(100%\): other 3\n {12}e\.g\. other: .*\$\{REPRISE_TEST_NEVER_SET\} has no value/m);
    const json = await runMain(['replay', templated, '--target', target.url, '--json']);
    expect(JSON.parse(json.stdout).errorExamples.other).toMatch(/REPRISE_TEST_NEVER_SET/);
    // With --workers the results stay in the worker processes; the examples come back with their summaries.
    const sharded = await runMain(['replay', templated, '--target', target.url, '--workers', '2', '-q']);
    expect(sharded.stdout).toMatch(/^errors {6}3 \(100%\): other 3\n {12}e\.g\. other: .*\$\{REPRISE_TEST_NEVER_SET\} has no value/m);
  });

  it('passing thresholds exit 0; --json prints the metrics', async () => {
    const r = await runMain(['replay', store, '--target', target.url, '--speed', '4', '--threshold', 'error_rate<1%', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.metrics.overall).toMatchObject({ requests: 40, completed: 40 });
    expect(j.thresholds[0]).toMatchObject({ passed: true });
  });

  it('--workers 2 splits the run over two processes; the summary covers both', async () => {
    const r = await runMain(['replay', store, '--target', target.url, '--speed', '4', '--workers', '2', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ mode: 'timed', workers: 2 });
    expect(j.metrics.overall).toMatchObject({ requests: 40, completed: 40 });
    const bad = await runMain(['replay', store, '--target', target.url, '--workers', '2', '--record-out', join(dir, 'x'), '-q']);
    expect(expectOneLineError(bad, 'REPLAY_OPTIONS_INVALID')).toMatch(/--record-out/);
  });

  it('--max --workers 2 drives the connections from two processes; one summary, autocannon totals summed', async () => {
    const r = await runMain(['replay', store, '--target', target.url, '--max', '--connections', '4', '--duration', '1s', '--workers', '2', '--threshold', 'error_rate<1%', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ mode: 'max', workers: 2, mix: 40 });
    expect(j.autocannon.requests).toBeGreaterThan(20);
    expect(j.metrics.overall.completed).toBeGreaterThanOrEqual(j.autocannon.requests);
    expect(j.thresholds[0]).toMatchObject({ passed: true });
  });

  it('bad input: one line, the right code, exit 1 or 2, no stack', async () => {
    const profile = await profileFile('type: spike\nbase: 1\npeak: lots\nduration: 5\nat: 1\nspikeDuration: 1\n');
    const cases: Array<[string[], string, RegExp]> = [
      [['--profile', profile], 'REPLAY_PROFILE_INVALID', /profile-\d+\.yaml:3:7: peak: must be a number/],
      [['--speed', 'fast'], 'REPLAY_OPTIONS_INVALID', /--speed "fast"/],
      // Absurd values are refused at once rather than planned for hours (amplify) or decades (speed).
      [['--amplify', '1000000000', '--dry-run'], 'REPLAY_OPTIONS_INVALID', /--amplify "1000000000": must be from 1 to 10000$/],
      [['--speed', '0.000000001', '--dry-run'], 'REPLAY_OPTIONS_INVALID', /--speed "0\.000000001": must be from 0\.001 to 1000000$/],
      [['--loop', '--duration', '31d', '--dry-run'], 'REPLAY_OPTIONS_INVALID', /--duration "31d": must be at most 30d$/],
      [['--header', 'no colon'], 'CLI_USAGE', /--header/],
      [['--threshold', 'p99<<3'], 'REPLAY_THRESHOLD_INVALID', /p99<<3/],
      [['--loop', '--duration', '10 parsecs'], 'REPLAY_OPTIONS_INVALID', /--duration "10 parsecs"/],
    ];
    const prod = await runMain(['replay', store, '--target', 'http://api.recorded.test:1', '-q']);
    const missing = await runMain(['replay', join(dir, 'nope'), '--target', target.url, '-q']);
    const runs: CliResult[] = [];
    for (const [args] of cases) runs.push(await runMain(['replay', store, '--target', target.url, '-q', ...args]));
    cases.forEach(([args, code, want], i) => {
      expect(runs[i]!.code, args.join(' ')).toBe(code === 'CLI_USAGE' ? 2 : 1);
      expect(expectOneLineError(runs[i]!, code)).toMatch(want);
    });
    expect(expectOneLineError(prod, 'REPLAY_RECORDED_HOST')).toMatch(/--allow-recorded-host/);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});

let profiles = 0;
async function profileFile(text: string): Promise<string> {
  const f = join(dir, `profile-${++profiles}.yaml`);
  await writeFile(f, text);
  return f;
}
