import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RepriseError } from '../../errors.js';
import { mergeSnapshots, ReplayMetrics, type LiveStats } from '../../replay/metrics/replay-metrics.js';
import { formatReplaySummary } from '../../replay/report/format-summary.js';
import { buildJunitXml } from '../../replay/report/junit-xml.js';
import { formatProgressLine, startProgress } from '../../replay/report/progress.js';
import { safeOptions, safeTarget } from '../../replay/report/report-input.js';
import type { ReplaySummaryJson } from '../../replay/report/summary-json.js';
import { writeReplayReports } from '../../replay/report/write-reports.js';
import { evaluateThresholds } from '../../replay/thresholds/evaluate-thresholds.js';
import { parseThresholds } from '../../replay/thresholds/parse-threshold.js';
import { makeTempDir } from '../support/temp-dir.js';
import { FIXTURE_THRESHOLDS, fixtureReportInput, fixtureResults } from './report-fixture.js';

const run = promisify(execFile);
const XSD = fileURLToPath(new URL('./report-junit.xsd', import.meta.url));
const XMLLINT = ['/usr/bin/xmllint', '/usr/local/bin/xmllint'].find((p) => existsSync(p));

/** Validates against the committed JUnit schema with libxml2's xmllint (installed by .ci/run). */
async function expectValidJunit(path: string): Promise<void> {
  if (!XMLLINT) {
    console.warn('skipping JUnit schema validation: xmllint not installed (Debian package libxml2-utils)');
    return;
  }
  const r = await run(XMLLINT, ['--noout', '--schema', XSD, path]).catch((err: { stderr: string }) => ({ stderr: err.stderr, failed: true }));
  expect(r.stderr).toMatch(/validates/);
  expect('failed' in r).toBe(false);
}

describe('formatReplaySummary', () => {
  const input = fixtureReportInput();
  const text = formatReplaySummary(input);
  const o = input.snapshot.overall;

  it('shows counts, planned vs achieved rate, both latencies, lag, status mix, errors by kind and bytes', () => {
    expect(text).toContain('reprise replay → http://127.0.0.1:8080   started 2026-11-23T12:00:00.000Z');
    expect(text).toContain('4,000 planned · 4,000 scheduled · 3,999 sent');
    expect(text).toContain(`1 dropped · ${o.late.toLocaleString('en-US')} late (>1ms)`);
    expect(text).toMatch(/rate {8}planned 200\/s · achieved 200\/s \(99\.98% of plan\) · plan peak 200\/s/);
    // The 1 s stall at 8 s: nothing sent in that second.
    expect(text).toMatch(/rate error per second: max 100% \(at 8s\) · mean [\d.]+% over 19/);
    // The stall: the corrected p99 is hundreds of ms, the uncorrected one tens.
    expect(text).toMatch(/corrected {4}p50 [\d.]+ms {2}p90 [\d.]+ms {2}p99 8\d\d(\.\d)?ms/);
    expect(text).toMatch(/uncorrected {2}p50 [\d.]+ms {2}p90 [\d.]+ms {2}p99 \d\d(\.\d+)?ms/);
    expect(text).toMatch(/lag {9}p50 \d+µs {2}p99 8\d\d(\.\d)?ms {2}max 1s/);
    expect(text).toContain(`2xx 96.95% (3,878) · 4xx 1.275% (51) · 5xx 1.625% (65)`);
    expect(text).toContain('errors      6 (0.15%): timeout 5 · dropped 1');
    expect(text).toMatch(/bytes {7}sent 702\.9 KiB · received 4\.571 MiB/);
  });

  it('lists endpoints by requests and each threshold with its verdict', () => {
    const rows = text.split('\n').filter((l) => /^ {2}(GET|POST) /.test(l));
    expect(rows.map((r) => r.trim().split(/ {2,}/)[0])).toEqual(['GET /users/:id', 'GET /search', 'POST /orders', 'GET /health']);
    expect(text).toContain('thresholds  2 of 5 FAILED');
    expect(text).toMatch(/ {2}FAIL {2}p99<250ms +p99 = 8\d\d(\.\d)?ms, limit < 250ms/);
    expect(text).toMatch(/ {2}PASS {2}rate>=0\.99\*target +rate = 200\/s, limit >= 198\/s \(0\.99×target 200\/s\)/);
    expect(text).toMatch(/ {2}FAIL {2}lag_p99<1ms/);
  });

  it('caps the endpoint table at 10 and says how many there are; an empty run still prints', () => {
    const m = new ReplayMetrics();
    for (let i = 0; i < 30; i++) m.record({ ...fixtureResults()[i]!, endpoint: `GET /e${i}` });
    const many = formatReplaySummary(fixtureReportInput({ snapshot: m.snapshot(), thresholds: [] }));
    expect(many).toContain('top 10 of 30 by requests');
    expect(many.split('\n').filter((l) => l.startsWith('  GET /e'))).toHaveLength(10);
    expect(many).not.toContain('thresholds');
    const empty = formatReplaySummary(fixtureReportInput({ snapshot: new ReplayMetrics().snapshot(), thresholds: [], plan: undefined }));
    expect(empty).toContain('latency     corrected    no samples');
    expect(empty).toContain('status      no responses');
  });
});

