// One phase of the replay bench, in its own process (pinned to a core by the
// caller) so CPU and peak RSS are the phase's own. Prints one JSON line.
//
//   write <store> <n> <path>          a store of n GETs of <path>, 50 µs apart (20k/s recorded)
//   max <store> <url> <conns> <s>     reprise --max (runMax) for s seconds
//   autocannon <url> <conns> <s>      autocannon alone, same request, same settings
//   timed <store> <url> <rate> <s>    open-model replay on a constant profile: per-second rate error, lag
//   plan <store> <n>                  plan + scheduler + metrics over the whole store, sends not put on
//                                     the wire (RSS of the engine's streaming path at 10^6 vs 10^7)
import { createRequire } from 'node:module';
import { runMax } from '../replay/max/run-max.js';
import { ReplayMetrics } from '../replay/metrics/replay-metrics.js';
import type { RequestResult } from '../replay/replay-result.js';
import { runReplay, type ReplayOptions } from '../replay/run-replay.js';
import { runReplaySharded } from '../replay/run-sharded.js';
import type { MetricsSnapshot } from '../replay/metrics/replay-metrics.js';
import { runOpenModel } from '../replay/schedule/open-model-scheduler.js';
import { planSends } from '../replay/schedule/plan-sends.js';
import { MAX_SPEED } from '../replay/schedule/plan-bounds.js';
import { startRunClock } from '../replay/schedule/run-clock.js';
import type { Exchange } from '../store/exchange.js';
import { newExchangeId } from '../store/exchange-id.js';
import { readExchanges } from '../store/segment-reader.js';
import { openStoreWriter } from '../store/segment-writer.js';

