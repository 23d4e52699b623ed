import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchFlags, BenchResult } from './bench-support.js';
import type { MinorGcStats } from './proxy-gc-stats.js';
import { buildWorkers, countStore, runLoad, runWrk, settleBeforePhase, startBareRelay, startReprise, waitForQuietLoad, withUsage, type LoadRun, type RepriseProcess, type Usage, type WrkRun } from './proxy-measure.js';
import { peakRssMB, startProxyNginx, startUpstreamNginx, UPSTREAM_PATH } from './proxy-nginx.js';

/**
 * The recording reverse proxy against nginx as a reverse proxy, both in
 * front of the same upstream (nginx serving a small JSON file) in the same
 * run. Both proxies run pinned to core 0, one process each (nginx: one
 * worker, no master); wrk, the fixed-rate generator and the upstream share
 * core 1. reprise records every exchange into a fresh local store with the
 * CLI's defaults; the store is read back after each run and its count
 * checked against what the clients completed.
 *
 *  1. Throughput: wrk -t1 -c32 flat out through each proxy → req/s, ratio.
 *  2. Latency at a fixed 1k req/s (open model, from each request's due
 *     time): direct to the upstream, through nginx, through reprise → p50/p99,
 *     and the latency each proxy adds (through − direct).
 *  3. CPU per request (from /proc/<pid>/stat) and peak RSS (VmHWM) of each proxy.
 *
 * A third target in both phases, "node relay" (proxy-bare-relay.ts), is
 * node:http + an undici Pool relaying bytes and nothing else: the floor of
 * the stack reprise is built on, so the gap to nginx can be split into what
 * the Node stack costs and what reprise adds on top of it.
 *
 * Each phase runs `rounds` times, alternating targets; the best round of each
 * target is kept (a shared VM's noise only ever makes a run worse), and the
 * CPU other tenants used during every run is logged.
 */

export interface ProxyBenchOptions {
  /** Seconds of each measured run (default 10). */
  seconds?: number;
  /** Rounds of each phase (default 3); the best is kept. */
  rounds?: number;
  /** Fixed rate of the latency phase, req/s (default 1000). */
  rate?: number;
  /** Write a V8 CPU profile of each reprise proxy process into this directory. */
  cpuProfDir?: string;
  /** Extra node flags for the reprise process (e.g. `--max-semi-space-size=1`), as a user would set in NODE_OPTIONS. */
  nodeFlags?: string[];
}

/** How long each phase waits for others' work on the machine to die down before measuring anyway. */
const SETTLE_WAIT_MS = 20_000;

const PROXY_CORE = 0;
const CLIENT_CORE = 1;
const CONNECTIONS = 32;
const WARMUP_S = 2;

type Throughput = WrkRun & Usage & { cpuPct: number; cpuUsPerReq: number };
type Latency = LoadRun & Usage & { cpuUsPerReq: number; minorGc: MinorGcStats | null };

