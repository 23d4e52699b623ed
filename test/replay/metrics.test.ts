import { decodeFromCompressedBase64, type JsHistogram } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { RepriseError } from '../../errors.js';
import { mergeSnapshots, OTHER_ENDPOINT, ReplayMetrics, type MetricsSnapshot } from '../../replay/metrics/replay-metrics.js';
import { rateError } from '../../replay/metrics/rate-error.js';
import type { RequestResult } from '../../replay/replay-result.js';

/**
 * Metrics math on synthetic RequestResults: no sockets are needed because the
 * metrics side only ever sees results (the engine's loopback tests cover the
 * sending half).
 */

function result(over: Partial<RequestResult> & Pick<RequestResult, 'intendedUs'>): RequestResult {
  const sentUs = over.sentUs === undefined ? over.intendedUs : over.sentUs;
  return {
    endpoint: 'GET /users/:id',
    exchangeId: `x${over.intendedUs}`,
    copy: 0,
    sentUs,
    doneUs: (sentUs ?? over.intendedUs) + 1000,
    status: 200,
    bytesSent: 100,
    bytesReceived: 500,
    ...over,
  };
}

/**
 * One connection driven closed-loop (each send waits for the previous answer)
 * against a plan of 1 request per ms for 3 s; request 1000 stalls for 1 s.
 * This is exactly the situation coordinated omission hides: the requests
 * intended during the stall are sent late, so their own (uncorrected) latency
 * looks normal.
 */
function closedLoopWithStall(): RequestResult[] {
  const out: RequestResult[] = [];
  let freeAtUs = 0;
  for (let i = 0; i < 3000; i++) {
    const intendedUs = i * 1000;
    const sentUs = Math.max(intendedUs, freeAtUs);
    const serviceUs = i === 1000 ? 1_000_000 : 500;
    const doneUs = sentUs + serviceUs;
    freeAtUs = doneUs;
    out.push(result({ intendedUs, sentUs, doneUs }));
  }
  return out;
}

describe('ReplayMetrics: coordinated omission', () => {
  it('the corrected p99 shows a 1 s stall, the uncorrected one does not, and late sends are counted', () => {
    const results = closedLoopWithStall();
    const m = new ReplayMetrics();
    for (const r of results) m.record(r);
    const s = m.snapshot();
    // ~1000 of 3000 requests were intended during the stall and waited up to 1 s.
    expect(s.overall.latency.p99).toBeGreaterThan(900_000);
    expect(s.overall.latency.max).toBeGreaterThanOrEqual(1_000_000);
    // Only the one stalled request saw a long service time.
    expect(s.overall.uncorrected.p99).toBeLessThan(1000);
    expect(s.overall.uncorrected.max).toBeGreaterThanOrEqual(999_000);
    // The sends queued behind the stall (and during the catch-up after it) are
    // late: more than 1 ms after their intended time.
    expect(s.overall.late).toBe(results.filter((r) => r.sentUs! - r.intendedUs > 1000).length);
    expect(s.overall.late).toBeGreaterThan(1000);
    expect(s.overall.lag.p99).toBeGreaterThan(900_000);
    expect(s.overall.sent).toBe(3000);
    expect(s.overall.dropped).toBe(0);
  });

  it('an open-model run that keeps its schedule has corrected == uncorrected and no lag', () => {
    const m = new ReplayMetrics();
    for (let i = 0; i < 1000; i++) m.record(result({ intendedUs: i * 1000, doneUs: i * 1000 + 2000 + (i % 10) * 100 }));
    const s = m.snapshot().overall;
    expect(s.latency.p50).toBe(s.uncorrected.p50);
    expect(s.latency.p99).toBe(s.uncorrected.p99);
    expect(s.lag.max).toBe(0);
    expect(s.late).toBe(0);
  });
});