const [mode, ...args] = process.argv.slice(2);
const rssMB = (): number => process.resourceUsage().maxRSS / 1024;
const out = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ ...o, rssMB: rssMB() })}\n`);

const T0 = Date.UTC(2026, 10, 23, 9, 0, 0) * 1000;
function benchExchange(i: number, path: string): Exchange {
  const start = T0 + i * 50;
  return {
    v: 1,
    id: newExchangeId(Math.floor(start / 1000)),
    start,
    duration: 500,
    source: { kind: 'synthetic', captureId: 'bench', connection: `c${i % 64}`, seq: Math.floor(i / 64) },
    request: { method: 'GET', scheme: 'http', authority: 'bench.recorded.test', path, query: '', httpVersion: '1.1', headers: [['Host', 'bench.recorded.test'], ['User-Agent', 'bench/1'], ['Accept', 'application/json']], body: null },
    response: { status: 200, httpVersion: '1.1', headers: [['Content-Type', 'application/json']], body: null },
  };
}

switch (mode) {
  case 'write': {
    const [store, n, path] = args as [string, string, string];
    const w = await openStoreWriter(store);
    for (let i = 0; i < Number(n); i++) await w.write(benchExchange(i, path));
    await w.close();
    out({ written: Number(n) });
    break;
  }
  case 'max': {
    const [store, url, conns, seconds] = args as [string, string, string, string];
    const s = await runMax({ store, target: url, connections: Number(conns), durationMs: Number(seconds) * 1000, mixLimit: 1000 });
    out({ rps: s.autocannon.rps, completed: s.metrics.overall.completed, errors: s.metrics.overall.errors, p99Us: s.metrics.overall.latency.p99 });
    break;
  }
  case 'autocannon': {
    const [url, conns, seconds] = args as [string, string, string];
    const autocannon = createRequire(import.meta.url)('autocannon') as (o: Record<string, unknown>) => Promise<{ requests: { total: number }; duration: number; errors: number }>;
    const r = await autocannon({ url, connections: Number(conns), duration: Number(seconds) });
    out({ rps: r.requests.total / r.duration, errors: r.errors });
    break;
  }
  case 'timed': {
    const [store, url, rate, seconds, workers] = args as [string, string, string, string, string | undefined];
    const sentPerSecond: number[] = [];
    // Schedule lag of the first half second (how well the warm-up worked) and after the first second.
    const startLags: number[] = [];
    const laterLags = new Float32Array(Number(rate) * Number(seconds));
    let laterCount = 0;
    const options: ReplayOptions = {
      store,
      target: url,
      profile: { type: 'constant', rate: Number(rate), duration: Number(seconds) },
      concurrency: 512,
    };
    // Sharded: per-second sends come from the merged time series (results stay in the workers).
    const s =
      Number(workers ?? 1) > 1
        ? await runReplaySharded({ ...options, workers: Number(workers) })
        : await runReplay({
            ...options,
            onResult: (r: RequestResult) => {
              if (r.sentUs === null) return;
              const lag = r.sentUs - r.intendedUs;
              if (r.intendedUs < 500_000) startLags.push(lag);
              else if (r.intendedUs >= 1_000_000 && laterCount < laterLags.length) laterLags[laterCount++] = lag;
              const sec = Math.floor(r.sentUs / 1e6);
              while (sentPerSecond.length <= sec) sentPerSecond.push(0);
              sentPerSecond[sec]!++;
            },
          });
    if (sentPerSecond.length === 0) sentPerSecond.push(...sentSeries(s.metrics));
    const planned = Number(rate);
    const whole = sentPerSecond.slice(0, Number(seconds));
    const errors = whole.map((n) => (n - planned) / planned);
    const o = s.metrics.overall;
    out({
      planned: Number(rate) * Number(seconds),
      sent: o.sent,
      completed: o.completed,
      dropped: o.dropped,
      late: o.late,
      errors: o.errors,
      maxRateErrorPct: Math.max(...errors.map((e) => Math.abs(e) * 100)),
      secondsWithin1Pct: errors.filter((e) => Math.abs(e) <= 0.01).length,
      seconds: whole.length,
      lagP50Us: o.lag.p50,
      lagP99Us: o.lag.p99,
      latencyP99Us: o.latency.p99,
      uncorrectedP99Us: o.uncorrected.p99,
      startLagP99Us: quantile(startLags, 0.99),
      laterLagP99Us: quantile(laterLags.subarray(0, laterCount), 0.99),
      laterLateOver1ms: laterLags.subarray(0, laterCount).filter((l) => l > 1000).length,
      laterSends: laterCount,
      sentPerSecond,
    });
    break;
  }
  case 'plan': {
    const [store] = args as [string];
    const clock = startRunClock();
    const metrics = new ReplayMetrics();
    const t0 = performance.now();
    // With --expose-gc: the live heap after a full GC, ten times over the run (what is retained, not allocator slack).
    const gc = (globalThis as { gc?: () => void }).gc;
    const every = Math.max(1, Math.floor(Number(args[1] ?? 0) / 10));
    const heapMB: number[] = [];
    let seen = 0;
    // The top speed puts every send "now" (records are 50 µs apart): the scheduler runs flat out; the send records a result instead of using a socket.
    const stats = await runOpenModel(
      planSends(() => readExchanges(store), { speed: MAX_SPEED }),
      {
        send: async (p) => {
          const now = clock.nowUs();
          metrics.record({ endpoint: 'GET /api/users.json', exchangeId: p.exchange.id, copy: p.copy, intendedUs: p.intendedUs, sentUs: now, doneUs: now + 500, status: 200, bytesSent: 100, bytesReceived: 200 });
          if (gc && ++seen % every === 0) {
            gc();
            heapMB.push(Math.round(process.memoryUsage().heapUsed / 1048576));
          }
        },
        drop: () => undefined,
      },
      { clock, concurrency: 256 },
    );
    const seconds = (performance.now() - t0) / 1000;
    out({ exchanges: stats.started, seconds, perSecond: stats.started / seconds, heapMinMB: Math.min(...heapMB), heapMaxMB: Math.max(...heapMB) });
    break;
  }
  default:
    throw new Error(`replay-worker: unknown mode ${mode}`);
}

/** Sends per whole second from a snapshot's time series (1 s buckets for any run under an hour). */
function sentSeries(m: MetricsSnapshot): number[] {
  const out: number[] = [];
  for (const p of m.series.points) {
    const sec = Math.floor(p.startS);
    while (out.length <= sec) out.push(0);
    out[sec]! += p.sent;
  }
  return out;
}

/** The q-quantile of some values (NaN when there are none). */
function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