describe('startProgress', () => {
  class Sink extends Writable {
    chunks: string[] = [];
    isTTY: boolean;
    columns = 200;
    constructor(tty: boolean) {
      super();
      this.isTTY = tty;
    }
    override _write(chunk: Buffer, _enc: string, cb: () => void): void {
      this.chunks.push(chunk.toString());
      cb();
    }
  }
  let requests = 0;
  const live = (): LiveStats => ({ requests, sent: requests, completed: requests - 2, errors: 2, dropped: 0, late: 3, p99Us: 12_300, lastDoneUs: 0, recentRate: 998, inFlight: 17 });
  beforeEach(() => {
    requests = 0;
  });

  it('formats rate, in flight, errors, late and p99, with a bar when the total is known', () => {
    requests = 500;
    expect(formatProgressLine(live(), 1000)).toBe('[############............]  50%  500/1,000  rate 998/s  in flight 17  errors 2  late 3  p99 12.3ms');
    expect(formatProgressLine(live())).toBe('500 requests  rate 998/s  in flight 17  errors 2  late 3  p99 12.3ms');
    // A looped or --max run: no planned total, but a duration; the bar is the time gone, never past 100%.
    expect(formatProgressLine(live(), undefined, { elapsedMs: 15_400, durationMs: 60_000 })).toBe('[######..................]  26%  15s/60s  500 requests  rate 998/s  in flight 17  errors 2  late 3  p99 12.3ms');
    expect(formatProgressLine(live(), undefined, { elapsedMs: 61_000, durationMs: 60_000 })).toMatch(/^\[#{24}\] 100% {2}60s\/60s /);
    expect(formatProgressLine(live(), 1000, { elapsedMs: 1, durationMs: 60_000 })).toMatch(/ 500\/1,000 /);
  });

  it('redraws one line in place on a terminal, several times a second, and ends it on stop', async () => {
    const sink = new Sink(true);
    const p = startProgress(sink, live, 1000, { ttyIntervalMs: 20 });
    for (let i = 1; i <= 5; i++) {
      requests = i * 100;
      await new Promise((r) => setTimeout(r, 30));
    }
    p.stop();
    p.stop();
    const out = sink.chunks.join('');
    expect(sink.chunks.length).toBeGreaterThanOrEqual(5);
    expect(out.endsWith('\n')).toBe(true);
    expect(out.split('\n')).toHaveLength(2);
    expect(sink.chunks.every((c) => c === '\n' || (c.startsWith('\r') && c.endsWith('\x1b[K')))).toBe(true);
    expect(sink.chunks.at(-2)).toContain('500/1,000');
  });

  it('logs structured progress through pino when given a logger and not on a terminal', async () => {
    const sink = new Sink(false);
    const logSink = new Sink(false);
    requests = 250;
    const p = startProgress(sink, live, 1000, { logIntervalMs: 25, log: pino({ base: undefined }, logSink) });
    await new Promise((r) => setTimeout(r, 60));
    p.stop();
    expect(sink.chunks).toEqual([]);
    const records = logSink.chunks.join('').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.length).toBeGreaterThanOrEqual(2);
    expect(records[0]).toMatchObject({ level: 30, requests: 250, plannedTotal: 1000, rate: 998, inFlight: 17, errors: 2, late: 3, p99Us: 12_300 });
    expect(records[0]!.msg).toMatch(/^progress: \[######/);
  });

  it('writes a plain line every interval when not a terminal', async () => {
    const sink = new Sink(false);
    const p = startProgress(sink, live, undefined, { logIntervalMs: 25 });
    await new Promise((r) => setTimeout(r, 90));
    p.stop();
    const lines = sink.chunks.join('').trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.every((l) => l.startsWith('progress: ') && !l.includes('\r') && !l.includes('\x1b'))).toBe(true);
  });

  it('a run stopped before its first request (it failed to start) leaves no line in a log; a short run leaves its final one', () => {
    const failed = new Sink(false);
    startProgress(failed, live, undefined, { logIntervalMs: 5000 }).stop();
    expect(failed.chunks).toEqual([]);
    const short = new Sink(false);
    const p = startProgress(short, live, undefined, { logIntervalMs: 5000 });
    requests = 40;
    p.stop();
    expect(short.chunks).toEqual(['progress: 40 requests  rate 998/s  in flight 17  errors 2  late 3  p99 12.3ms\n']);
  });
});

describe('writeReplayReports', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir('reprise-report-'));
  });
  afterEach(() => cleanup());

  it('writes summary.json (versioned, mergeable histograms), junit.xml (valid) and report.html, with no secrets', async () => {
    const input = fixtureReportInput({ target: 'http://ci:hunter2@127.0.0.1:8080/?api_key=abc&page=2' });
    const files = await writeReplayReports(join(dir, 'out'), input);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['out/summary.json', 'out/junit.xml', 'out/report.html']);

    const json = JSON.parse(await readFile(files[0]!, 'utf8')) as ReplaySummaryJson;
    expect(json).toMatchObject({ format: 'reprise-replay-summary', version: 1, passed: false, plan: { sends: 4000, meanRate: 200 } });
    expect(json.plannedPerSecond).toHaveLength(20);
    expect(json.thresholds.map((t) => [t.expression, t.passed])).toEqual([
      ['p99<250ms', false],
      ['error_rate<5%', true],
      ['rate>=0.99*target', true],
      ['endpoint[GET /search].p50<100ms', true],
      ['lag_p99<1ms', false],
    ]);
    expect(json.options).toEqual({ speed: 10, amplify: 1, concurrency: 256, headers: '[redacted]', vars: '[redacted]' });
    // The histograms in the file are the real ones: merging the file's metrics reproduces the percentiles.
    const again = mergeSnapshots([json.metrics]);
    expect(again.overall.latency).toEqual(input.snapshot.overall.latency);
    expect(again.endpoints['GET /search']!.uncorrected).toEqual(input.snapshot.endpoints['GET /search']!.uncorrected);

    await expectValidJunit(files[1]!);
    const junit = await readFile(files[1]!, 'utf8');
    expect(junit).toContain('<testsuites name="reprise replay" tests="5" failures="2" errors="0"');
    expect(junit.match(/<testcase /g)).toHaveLength(5);
    expect(junit.match(/<failure /g)).toHaveLength(2);

    for (const f of files) {
      const text = await readFile(f, 'utf8');
      expect(text).not.toContain('SECRET');
      expect(text).not.toContain('hunter2');
      expect(text).not.toContain('abc&');
    }
    expect(json.target).toBe('http://ci:[redacted]@127.0.0.1:8080/?api_key=[redacted]&page=2');
  });

  it('escapes hostile endpoint names and expressions: the JUnit file still validates, the HTML holds no live markup', async () => {
    const evil = 'GET /a"><script>alert(1)</script>&\u0001\'/x]y';
    const m = new ReplayMetrics();
    for (const r of fixtureResults().slice(0, 200)) m.record({ ...r, endpoint: evil });
    const snapshot = m.snapshot();
    const thresholds = evaluateThresholds(parseThresholds([`endpoint[${evil.replace('\u0001', '')}].p99<1ms`, 'p50<1s']), snapshot, { targetRate: 200 });
    const files = await writeReplayReports(dir, fixtureReportInput({ snapshot, thresholds, target: 'http://127.0.0.1:1/<b>' }));
    await expectValidJunit(files[1]!);
    const html = await readFile(files[2]!, 'utf8');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('1/<b>');
    expect(html).toContain('http://127.0.0.1:1/&lt;b&gt;');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('a JUnit file with no thresholds is still a valid, empty suite', async () => {
    const path = join(dir, 'junit.xml');
    await writeFile(path, buildJunitXml(fixtureReportInput({ thresholds: [] })));
    await expectValidJunit(path);
    expect(await readFile(path, 'utf8')).toContain('tests="0" failures="0"');
  });

  it('an unwritable directory is a clear OUTPUT_UNWRITABLE error', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    const err = await writeReplayReports(join(file, 'out'), fixtureReportInput()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RepriseError);
    expect((err as RepriseError).code).toBe('OUTPUT_UNWRITABLE');
    expect((err as RepriseError).where).toBe(join(file, 'out'));
  });
});