describe('ReplayMetrics: counts, classes, errors, bytes, rates', () => {
  it('counts status classes, errors by kind, drops and bytes', () => {
    const m = new ReplayMetrics({ lateThresholdUs: 500 });
    m.record(result({ intendedUs: 0, status: 200 }));
    m.record(result({ intendedUs: 1000, status: 204 }));
    m.record(result({ intendedUs: 2000, status: 301 }));
    m.record(result({ intendedUs: 3000, status: 404, endpoint: 'POST /orders' }));
    m.record(result({ intendedUs: 4000, status: 503, endpoint: 'POST /orders' }));
    m.record(result({ intendedUs: 5000, status: 999 }));
    m.record(result({ intendedUs: 6000, status: null, bytesReceived: 0, error: { kind: 'timeout', message: 'headers timeout' } }));
    m.record(result({ intendedUs: 7000, status: null, bytesReceived: 0, error: { kind: 'reset', message: 'ECONNRESET' } }));
    m.record(result({ intendedUs: 8000, sentUs: null, status: null, bytesSent: 0, bytesReceived: 0, error: { kind: 'dropped', message: 'cap' } }));
    m.record(result({ intendedUs: 9000, sentUs: 9600 }));
    const s = m.snapshot();
    const o = s.overall;
    expect(o.requests).toBe(10);
    expect(o.sent).toBe(9);
    expect(o.dropped).toBe(1);
    expect(o.completed).toBe(7);
    expect(o.status).toEqual({ '1xx': 0, '2xx': 3, '3xx': 1, '4xx': 1, '5xx': 1, other: 1 });
    expect(o.errors).toBe(3);
    expect(o.errorRate).toBeCloseTo(0.3, 10);
    expect(o.errorsByKind).toEqual({ timeout: 1, reset: 1, dropped: 1 });
    expect(o.bytesSent).toBe(900);
    expect(o.bytesReceived).toBe(3500);
    expect(o.late).toBe(1);
    // The dropped send has no latency: histograms hold only the 9 sent.
    expect(o.latency.count).toBe(9);
    expect(Object.keys(s.endpoints)).toEqual(['GET /users/:id', 'POST /orders']);
    expect(s.endpoints['POST /orders']!.status['5xx']).toBe(1);
    expect(s.endpoints['GET /users/:id']!.requests).toBe(8);
  });

  it('planned and achieved rate and the per-second series', () => {
    const m = new ReplayMetrics();
    // Plan: 100/s for 3 s; actual sends fall behind by 10% in the last second.
    for (let i = 0; i < 300; i++) {
      const intendedUs = i * 10_000;
      const sentUs = i < 200 ? intendedUs : 2_000_000 + (i - 200) * 11_000;
      m.record(result({ intendedUs, sentUs, doneUs: sentUs + 1000 }));
    }
    const s = m.snapshot();
    expect(s.plannedRate).toBeCloseTo(100, 6);
    expect(s.achievedRate).toBeLessThan(100);
    expect(s.achievedRate).toBeGreaterThan(90);
    expect(s.series.bucketS).toBe(1);
    expect(s.series.points.map((p) => p.planned)).toEqual([100, 100, 100, 0]);
    // 91 of the last 100 sends fit in [2 s, 3 s); the rest spill into the 4th second.
    expect(s.series.points.map((p) => p.sent)).toEqual([100, 100, 91, 9]);
    // Rate error per second, last (partial) bucket left out: 0, 0, 9%.
    const e = rateError(s.series);
    expect(e).toMatchObject({ buckets: 3, bucketS: 1, worstAtS: 2 });
    expect(e.maxAbs).toBeCloseTo(0.09, 10);
    expect(e.meanAbs).toBeCloseTo(0.03, 10);
    // Series histograms have 1 significant digit (buckets 1/16 of a power of two): ≤ 6.25% above.
    expect(s.series.points[0]!.p50Us).toBeGreaterThanOrEqual(1000);
    expect(s.series.points[0]!.p50Us).toBeLessThanOrEqual(1000 * 1.0625);
  });

  it('live() is cheap and reflects what has been recorded', () => {
    const m = new ReplayMetrics();
    expect(m.live()).toMatchObject({ requests: 0, p99Us: 0, recentRate: 0 });
    for (let i = 0; i < 2500; i++) m.record(result({ intendedUs: i * 1000, doneUs: i * 1000 + 3000 }));
    const l = m.live();
    expect(l).toMatchObject({ requests: 2500, sent: 2500, completed: 2500, errors: 0, dropped: 0, late: 0 });
    expect(l.recentRate).toBe(1000);
    // Given the run clock, the rate follows time even when no result arrives (a stall): 0 in second 9.
    expect(m.live(10_000_000).recentRate).toBe(0);
    expect(m.live(2_500_000).recentRate).toBe(1000);
    // Within the first second: the sends so far over the time so far (a short run does not end on 0/s).
    const short = new ReplayMetrics();
    for (let i = 0; i < 200; i++) short.record(result({ intendedUs: i * 1000, doneUs: i * 1000 + 500 }));
    expect(short.live(400_000).recentRate).toBe(500);
    const first = new ReplayMetrics();
    for (let i = 0; i < 3; i++) first.record(result({ intendedUs: i * 1000, doneUs: i * 1000 + 500 }));
    expect(first.live(10_000).recentRate).toBe(0); // 3 sends in 10 ms is no rate to show yet
    expect(l.p99Us).toBeGreaterThanOrEqual(2990);
    expect(l.p99Us).toBeLessThanOrEqual(3010);
  });

  it('keeps memory bounded: endpoints beyond the cap go to (other), long runs downsample the series', () => {
    const m = new ReplayMetrics({ maxEndpoints: 5, maxSeriesBuckets: 10 });
    for (let i = 0; i < 50; i++) m.record(result({ intendedUs: i * 1_000_000, endpoint: `GET /item/${i}` }));
    const s = m.snapshot();
    expect(Object.keys(s.endpoints)).toHaveLength(5);
    expect(s.endpoints[OTHER_ENDPOINT]!.requests).toBe(46);
    // 50 s in at most 10 buckets: widths double 1 → 2 → 4 → 8.
    expect(s.series.bucketS).toBe(8);
    expect(s.series.points.length).toBeLessThanOrEqual(10);
    expect(s.series.points.reduce((n, p) => n + p.planned, 0)).toBe(50);
  });
});

