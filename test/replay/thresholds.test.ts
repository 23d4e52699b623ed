import { describe, expect, it } from 'vitest';
import { RepriseError } from '../../errors.js';
import { ReplayMetrics, type MetricsSnapshot } from '../../replay/metrics/replay-metrics.js';
import type { RequestResult } from '../../replay/replay-result.js';
import { ANSWERED_GATE, evaluateThresholds, judgeRun } from '../../replay/thresholds/evaluate-thresholds.js';
import { parseThreshold, parseThresholds } from '../../replay/thresholds/parse-threshold.js';

function expectInvalid(text: string, column: number, message: RegExp): void {
  let caught: unknown;
  try {
    parseThreshold(text);
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${JSON.stringify(text)} to be rejected`).toBeInstanceOf(RepriseError);
  const e = caught as RepriseError;
  expect(e.code).toBe('REPLAY_THRESHOLD_INVALID');
  expect(e.location?.column).toBe(column);
  expect(e.message).toContain(`column ${column}:`);
  expect(e.message).toMatch(message);
  // One line, whatever the input held.
  expect(e.message).not.toMatch(/[\n\r]/);
}

describe('parseThreshold', () => {
  it('parses latency limits into µs, with every unit and spaces between tokens', () => {
    expect(parseThreshold('p99<250ms')).toEqual({ expression: 'p99<250ms', metric: 'p99', kind: 'latency', op: '<', limit: 250_000 });
    expect(parseThreshold('p50<=10ms')).toMatchObject({ op: '<=', limit: 10_000 });
    expect(parseThreshold('  max < 1.5 s ')).toMatchObject({ expression: 'max < 1.5 s', metric: 'max', limit: 1_500_000 });
    expect(parseThreshold('p99.9<800us')).toMatchObject({ metric: 'p99.9', limit: 800 });
    expect(parseThreshold('mean<800µs')).toMatchObject({ limit: 800 });
    expect(parseThreshold('lag_p99<1ms')).toMatchObject({ metric: 'lag_p99', kind: 'latency', limit: 1000 });
    expect(parseThreshold('uncorrected_p90<2e2ms')).toMatchObject({ metric: 'uncorrected_p90', limit: 200_000 });
  });

  it('parses ratios as fractions, from percentages or plain fractions', () => {
    expect(parseThreshold('error_rate<1%')).toMatchObject({ kind: 'ratio', limit: 0.01 });
    expect(parseThreshold('error_rate<0.01')).toMatchObject({ limit: 0.01 });
    expect(parseThreshold('late_rate<=0.5%')).toMatchObject({ metric: 'late_rate', limit: 0.005 });
    expect(parseThreshold('5xx_rate<0.1%')).toMatchObject({ metric: '5xx_rate', limit: 0.001 });
    expect(parseThreshold('2xx_rate>=99%')).toMatchObject({ op: '>=', limit: 0.99 });
    expect(parseThreshold('drop_rate==0')).toMatchObject({ op: '==', limit: 0 });
  });

  it('parses throughput absolute or relative to the target, and counts', () => {
    expect(parseThreshold('rate>=0.99*target')).toMatchObject({ kind: 'throughput', limit: 0.99, ofTarget: true });
    expect(parseThreshold('rate >= 0.99 * target')).toMatchObject({ limit: 0.99, ofTarget: true });
    expect(parseThreshold('rate>=target')).toMatchObject({ limit: 1, ofTarget: true });
    expect(parseThreshold('rate>950/s')).toEqual({ expression: 'rate>950/s', metric: 'rate', kind: 'throughput', op: '>', limit: 950 });
    expect(parseThreshold('dropped==0')).toMatchObject({ kind: 'count', limit: 0 });
    expect(parseThreshold('errors<10')).toMatchObject({ kind: 'count', limit: 10 });
  });

  it("takes any percentile and k6's spellings (p(95), avg, med), stored under one canonical name", () => {
    expect(parseThreshold('p97.5<10ms')).toMatchObject({ metric: 'p97.5', kind: 'latency', limit: 10_000 });
    expect(parseThreshold('lag_p99.99<2ms')).toMatchObject({ metric: 'lag_p99.99' });
    expect(parseThreshold('p(95)<500ms')).toMatchObject({ expression: 'p(95)<500ms', metric: 'p95', limit: 500_000 });
    expect(parseThreshold('uncorrected_p(99.9)<1s')).toMatchObject({ metric: 'uncorrected_p99.9' });
    expect(parseThreshold('avg<200ms')).toMatchObject({ metric: 'mean' });
    expect(parseThreshold('med<20ms')).toMatchObject({ metric: 'p50' });
    expect(parseThreshold('p100<1s')).toMatchObject({ metric: 'p100' });
    expect(parseThreshold('rate_error<1%')).toMatchObject({ metric: 'rate_error', kind: 'ratio', limit: 0.01 });
  });

  it('scopes to an endpoint template, which may contain spaces, colons and dots', () => {
    expect(parseThreshold('endpoint[GET /users/:id].p99<100ms')).toEqual({
      expression: 'endpoint[GET /users/:id].p99<100ms',
      endpoint: 'GET /users/:id',
      metric: 'p99',
      kind: 'latency',
      op: '<',
      limit: 100_000,
    });
    expect(parseThreshold('endpoint[POST /v1.2/orders].error_rate<0.5%')).toMatchObject({ endpoint: 'POST /v1.2/orders', metric: 'error_rate' });
    expect(parseThreshold('endpoint[GET /a].rate>=10/s')).toMatchObject({ endpoint: 'GET /a', limit: 10 });
  });

  it('rejects bad expressions with the 1-based column of the problem', () => {
    expectInvalid('', 1, /empty threshold/);
    expectInvalid('   ', 4, /empty threshold/);
    expectInvalid('q99<1ms', 1, /unknown metric "q99"/);
    expectInvalid('p101<1ms', 1, /unknown metric "p101"/);
    expectInvalid('p0<1ms', 1, /unknown metric "p0"/);
    expectInvalid('p(abc)<1ms', 1, /unknown metric "p"/);
    expectInvalid('endpoint[GET /a].rate_error<1%', 18, /rate_error is measured for the whole run, not per endpoint/);
    expectInvalid('p999<1ms', 1, /did you mean "p99.9"/);
    expectInvalid('latency_p99<1ms', 1, /did you mean "p99"/);
    expectInvalid('error-rate<1%', 1, /unknown metric "error-rate"; did you mean "error_rate"/);
    expectInvalid('p99', 4, /missing operator/);
    expectInvalid('p99=250ms', 4, /expected an operator/);
    expectInvalid('p99=<250ms', 4, /expected an operator/);
    expectInvalid('p99<', 5, /missing limit/);
    expectInvalid('p99<250', 8, /a latency needs a unit/);
    expectInvalid('p99<250 msec', 9, /unknown latency unit "msec"/);
    expectInvalid('p99<250%', 8, /unknown latency unit "%"/);
    expectInvalid('p99<-5ms', 5, /cannot be negative/);
    expectInvalid('p99<abc', 5, /expected a number/);
    expectInvalid('p99<1ms and p50<1ms', 9, /unexpected "and p50<1ms"/);
    expectInvalid('error_rate<150%', 12, /cannot exceed 100%/);
    expectInvalid('error_rate<5', 12, /did you mean 5%\?/);
    expectInvalid('rate>=0.99*', 12, /expected "target"/);
    expectInvalid('rate>=0.99*tarjet', 12, /expected "target"/);
    expectInvalid('rate>=99%', 9, /write 0.99\*target/);
    expectInvalid('p99<0.99*target', 9, /unknown latency unit "\*target"/);
    expectInvalid('errors<1.5', 8, /whole number/);
    expectInvalid('endpoint[GET /a.p99<1ms', 10, /unclosed endpoint/);
    expectInvalid('endpoint[].p99<1ms', 10, /empty endpoint/);
    expectInvalid('endpoint[GET /a].rate>=0.9*target', 28, /endpoint threshold takes an absolute rate/);
    expectInvalid('endpoint[GET /a].', 18, /expected a metric name/);
  });

  it('survives hostile input: control characters, huge numbers, huge strings, odd unicode', () => {
    expectInvalid('p99<1ms\n; rm -rf /', 8, /control character "\\n"/);
    expectInvalid('p99\u0000<1ms', 4, /control character "\\u0000"/);
    expectInvalid('p99<1e999ms', 5, /too large/);
    expectInvalid('p99<' + '9'.repeat(400) + 'ms', 5, /too large/);
    expectInvalid('p99<NaNms', 5, /expected a number/);
    expectInvalid('p99<Infinityms', 5, /expected a number/);
    expectInvalid('p99<0x10ms', 6, /unknown latency unit "x10ms"/);
    expectInvalid('p99\u2264250ms', 4, /expected an operator/);
    expectInvalid('🙂<1ms', 1, /expected a metric name/);
    const long = 'p99<1ms' + ' '.repeat(5000);
    // Trailing spaces are fine; a long expression is not, and the message stays short.
    expect(() => parseThreshold('p99<1ms     ')).not.toThrow();
    let caught: RepriseError | undefined;
    try {
      parseThreshold('x'.repeat(100_000));
    } catch (err) {
      caught = err as RepriseError;
    }
    expect(caught?.code).toBe('REPLAY_THRESHOLD_INVALID');
    expect(caught!.message.length).toBeLessThan(200);
    expect(() => parseThreshold(long)).toThrow(/longer than 1000 characters/);
  });

  it('parseThresholds reports every bad expression at once', () => {
    expect(parseThresholds(['p99<1ms', 'error_rate<1%'])).toHaveLength(2);
    expect(() => parseThresholds(['p99<1ms', 'q98<1ms', 'rate>=x'])).toThrow(/2 invalid thresholds: threshold "q98<1ms", column 1: .*; threshold "rate>=x", column 7/);
  });
});

/** 1000 sends at 100/s, GET /fast at 1 ms and POST /slow at 300 ms, one in 50 a 503, 5 timeouts. */
function runSnapshot(): MetricsSnapshot {
  const m = new ReplayMetrics();
  for (let i = 0; i < 1000; i++) {
    const slow = i % 4 === 0;
    const timeout = i % 200 === 7;
    const r: RequestResult = {
      endpoint: slow ? 'POST /slow' : 'GET /fast',
      exchangeId: `e${i}`,
      copy: 0,
      intendedUs: i * 10_000,
      sentUs: i * 10_000 + (i % 100 === 0 ? 5000 : 100),
      doneUs: i * 10_000 + (slow ? 300_000 : 1000),
      status: timeout ? null : i % 50 === 1 ? 503 : 200,
      ...(timeout ? { error: { kind: 'timeout' as const, message: 'timed out' } } : {}),
      bytesSent: 10,
      bytesReceived: 10,
    };
    m.record(r);
  }
  return m.snapshot();
}

describe('evaluateThresholds', () => {
  const snap = runSnapshot();
  const evaluate = (text: string, targetRate = 100) => evaluateThresholds([parseThreshold(text)], snap, { targetRate })[0]!;

  it('passes and fails latency thresholds on the corrected figure', () => {
    const p99 = evaluate('p99<250ms');
    expect(p99.passed).toBe(false);
    expect(p99.observed).toBeGreaterThanOrEqual(299_000);
    expect(p99.limit).toBe(250_000);
    expect(p99.message).toMatch(/^p99 = 30\d(\.\d+)?ms, limit < 250ms$/);
    expect(evaluate('p50<2ms').passed).toBe(true);
    expect(evaluate('max<=301ms').passed).toBe(true);
  });

  it('evaluates lag, ratios and status class rates', () => {
    // 10 of 1000 sends lag 5 ms (late), the rest 100 µs.
    expect(evaluate('lag_p99<1ms')).toMatchObject({ passed: true, observed: 100 });
    expect(evaluate('lag_max<1ms')).toMatchObject({ passed: false });
    expect(evaluate('late_rate<=1%')).toMatchObject({ passed: true, observed: 0.01 });
    expect(evaluate('late_rate<1%')).toMatchObject({ passed: false });
    expect(evaluate('error_rate<1%')).toMatchObject({ passed: true, observed: 0.005 });
    expect(evaluate('5xx_rate<1%')).toMatchObject({ passed: false, observed: 0.02 });
    expect(evaluate('2xx_rate>=97%')).toMatchObject({ passed: true, observed: 0.975 });
    expect(evaluate('errors==5')).toMatchObject({ passed: true, observed: 5 });
  });

  it('reads percentiles the summary does not hold from the histogram, exactly as the summary would', () => {
    expect(evaluate('p(99)<1s').observed).toBe(snap.overall.latency.p99);
    const p975 = evaluate('p97.5<1s').observed!;
    expect(p975).toBeGreaterThanOrEqual(snap.overall.latency.p95);
    expect(p975).toBeLessThanOrEqual(snap.overall.latency.p99);
    expect(evaluate('lag_p100<=5ms').observed).toBe(snap.overall.lag.max);
  });

  it('rate_error compares sends with the plan second by second', () => {
    // The synthetic run sends every request 100 µs (1% of them 5 ms) after its intended time: each
    // second loses at most one send to the next, out of 100.
    const e = evaluate('rate_error<=1%');
    expect(e.passed).toBe(true);
    expect(e.observed).toBeLessThanOrEqual(0.01);
    const short = new ReplayMetrics();
    short.record({ endpoint: 'GET /a', exchangeId: 'x', copy: 0, intendedUs: 0, sentUs: 0, doneUs: 10, status: 200, bytesSent: 1, bytesReceived: 1 });
    const [o] = evaluateThresholds([parseThreshold('rate_error<1%')], short.snapshot(), { targetRate: 1 });
    expect(o).toMatchObject({ passed: false, observed: null });
    expect(o!.message).toContain('no complete second');
  });

  it('resolves target against the plan rate, and fails when no target is known', () => {
    const ok = evaluate('rate>=0.99*target', 100);
    expect(ok.passed).toBe(true);
    expect(ok.limit).toBeCloseTo(99, 10);
    expect(ok.observed).toBeCloseTo(100, 0);
    expect(ok.message).toContain('0.99×target 100/s');
    expect(evaluate('rate>=0.99*target', 200)).toMatchObject({ passed: false, limit: 198 });
    expect(evaluate('rate>=0.99*target', 0)).toMatchObject({ passed: false, observed: null, limit: null });
  });

  it('evaluates per endpoint, and fails a threshold on an endpoint that never ran', () => {
    const slow = evaluate('endpoint[POST /slow].p99<250ms');
    expect(slow).toMatchObject({ endpoint: 'POST /slow', passed: false });
    expect(slow.message).toMatch(/^POST \/slow p99 = /);
    expect(evaluate('endpoint[GET /fast].p99<250ms')).toMatchObject({ endpoint: 'GET /fast', passed: true });
    // GET /fast is 3 of every 4 sends.
    expect(evaluate('endpoint[GET /fast].rate>=70/s').observed).toBeCloseTo(75, 0);
    const missing = evaluate('endpoint[GET /nope].p99<1s');
    expect(missing).toMatchObject({ passed: false, observed: null });
    expect(missing.message).toContain('had no requests');
  });

  it('a latency threshold over a run with no sends fails rather than passing on nothing', () => {
    const empty = new ReplayMetrics().snapshot();
    const [o] = evaluateThresholds([parseThreshold('p99<1s')], empty, { targetRate: 10 });
    expect(o).toMatchObject({ passed: false, observed: null });
  });

  it('a latency threshold over sends the target never answered fails: refused connections end in microseconds', () => {
    const m = new ReplayMetrics();
    for (let i = 0; i < 100; i++) {
      m.record({ endpoint: 'GET /a', exchangeId: `e${i}`, copy: 0, intendedUs: i * 1000, sentUs: i * 1000, doneUs: i * 1000 + 80, status: null, error: { kind: 'refused', message: 'connect ECONNREFUSED 127.0.0.1:1' }, bytesSent: 0, bytesReceived: 0 });
    }
    const snap = m.snapshot();
    // The histogram holds 80 µs failures: without the check, p99<250ms would pass with the target down.
    expect(snap.overall.latency.p99).toBeLessThan(250_000);
    const [p99, uncorrected, lag] = evaluateThresholds(parseThresholds(['p99<250ms', 'uncorrected_p(95)<1s', 'lag_p99<1ms']), snap, { targetRate: 0 });
    expect(p99).toMatchObject({ passed: false, observed: null });
    expect(p99!.message).toBe('p99: no request got a response (refused 100), so there is no latency to compare');
    expect(uncorrected).toMatchObject({ passed: false, observed: null });
    // Sends did go out on time: the schedule is measured.
    expect(lag).toMatchObject({ passed: true });
  });
});

describe('judgeRun', () => {
  const refused = (i: number, status: number | null): RequestResult => ({
    endpoint: 'GET /a',
    exchangeId: `e${i}`,
    copy: 0,
    intendedUs: i * 1000,
    sentUs: i * 1000,
    doneUs: i * 1000 + 50,
    status,
    ...(status === null && { error: { kind: i % 3 === 0 ? ('timeout' as const) : ('refused' as const), message: 'x' } }),
    bytesSent: 0,
    bytesReceived: 0,
  });

  it('fails a run the target answered not once, also with no thresholds, naming the error kinds', () => {
    const m = new ReplayMetrics();
    for (let i = 0; i < 30; i++) m.record(refused(i, null));
    const outcomes = judgeRun([], m.snapshot(), { targetRate: 0 });
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ expression: ANSWERED_GATE, passed: false, observed: 0 });
    expect(outcomes[0]!.message).toBe('the target answered none of the 30 requests sent (refused 20, timeout 10): nothing was measured');
  });

  it('adds nothing when one request got a response (a 500 is an answer), or when nothing was sent', () => {
    const m = new ReplayMetrics();
    for (let i = 0; i < 30; i++) m.record(refused(i, i === 29 ? 500 : null));
    expect(judgeRun(parseThresholds(['errors<100']), m.snapshot(), { targetRate: 0 })).toEqual([expect.objectContaining({ expression: 'errors<100', passed: true })]);
    expect(judgeRun([], new ReplayMetrics().snapshot(), { targetRate: 0 })).toEqual([]);
  });
});
