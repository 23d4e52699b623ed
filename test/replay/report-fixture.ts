/**
 * A realistic replay's results built in code, for the report tests: 20 s at
 * 200 requests/s over four endpoints, a 1 s stall of the target at t = 8 s
 * (sends queue behind it: late, and corrected latency shows it), a burst of
 * 503s and a few timeouts, one dropped send. Deterministic (seeded).
 */
import { ReplayMetrics } from '../../replay/metrics/replay-metrics.js';
import type { RequestResult } from '../../replay/replay-result.js';
import type { ReplayReportInput } from '../../replay/report/report-input.js';
import { evaluateThresholds } from '../../replay/thresholds/evaluate-thresholds.js';
import { parseThresholds } from '../../replay/thresholds/parse-threshold.js';

const ENDPOINTS = ['GET /users/:id', 'GET /search', 'POST /orders', 'GET /health'];

export function fixtureResults(): RequestResult[] {
  let x = 42;
  const rnd = (): number => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out: RequestResult[] = [];
  let stallFreeAt = 0;
  for (let i = 0; i < 4000; i++) {
    const intendedUs = i * 5000;
    const endpoint = ENDPOINTS[i % 7 === 0 ? 2 : i % 5 === 0 ? 1 : i % 13 === 0 ? 3 : 0]!;
    // The target stalls from 8.0 s to 9.0 s: the engine's concurrency cap fills and sends wait.
    const inStall = intendedUs >= 8_000_000 && intendedUs < 9_000_000;
    const sentUs = inStall ? 9_000_000 + (intendedUs - 8_000_000) / 10 : intendedUs + Math.floor(rnd() * 300);
    const serviceUs = Math.floor(2000 + rnd() ** 3 * 40_000 + (endpoint === 'GET /search' ? 15_000 : 0));
    stallFreeAt = Math.max(stallFreeAt, sentUs);
    const failing = intendedUs >= 14_000_000 && intendedUs < 15_000_000 && i % 3 === 0;
    const timeout = i % 997 === 0;
    const dropped = i === 1234;
    out.push({
      endpoint,
      exchangeId: `ex-${i}`,
      copy: 0,
      intendedUs,
      sentUs: dropped ? null : sentUs,
      doneUs: dropped ? intendedUs : sentUs + (timeout ? 5_000_000 : serviceUs),
      status: dropped || timeout ? null : failing ? 503 : endpoint === 'POST /orders' && i % 11 === 0 ? 409 : 200,
      ...(timeout ? { error: { kind: 'timeout' as const, message: 'headers timeout' } } : {}),
      ...(dropped ? { error: { kind: 'dropped' as const, message: 'concurrency cap' } } : {}),
      bytesSent: dropped ? 0 : 180,
      bytesReceived: dropped || timeout ? 0 : 1200,
    });
  }
  return out;
}

export const FIXTURE_THRESHOLDS = ['p99<250ms', 'error_rate<5%', 'rate>=0.99*target', 'endpoint[GET /search].p50<100ms', 'lag_p99<1ms'];

export function fixtureReportInput(overrides: Partial<ReplayReportInput> = {}): ReplayReportInput {
  const m = new ReplayMetrics();
  for (const r of fixtureResults()) m.record(r);
  const snapshot = m.snapshot();
  const perSecond = Array.from({ length: 20 }, () => 200);
  const plan = { sends: 4000, exchanges: 4000, durationUs: 19_995_000, perSecond, meanRate: 200, peakRate: 200 };
  return {
    snapshot,
    thresholds: evaluateThresholds(parseThresholds(FIXTURE_THRESHOLDS), snapshot, { targetRate: plan.meanRate }),
    plan,
    target: 'http://127.0.0.1:8080',
    startedAt: '2026-11-23T12:00:00.000Z',
    options: { speed: 10, amplify: 1, concurrency: 256, headers: [['authorization', 'Bearer sk_live_SECRET']], vars: { TOKEN: 'tok_SECRET' } },
    ...overrides,
  };
}