/**
 * Encoded histograms carry their current (auto-resized) array size in the
 * header, so two histograms with identical counts can encode differently.
 * Equality means equal counts in every bucket: compare those.
 */
function bucketCounts(encoded: string): [number, number][] {
  if (encoded === '') return [];
  const h = decodeFromCompressedBase64(encoded, 32, false) as unknown as JsHistogram;
  const out: [number, number][] = [];
  for (let i = 0; i < h.countsArrayLength; i++) {
    const n = h.getCountAtIndex(i);
    if (n > 0) out.push([h.valueFromIndex(i), n]);
  }
  return out;
}

function comparable(s: MetricsSnapshot): unknown {
  return JSON.parse(JSON.stringify(s), (key, value: unknown) =>
    (key === 'histogram' || key === 'latency' || key === 'uncorrected' || key === 'lag') && typeof value === 'string'
      ? bucketCounts(value)
      : value,
  );
}

describe('mergeSnapshots', () => {
  function randomResults(n: number, seed: number): RequestResult[] {
    let x = seed;
    const rnd = (): number => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const endpoints = ['GET /a', 'GET /b/:id', 'POST /c', 'DELETE /d/:id'];
    const out: RequestResult[] = [];
    for (let i = 0; i < n; i++) {
      const intendedUs = Math.floor(i * 700 + rnd() * 300);
      const dropped = rnd() < 0.01;
      const sentUs = dropped ? null : intendedUs + Math.floor(rnd() ** 4 * 20_000);
      const status = dropped ? null : [200, 200, 200, 201, 302, 404, 500][Math.floor(rnd() * 7)]!;
      out.push({
        endpoint: endpoints[Math.floor(rnd() * endpoints.length)]!,
        exchangeId: `e${i}`,
        copy: i % 3,
        intendedUs,
        sentUs,
        doneUs: (sentUs ?? intendedUs) + Math.floor(rnd() ** 3 * 500_000),
        status,
        ...(dropped ? { error: { kind: 'dropped' as const, message: 'cap' } } : {}),
        bytesSent: Math.floor(rnd() * 1000),
        bytesReceived: Math.floor(rnd() * 10_000),
      });
    }
    return out;
  }

  it('merging shard snapshots (through JSON) equals one run over all results', () => {
    const all = randomResults(20_000, 7);
    const options = { maxSeriesBuckets: 4 };
    const single = new ReplayMetrics(options);
    for (const r of all) single.record(r);
    // Three shards with different shares and spans: one covers only the start,
    // so the shards downsample their series to different widths.
    const shards = [new ReplayMetrics(options), new ReplayMetrics(options), new ReplayMetrics(options)];
    all.forEach((r, i) => shards[i < 3000 ? 0 : i % 2 === 0 ? 1 : 2]!.record(r));
    const viaJson = shards.map((s) => JSON.parse(JSON.stringify(s.snapshot())) as MetricsSnapshot);
    expect(viaJson[0]!.series.bucketS).toBeLessThan(viaJson[1]!.series.bucketS);
    const merged = mergeSnapshots(viaJson);
    const expected = single.snapshot();
    expect(comparable(merged)).toEqual(comparable(expected));
    // The comparison is not vacuous: histograms hold every sent result.
    expect(bucketCounts(merged.overall.histograms.latency).length).toBeGreaterThan(100);
    expect(merged.overall.latency.count).toBe(all.filter((r) => r.sentUs !== null).length);
  });

  it('merging one snapshot is the identity, and an empty list is an empty snapshot', () => {
    const m = new ReplayMetrics();
    for (const r of randomResults(500, 3)) m.record(r);
    const s = m.snapshot();
    expect(comparable(mergeSnapshots([s]))).toEqual(comparable(s));
    expect(mergeSnapshots([]).overall.requests).toBe(0);
  });

  it('refuses to merge shards measured with different options', () => {
    const a = new ReplayMetrics({ lateThresholdUs: 1000 }).snapshot();
    const b = new ReplayMetrics({ lateThresholdUs: 5000 }).snapshot();
    expect(() => mergeSnapshots([a, b])).toThrow(RepriseError);
    expect(() => mergeSnapshots([a, b])).toThrow(/snapshot 2 has lateThresholdUs=5000/);
  });
});