export async function benchProxy(options: ProxyBenchOptions = {}): Promise<BenchResult[]> {
  const log = (line: string): void => void process.stderr.write(`bench proxy: ${line}\n`);
  const seconds = options.seconds ?? 10;
  const rounds = options.rounds ?? 3;
  const rate = options.rate ?? 1000;
  log(`${version('/usr/sbin/nginx', '-v')}; ${version('wrk', '-v')}; node ${process.version}`);
  const scripts = buildWorkers();
  const tmp = mkdtempSync(join(tmpdir(), 'reprise-bench-proxy-'));
  const stops: Array<() => Promise<void>> = [];
  try {
    mkdirSync(join(tmp, 'upstream'));
    mkdirSync(join(tmp, 'nginx-proxy'));
    const upstream = await startUpstreamNginx(join(tmp, 'upstream'), CLIENT_CORE);
    stops.push(upstream.stop);
    const nginx = await startProxyNginx(join(tmp, 'nginx-proxy'), PROXY_CORE, upstream.port);
    stops.push(nginx.stop);
    if (options.cpuProfDir) mkdirSync(options.cpuProfDir, { recursive: true });
    const nodeFlags = options.nodeFlags ?? [];
    if (nodeFlags.length > 0) log(`reprise runs with node ${nodeFlags.join(' ')}`);
    const reprise = (store: string): Promise<RepriseProcess> => startReprise(scripts.worker, upstream.port, join(tmp, store), PROXY_CORE, options.cpuProfDir, nodeFlags);
    let repriseRssMB = 0;
    const checks: string[] = [];

    /** Close a reprise process and check its store against what the clients completed. */
    const closeAndCheck = async (p: RepriseProcess, store: string, completed: number, runs: number, label: string): Promise<void> => {
      repriseRssMB = Math.max(repriseRssMB, peakRssMB(p.pid));
      const final = await p.close();
      repriseRssMB = Math.max(repriseRssMB, final.maxRssMB);
      const n = await countStore(join(tmp, store));
      const r = final.stats.recorder;
      // A request in flight when wrk stops is not counted by wrk but reaches the store (≤ one per connection per run).
      const ok = n.exchanges >= completed && n.exchanges <= completed + runs * CONNECTIONS && r.dropped === 0 && r.writeErrors === 0;
      const line = `${label}: store holds ${n.exchanges} exchanges; clients completed ${completed} (+${n.exchanges - completed} in flight when wrk stopped, ${n.clientAborted} of them recorded as client-aborted); dropped ${r.dropped}, write errors ${r.writeErrors}${ok ? '' : ' — MISMATCH'}`;
      log(line);
      checks.push(line);
      if (!ok) throw new Error(`proxy bench: the store does not hold every exchange: ${line}`);
    };

    log(`1-min load ${(await waitForQuietLoad(0.7, 120_000, log)).toFixed(2)} at start`);

    // 1. Throughput, flat out.
    const tput: Record<'nginx' | 'relay' | 'reprise', Throughput[]> = { nginx: [], relay: [], reprise: [] };
    let relayRssMB = 0;
    const measureWrk = async (port: number, pid: number): Promise<Throughput> => {
      const w = await withUsage(pid, upstream.pid, CLIENT_CORE, () => runWrk(port, seconds, CONNECTIONS, CLIENT_CORE));
      if (w.errors > 0) throw new Error(`wrk saw ${w.errors} errors through port ${port}`);
      const cpu = w.proxyUserS + w.proxySystemS;
      return { ...w, cpuPct: (100 * cpu) / w.seconds, cpuUsPerReq: (cpu * 1e6) / w.requests };
    };
    for (let round = 1; round <= rounds; round++) {
      log(`throughput ${round}/${rounds}, nginx: ${await settleBeforePhase(15, SETTLE_WAIT_MS)}`);
      await runWrk(nginx.port, WARMUP_S, CONNECTIONS, CLIENT_CORE);
      tput.nginx.push(await measureWrk(nginx.port, nginx.pid));
      log(`  nginx ${describeThroughput(tput.nginx.at(-1)!)}`);

      const relay = await startBareRelay(scripts.bareRelay, upstream.port, PROXY_CORE);
      log(`throughput ${round}/${rounds}, node relay: ${await settleBeforePhase(15, SETTLE_WAIT_MS)}`);
      await runWrk(relay.port, WARMUP_S, CONNECTIONS, CLIENT_CORE);
      tput.relay.push(await measureWrk(relay.port, relay.pid));
      relayRssMB = Math.max(relayRssMB, peakRssMB(relay.pid), (await relay.close()).maxRssMB);
      log(`  node relay ${describeThroughput(tput.relay.at(-1)!)}`);

      const store = `store-throughput-${round}`;
      const p = await reprise(store);
      log(`throughput ${round}/${rounds}, reprise: ${await settleBeforePhase(15, SETTLE_WAIT_MS)}`);
      const warm = await runWrk(p.port, WARMUP_S, CONNECTIONS, CLIENT_CORE);
      tput.reprise.push(await measureWrk(p.port, p.pid));
      log(`  reprise ${describeThroughput(tput.reprise.at(-1)!)}`);
      await closeAndCheck(p, store, warm.requests + tput.reprise.at(-1)!.requests, 2, `throughput ${round}`);
    }

    // 2. Latency at a fixed rate, with each proxy's CPU over the run.
    const lat: Record<Target, Latency[]> = { direct: [], nginx: [], relay: [], reprise: [] };
    const p = await reprise('store-latency');
    const relay = await startBareRelay(scripts.bareRelay, upstream.port, PROXY_CORE);
    stops.push(async () => void (await relay.close()));
    await runWrk(relay.port, WARMUP_S, CONNECTIONS, CLIENT_CORE);
    const warm = await runWrk(p.port, WARMUP_S, CONNECTIONS, CLIENT_CORE);
    await runWrk(nginx.port, WARMUP_S, CONNECTIONS, CLIENT_CORE);
    let throughReprise = warm.requests;
    // The node processes report their scavenge pauses over each run (nginx has no GC).
    const targets: Array<[Target, number, number | null, (() => Promise<MinorGcStats>) | null]> = [['direct', upstream.port, null, null], ['nginx', nginx.port, nginx.pid, null], ['relay', relay.port, relay.pid, relay.minorGc], ['reprise', p.port, p.pid, p.minorGc]];
    for (let round = 1; round <= rounds; round++) {
      for (const [name, port, pid, minorGc] of targets) {
        log(`latency ${round}/${rounds} at ${rate}/s, ${name}: ${await settleBeforePhase(15, SETTLE_WAIT_MS)}`);
        await minorGc?.();
        const l = await withUsage(pid, upstream.pid, CLIENT_CORE, () => runLoad(scripts.load, `http://127.0.0.1:${port}${UPSTREAM_PATH}`, rate, seconds, 1, CLIENT_CORE));
        const gc = minorGc ? await minorGc() : null;
        if (l.failed + l.non2xx > 0) throw new Error(`${name}: ${l.failed} failed and ${l.non2xx} non-2xx requests at ${rate}/s`);
        if (name === 'reprise') throughReprise += l.completed;
        lat[name].push({ ...l, cpuUsPerReq: ((l.proxyUserS + l.proxySystemS) * 1e6) / l.sent, minorGc: gc });
        log(`  ${name} ${describeLatency(lat[name].at(-1)!)}`);
      }
    }
    await closeAndCheck(p, 'store-latency', throughReprise, 2, 'latency');

    const nginxRssMB = peakRssMB(nginx.pid);
    const best = {
      tput: { nginx: maxBy(tput.nginx, (t) => t.rps), relay: maxBy(tput.relay, (t) => t.rps), reprise: maxBy(tput.reprise, (t) => t.rps) },
      lat: { direct: minBy(lat.direct, (l) => l.latencyUs.p99), nginx: minBy(lat.nginx, (l) => l.latencyUs.p99), relay: minBy(lat.relay, (l) => l.latencyUs.p99), reprise: minBy(lat.reprise, (l) => l.latencyUs.p99) },
    };
    process.stdout.write(`\n${formatLatency(best.lat, rate, seconds)}\n`);
    const { nginx: tn, relay: tb, reprise: tr } = best.tput;
    const { direct: ld, nginx: ln, relay: lb, reprise: lr } = best.lat;
    const cpuPct = (l: Latency): number => (l.cpuUsPerReq * rate) / 1e4;
    return [
      { name: `max throughput, wrk -c${CONNECTIONS} (all recorded)`, value: tr.rps, unit: 'req/s', anchor: 'nginx', anchorValue: tn.rps, extra: `CPU/req ${tr.cpuUsPerReq.toFixed(0)} µs vs ${tn.cpuUsPerReq.toFixed(0)} µs; proxy core ${tr.cpuPct.toFixed(0)}% vs ${tn.cpuPct.toFixed(0)}%; client core ${tr.clientCorePct.toFixed(0)}% vs ${tn.clientCorePct.toFixed(0)}%` },
      { name: `max throughput, node relay (no recording)`, value: tb.rps, unit: 'req/s', anchor: 'nginx', anchorValue: tn.rps, rssMB: relayRssMB, extra: `the Node stack's floor: reprise is ${(tr.rps / tb.rps).toFixed(2)}x of it; CPU/req ${tb.cpuUsPerReq.toFixed(0)} µs` },
      { name: `added p50 at ${rate}/s`, value: lr.latencyUs.p50 - ld.latencyUs.p50, unit: 'µs', anchor: 'nginx', anchorValue: ln.latencyUs.p50 - ld.latencyUs.p50, extra: `direct p50 ${ld.latencyUs.p50} µs` },
      { name: `added p99 at ${rate}/s`, value: lr.latencyUs.p99 - ld.latencyUs.p99, unit: 'µs', anchor: 'nginx', anchorValue: ln.latencyUs.p99 - ld.latencyUs.p99, extra: `direct p99 ${ld.latencyUs.p99} µs; node relay +${lb.latencyUs.p99 - ld.latencyUs.p99} µs` },
      { name: `CPU at ${rate}/s`, value: cpuPct(lr), unit: '% of a core', anchor: 'nginx', anchorValue: cpuPct(ln), extra: `${lr.cpuUsPerReq.toFixed(0)} vs ${ln.cpuUsPerReq.toFixed(0)} µs/req` },
      { name: 'peak RSS of the proxy process', value: repriseRssMB, unit: 'MB', anchor: 'nginx', anchorValue: nginxRssMB, rssMB: repriseRssMB, extra: checks.every((c) => !c.includes('MISMATCH')) ? 'store count checked after every run' : '' },
    ];
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await sleep(100);
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** First line a tool prints for its version flag (nginx -v writes to stderr). */
function version(cmd: string, flag: string): string {
  const r = spawnSync(cmd, [flag], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.split('\n')[0]!.trim();
}

function describeThroughput(t: Throughput): string {
  return `${Math.round(t.rps)} req/s (${t.requests} in ${t.seconds.toFixed(1)} s); proxy CPU ${t.cpuPct.toFixed(0)}% (${share(t)}), ${t.cpuUsPerReq.toFixed(1)} µs/req; client core ${t.clientCorePct.toFixed(0)}% busy; others ${t.othersPct.toFixed(0)}% of the machine`;
}

function describeLatency(l: Latency): string {
  const u = l.latencyUs;
  const gc = l.minorGc ? `; ${describeGc(l.minorGc)}; ${describeStalls(l.minorGc)}` : '';
  return `p50 ${u.p50} µs, p90 ${u.p90}, p99 ${u.p99}, p99.9 ${u.p999}, max ${u.max}; proxy CPU ${l.cpuUsPerReq.toFixed(1)} µs/req (${share(l)})${gc}; generator send lag p99 ${l.sendLagUs.p99} µs; others ${l.othersPct.toFixed(0)}% of the machine`;
}

/** `N scavenges, mean X / max Y ms` over one run. */
function describeGc(gc: MinorGcStats): string {
  return gc.count === 0 ? '0 scavenges' : `${gc.count} scavenges, mean ${(gc.totalMs / gc.count).toFixed(1)} / max ${gc.maxMs.toFixed(1)} ms`;
}

/** Full GCs and the longest event-loop stall over one run: what else can stop the proxy. */
function describeStalls(gc: MinorGcStats): string {
  return `${gc.majorCount} full GC${gc.majorCount === 1 ? '' : 's'}${gc.majorCount > 0 ? ` (max ${gc.majorMaxMs.toFixed(1)} ms)` : ''}, longest loop stall ${gc.loopDelayMaxMs.toFixed(1)} ms`;
}

function share(u: Usage): string {
  const all = u.proxyUserS + u.proxySystemS;
  return all === 0 ? 'none' : `${((100 * u.proxySystemS) / all).toFixed(0)}% in the kernel`;
}

type Target = 'direct' | 'nginx' | 'relay' | 'reprise';

/** The second table: absolute latencies of each target, and what each proxy adds. */
function formatLatency(best: Record<Target, Latency>, rate: number, seconds: number): string {
  const d = best.direct.latencyUs;
  const head = ['target', 'p50 µs', 'p90 µs', 'p99 µs', 'p99.9 µs', 'max µs', 'added p50', 'added p99', 'proxy CPU', 'scavenges (pause)', 'full GCs, longest stall', 'send lag p99', 'others'];
  const rows = (['direct', 'nginx', 'relay', 'reprise'] as const).map((name) => {
    const l = best[name];
    const u = l.latencyUs;
    const added = (v: number): string => (name === 'direct' ? '' : `${v >= 0 ? '+' : ''}${v} µs`);
    return [name === 'relay' ? 'node relay' : name, u.p50, u.p90, u.p99, u.p999, u.max, added(u.p50 - d.p50), added(u.p99 - d.p99), name === 'direct' ? '' : `${(l.cpuUsPerReq * rate / 1e4).toFixed(1)}%`, l.minorGc ? describeGc(l.minorGc).replace(' scavenges, ', ', ') : '', l.minorGc ? `${l.minorGc.majorCount}, ${l.minorGc.loopDelayMaxMs.toFixed(1)} ms` : '', `${l.sendLagUs.p99} µs`, `${l.othersPct.toFixed(0)}%`].map(String);
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [`latency at a fixed ${rate} req/s for ${seconds} s (open model, from each request's due time to its last byte):`, '', line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function maxBy<T>(xs: T[], f: (x: T) => number): T {
  return xs.reduce((a, b) => (f(b) > f(a) ? b : a));
}

function minBy<T>(xs: T[], f: (x: T) => number): T {
  return xs.reduce((a, b) => (f(b) < f(a) ? b : a));
}

/**
 * `npm run bench -- proxy [--proxy-seconds=10] [--proxy-rounds=3] [--proxy-rate=1000] [--proxy-cpu-prof=DIR] [--proxy-node-flags='--max-semi-space-size=1']`
 */
export function runBench(flags: BenchFlags): Promise<BenchResult[]> {
  const num = (name: string): number | undefined => {
    const raw = flags.get(name);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`bench proxy: --${name}=${raw} must be a positive number`);
    return n;
  };
  const nodeFlags = flags.get('proxy-node-flags')?.split(' ').filter((f) => f !== '');
  return benchProxy({ seconds: num('proxy-seconds'), rounds: num('proxy-rounds'), rate: num('proxy-rate'), cpuProfDir: flags.get('proxy-cpu-prof'), ...(nodeFlags ? { nodeFlags } : {}) });
}
