import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberListFlag, type BenchFlags, type BenchResult } from './bench-support.js';
import { startUpstreamNginx, UPSTREAM_PATH } from './proxy-nginx.js';

/**
 * Replay against nginx (Debian package, one worker pinned to core 1), every
 * reprise phase in its own process pinned to core 0:
 *
 * 1. `--max` requests/s against autocannon alone and wrk, same connections
 *    and duration, same request (the recorded mix is GETs of one JSON file).
 * 2. Timed open-model replay on a constant profile (default 20k/s for 30 s):
 *    the worst per-second rate error against the plan, how many seconds are
 *    within ±1%, schedule-lag p50/p99, late and dropped sends; and at a rate
 *    one process keeps up with (default 4k/s for 5 s), the lag p99 of the
 *    first half second (what the warm-up leaves) and after the first second.
 * 3. Peak RSS of the engine's streaming path (store read → plan → scheduler
 *    → metrics, no sockets) over a 10^6- and a 10^7-exchange store.
 *
 * Stores are built once and cached in bench/out/ (10^7 takes about a minute).
 *
 * `npm run bench -- replay [--replay-seconds=10] [--replay-rate=20000] [--replay-timed-seconds=30]
 *  [--replay-steady-rate=4000] [--replay-connections=50] [--replay-rss-sizes=1000000,10000000]`
 */