describe('secrets in report inputs', () => {
  it('safeOptions drops wiring, redacts secret-looking keys at any depth, keeps settings', () => {
    const cleaned = safeOptions({
      speed: 2,
      profile: { type: 'ramp', from: 10, to: 100 },
      tls: { caFile: '/etc/ca.pem', clientKeyPassphrase: 'p' },
      authToken: 'x',
      onResult: () => undefined,
      signal: new AbortController().signal,
      upstream: 'https://u:pw@example.test/',
      list: [1, Infinity, { cookie: 'c=1' }],
      disabledHeader: false,
    });
    expect(cleaned).toEqual({
      speed: 2,
      profile: { type: 'ramp', from: 10, to: 100 },
      tls: { caFile: '/etc/ca.pem', clientKeyPassphrase: '[redacted]' },
      authToken: '[redacted]',
      upstream: 'https://u:[redacted]@example.test/',
      list: [1, 'Infinity', { cookie: '[redacted]' }],
    });
  });

  it('safeTarget leaves plain targets as written', () => {
    expect(safeTarget('http://staging.internal:8080')).toBe('http://staging.internal:8080');
    expect(safeTarget('not a url')).toBe('not a url');
  });
});

// The thresholds the fixture evaluates are the documented examples; keep them parseable.
it('fixture thresholds parse', () => {
  expect(parseThresholds(FIXTURE_THRESHOLDS)).toHaveLength(FIXTURE_THRESHOLDS.length);
});
