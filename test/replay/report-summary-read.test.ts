import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RepriseError } from '../../errors.js';
import { ReplayMetrics } from '../../replay/metrics/replay-metrics.js';
import { mergeReplaySummaries } from '../../replay/report/merge-summaries.js';
import { parseReplaySummary, readReplaySummary } from '../../replay/report/read-summary.js';
import { buildSummaryJson, type ReplaySummaryJson } from '../../replay/report/summary-json.js';
import { writeReplayReports } from '../../replay/report/write-reports.js';
import { evaluateThresholds } from '../../replay/thresholds/evaluate-thresholds.js';
import { parseThresholds } from '../../replay/thresholds/parse-threshold.js';
import { makeTempDir } from '../support/temp-dir.js';
import { FIXTURE_THRESHOLDS, fixtureReportInput, fixtureResults } from './report-fixture.js';

function expectInvalid(text: string, message: RegExp): RepriseError {
  let caught: unknown;
  try {
    parseReplaySummary(text, 'shard/summary.json');
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected the summary to be rejected').toBeInstanceOf(RepriseError);
  const e = caught as RepriseError;
  expect(e.code).toBe('REPLAY_SUMMARY_INVALID');
  expect(e.where).toBe('shard/summary.json');
  expect(e.message).toMatch(message);
  expect(e.message).not.toContain('\n');
  return e;
}

const validJson = (): ReplaySummaryJson => JSON.parse(JSON.stringify(buildSummaryJson(fixtureReportInput()))) as ReplaySummaryJson;
const text = (o: unknown): string => JSON.stringify(o);

describe('reading summary.json', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir('reprise-summary-'));
  });
  afterEach(() => cleanup());

  it('reads back what writeReplayReports wrote', async () => {
    const input = fixtureReportInput();
    const [summaryPath] = await writeReplayReports(dir, input);
    const read = await readReplaySummary(summaryPath!);
    expect(read).toEqual(JSON.parse(JSON.stringify(buildSummaryJson(input))));
  });

  it('merges shards into the report one run would have given, thresholds evaluated on the merged metrics', async () => {
    const all = fixtureResults();
    const shards = [new ReplayMetrics(), new ReplayMetrics()];
    all.forEach((r, i) => shards[i % 2]!.record(r));
    const whole = new ReplayMetrics();
    for (const r of all) whole.record(r);
    const perSecond = Array.from({ length: 20 }, () => 100);
    const paths: string[] = [];
    for (const [i, m] of shards.entries()) {
      const snapshot = m.snapshot();
      const plan = { sends: 2000, durationUs: 19_995_000, meanRate: 100, peakRate: 100, perSecond };
      const input = fixtureReportInput({ snapshot, plan, thresholds: evaluateThresholds(parseThresholds(FIXTURE_THRESHOLDS), snapshot, { targetRate: 100 }) });
      paths.push((await writeReplayReports(join(dir, `shard-${i}`), input))[0]!);
    }
    const merged = mergeReplaySummaries(await Promise.all(paths.map(readReplaySummary)), ['dropped<=1']);
    const expected = whole.snapshot();
    expect(merged.snapshot.overall.latency).toEqual(expected.overall.latency);
    expect(merged.snapshot.overall.lag).toEqual(expected.overall.lag);
    expect(merged.snapshot.endpoints['GET /search']).toMatchObject({ requests: expected.endpoints['GET /search']!.requests, latency: expected.endpoints['GET /search']!.latency });
    expect(merged.snapshot.series.points.map((p) => [p.planned, p.sent, p.p99Us])).toEqual(expected.series.points.map((p) => [p.planned, p.sent, p.p99Us]));
    expect(merged.plan).toMatchObject({ sends: 4000, meanRate: 200, peakRate: 200 });
    expect(merged.options).toMatchObject({ shards: 2, speed: 10 });
    const single = evaluateThresholds(parseThresholds([...FIXTURE_THRESHOLDS, 'dropped<=1']), expected, { targetRate: 200 });
    expect(merged.thresholds.map((t) => [t.expression, t.passed, t.observed])).toEqual(single.map((t) => [t.expression, t.passed, t.observed]));
  });

  it('names a missing or unreadable file', async () => {
    const err = await readReplaySummary(join(dir, 'nope.json')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INPUT_NOT_FOUND' });
  });

  it('rejects truncated and non-JSON files with the place', () => {
    const good = text(validJson());
    expectInvalid('', /not JSON \(empty file\)/);
    expectInvalid(good.slice(0, good.length / 2), /not JSON/);
    expectInvalid('{\n  "format": "reprise-replay-summary",\n  oops\n}', /not JSON \(at 3:3\)/);
    expectInvalid('['.repeat(100_000) + ']'.repeat(100_000), /expected an object|not JSON/);
    expectInvalid('[]', /expected an object, got an array/);
    expectInvalid(text({ ...validJson(), format: 'k6-summary' }), /^format: expected "reprise-replay-summary", got "k6-summary"/);
    expectInvalid(text({ ...validJson(), version: 2 }), /^version: version 2 was written by a newer reprise; this one reads 1/);
  });

  it('rejects counts that are not whole, negative or inconsistent', () => {
    const a = validJson();
    a.metrics.overall.sent = -1;
    expectInvalid(text(a), /^metrics\.overall\.sent: expected a whole number ≥ 0, got -1/);
    const b = validJson();
    (b.metrics.overall as unknown as Record<string, unknown>).requests = '4000';
    expectInvalid(text(b), /^metrics\.overall\.requests: expected a whole number ≥ 0, got "4000"/);
    const c = validJson();
    c.metrics.overall.dropped = 5;
    expectInvalid(text(c), /^metrics\.overall: sent \(3999\) \+ dropped \(5\) ≠ requests \(4000\)/);
    const d = validJson();
    d.metrics.endpoints['GET /search']!.status['2xx'] += 1;
    expectInvalid(text(d), /^metrics\.endpoints\["GET \/search"\]\.status: status classes add up to/);
    const e = validJson();
    e.metrics.series.points[0]!.planned += 1;
    expectInvalid(text(e), /^metrics\.series\.points: planned sends add up to 4001/);
    const f = validJson();
    f.metrics.series.bucketS = 3;
    expectInvalid(text(f), /bucketS: must be a power of two/);
    const g = validJson();
    g.metrics.options.maxSeriesBuckets = 1e9;
    expectInvalid(text(g), /maxSeriesBuckets: must be 2\.\.1000000/);
  });

  it('rejects corrupted, truncated, swapped and bomb histograms', () => {
    const h = validJson().metrics.overall.histograms.latency;
    const withLatency = (s: string): string => {
      const o = validJson();
      o.metrics.overall.histograms.latency = s;
      return text(o);
    };
    expectInvalid(withLatency(h.slice(0, h.length - 8)), /histograms\.latency: bad histogram: compressed length \d+ does not fit/);
    expectInvalid(withLatency('not base64!'), /bad histogram: not base64/);
    expectInvalid(withLatency(Buffer.from('hello world!').toString('base64')), /not an HdrHistogram V2 compressed encoding/);
    const bytes = Buffer.from(h, 'base64');
    bytes[20] = bytes[20]! ^ 0xff;
    expectInvalid(withLatency(bytes.toString('base64')), /bad histogram: (corrupt compressed data|does not decode)/);
    // Another group's histogram: well-formed, but it does not hold `sent` values.
    expectInvalid(withLatency(validJson().metrics.endpoints['GET /health']!.histograms.latency), /histogram holds \d+ values where the counts say 3999/);
    // A series histogram (1 digit) where a 3-digit one belongs.
    expectInvalid(withLatency(validJson().metrics.series.points[0]!.histogram), /1 significant digits where reprise writes 3/);
    // 64 MiB of zeros compressed to ~64 KB: refused before it is inflated.
    const bomb = deflateSync(Buffer.alloc(64 << 20));
    const header = Buffer.alloc(8);
    header.writeInt32BE(0x1c849314, 0);
    header.writeInt32BE(bomb.length, 4);
    expectInvalid(withLatency(Buffer.concat([header, bomb]).toString('base64')), /decompresses beyond 1048576 bytes/);
  });

  it('fuzz: 300 mutated summaries are either read or refused with REPLAY_SUMMARY_INVALID, never a crash', () => {
    const m = new ReplayMetrics();
    for (const r of fixtureResults().slice(0, 600)) m.record(r);
    const base = text(buildSummaryJson(fixtureReportInput({ snapshot: m.snapshot() })));
    let x = 99;
    const rnd = (n: number): number => (x = (x * 1103515245 + 12345) % 2 ** 31) % n;
    const outcomes = { read: 0, refused: 0 };
    for (let i = 0; i < 300; i++) {
      const chars = [...base];
      const edits = 1 + rnd(4);
      for (let k = 0; k < edits; k++) {
        const at = rnd(chars.length);
        const op = rnd(3);
        if (op === 0) chars[at] = String.fromCharCode(32 + rnd(95));
        else if (op === 1) chars.splice(at, 1 + rnd(20));
        else chars.splice(at, 0, ['-1', '1e999', 'null', '"', '{}', '[]', '0.5'][rnd(7)]!);
      }
      try {
        parseReplaySummary(chars.join(''), 'fuzz.json');
        outcomes.read++;
      } catch (err) {
        if (!(err instanceof RepriseError) || err.code !== 'REPLAY_SUMMARY_INVALID') throw err;
        outcomes.refused++;
      }
    }
    expect(outcomes.read + outcomes.refused).toBe(300);
    expect(outcomes.refused).toBeGreaterThan(200);
  });

  it('a file larger than the cap is refused before parsing', async () => {
    const path = join(dir, 'big.json');
    await writeFile(path, Buffer.alloc((256 << 20) + 1, 0x20));
    const err = await readReplaySummary(path).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'REPLAY_SUMMARY_INVALID' });
    expect(await readFile(path).then((b) => b.length)).toBe((256 << 20) + 1);
  });
});