export async function runBench(flags: BenchFlags): Promise<BenchResult[]> {
  const seconds = Number(flags.get('replay-seconds') ?? 10);
  const connections = Number(flags.get('replay-connections') ?? 50);
  const rate = Number(flags.get('replay-rate') ?? 20_000);
  const timedSeconds = Number(flags.get('replay-timed-seconds') ?? 30);
  const rssSizes = numberListFlag(flags, 'replay-rss-sizes') ?? [1_000_000, 10_000_000];
  const worker = fileURLToPath(new URL('./replay-worker.ts', import.meta.url));
  const outDir = fileURLToPath(new URL('./out/', import.meta.url));
  mkdirSync(outDir, { recursive: true });
  const storeOf = (n: number): string => {
    const store = join(outDir, `replay-store-${n}`);
    if (!existsSync(join(store, 'manifest.json')) || existsSync(join(store, 'writer.lock'))) {
      rmSync(store, { recursive: true, force: true });
      phase(worker, ['write', store, String(n), UPSTREAM_PATH]);
    }
    return store;
  };

  const nginxDir = mkdtempSync(join(tmpdir(), 'reprise-bench-replay-'));
  const nginx = await startUpstreamNginx(nginxDir, 1);
  const url = `http://127.0.0.1:${nginx.port}`;
  const results: BenchResult[] = [];
  try {
    const mixStore = storeOf(rssSizes[0] ?? 1_000_000);

    // 1. Throughput, closed model: the three tools back to back on the same core.
    const ac = phase(worker, ['autocannon', `${url}${UPSTREAM_PATH}`, String(connections), String(seconds)]);
    const max = phase(worker, ['max', mixStore, url, String(connections), String(seconds)]);
    const wrk = wrkRps(`${url}${UPSTREAM_PATH}`, connections, seconds);
    const note = `${connections} connections, ${seconds} s, nginx 1 worker`;
    results.push({ name: '--max vs autocannon', value: max.rps, unit: 'req/s', anchor: 'autocannon', anchorValue: ac.rps, rssMB: max.rssMB, extra: `${note}; reprise p99 ${(max.p99Us / 1000).toFixed(2)} ms, ${max.errors} errors` });
    results.push({ name: '--max vs wrk', value: max.rps, unit: 'req/s', anchor: 'wrk -t1', anchorValue: wrk, extra: note });

    // 2. Timed, open model.
    const t = phase(worker, ['timed', mixStore, url, String(rate), String(timedSeconds)]);
    results.push({
      name: `timed ${rate}/s × ${timedSeconds} s: worst second`,
      value: t.maxRateErrorPct,
      unit: '% off plan',
      extra: `${t.secondsWithin1Pct}/${t.seconds} s within ±1%; sent ${t.sent} of ${t.planned}, late ${t.late}, dropped ${t.dropped}, errors ${t.errors}`,
      rssMB: t.rssMB,
    });
    results.push({ name: `timed ${rate}/s: schedule lag p99`, value: t.lagP99Us / 1000, unit: 'ms', extra: `p50 ${(t.lagP50Us / 1000).toFixed(3)} ms; latency p99 corrected ${(t.latencyP99Us / 1000).toFixed(2)} ms, uncorrected ${(t.uncorrectedP99Us / 1000).toFixed(2)} ms` });

    // 2a. A rate one process keeps up with here: how close to the schedule the sends go out, from the
    // first half second (the warm-up's job) on.
    const steadyRate = Number(flags.get('replay-steady-rate') ?? 4000);
    const ts = phase(worker, ['timed', mixStore, url, String(steadyRate), '5']);
    results.push({ name: `timed ${steadyRate}/s × 5 s: lag p99, first 0.5 s`, value: ts.startLagP99Us / 1000, unit: 'ms', extra: `overall lag p50 ${(ts.lagP50Us / 1000).toFixed(3)} ms, p99 ${(ts.lagP99Us / 1000).toFixed(2)} ms; ${ts.secondsWithin1Pct}/${ts.seconds} s within ±1%` });
    results.push({ name: `timed ${steadyRate}/s × 5 s: lag p99 after 1 s`, value: ts.laterLagP99Us / 1000, unit: 'ms', extra: `${ts.laterLateOver1ms} of ${ts.laterSends} sends more than 1 ms late` });

    // 2b. The same, sent from two processes (--workers 2) on both cores — which nginx shares.
    const t2 = phase(worker, ['timed', mixStore, url, String(rate), String(timedSeconds), '2'], [], '0,1');
    results.push({
      name: `timed ${rate}/s, 2 workers: worst second`,
      value: t2.maxRateErrorPct,
      unit: '% off plan',
      extra: `${t2.secondsWithin1Pct}/${t2.seconds} s within ±1%; sent ${t2.sent} of ${t2.planned}, late ${t2.late}, dropped ${t2.dropped}; lag p50 ${(t2.lagP50Us / 1000).toFixed(3)} ms, p99 ${(t2.lagP99Us / 1000).toFixed(1)} ms; cores 0-1 shared with nginx`,
    });

    // 3. Memory does not grow with the store.
    for (const n of rssSizes) {
      const p = phase(worker, ['plan', storeOf(n), String(n)], ['--expose-gc']);
      results.push({ name: `engine over ${n.toExponential(0)} exchanges`, value: p.perSecond, unit: 'sends/s', rssMB: p.rssMB, extra: `store read + plan + scheduler + metrics, no sockets; heap after GC ${p.heapMinMB}-${p.heapMaxMB} MB; ${p.seconds.toFixed(1)} s` });
    }
  } finally {
    await nginx.stop();
    rmSync(nginxDir, { recursive: true, force: true });
  }
  return results;
}

/** The fields the phases print (replay-worker.ts); each mode fills its own. */
interface PhaseResult {
  rssMB: number;
  rps: number;
  errors: number;
  p99Us: number;
  planned: number;
  sent: number;
  late: number;
  dropped: number;
  maxRateErrorPct: number;
  secondsWithin1Pct: number;
  seconds: number;
  lagP50Us: number;
  lagP99Us: number;
  latencyP99Us: number;
  uncorrectedP99Us: number;
  startLagP99Us: number;
  laterLagP99Us: number;
  laterLateOver1ms: number;
  laterSends: number;
  perSecond: number;
  heapMinMB: number;
  heapMaxMB: number;
}

function phase(worker: string, args: string[], nodeFlags: string[] = [], cores = '0'): PhaseResult {
  const out = execFileSync('taskset', ['-c', cores, process.execPath, ...nodeFlags, '--import', 'tsx', worker, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').at(-1)!) as PhaseResult;
}

function wrkRps(url: string, connections: number, seconds: number): number {
  const out = execFileSync('taskset', ['-c', '0', 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, url], { encoding: 'utf8' });
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`wrk printed no Requests/sec:\n${out}`);
  return Number(m[1]);
}
