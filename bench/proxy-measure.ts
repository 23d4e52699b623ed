import { execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ProxyStats } from '../capture/proxy/proxy-stats.js';
import { readExchanges } from '../store/segment-reader.js';
import type { MinorGcStats } from './proxy-gc-stats.js';
import { cpuSeconds, UPSTREAM_PATH } from './proxy-nginx.js';

/**
 * The proxy bench's instruments: wrk (closed model, flat out), the
 * fixed-rate generator (proxy-load.ts), the reprise proxy process
 * (proxy-worker.ts), per-core busy time from /proc/stat, and the wait for a
 * quiet machine. The two node processes run compiled JavaScript (tsc into
 * bench/out/proxy-build/), as the published package does: under tsx the proxy
 * would carry ~30 MB of loader and compiler that no deployment has.
 */

const OUT_DIR = fileURLToPath(new URL('./out/', import.meta.url));
const REPO = fileURLToPath(new URL('../', import.meta.url));
const run = promisify(execFile);

/** Compile the worker and the load generator (and what they import) with the project's tsc. */
export function buildWorkers(): { worker: string; load: string; bareRelay: string } {
  const [worker, load, bareRelay] = compileBenchScripts('proxy-build', ['proxy-worker.ts', 'proxy-load.ts', 'proxy-bare-relay.ts']);
  return { worker: worker!, load: load!, bareRelay: bareRelay! };
}

/**
 * Compile bench scripts (bench/<file>.ts, and what they import) into
 * bench/out/<dirName>/ with the project's tsc; returns the .js path of each.
 */
export function compileBenchScripts(dirName: string, files: string[]): string[] {
  const dir = join(OUT_DIR, dirName);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    extends: '../../../tsconfig.json',
    compilerOptions: { rootDir: '../../..', outDir: '.', sourceMap: false, declaration: false },
    include: [],
    files: files.map((f) => `../../${f}`),
  }));
  const out = files.map((f) => join(dir, 'bench', f.replace(/\.ts$/, '.js')));
  try {
    execFileSync(join(REPO, 'node_modules', '.bin', 'tsc'), ['-p', join(dir, 'tsconfig.json')], { stdio: 'pipe' });
  } catch (err) {
    // Type errors still emit; only a missing output is fatal.
    if (!out.every((f) => existsSync(f))) throw err;
  }
  return out;
}

export interface WrkRun {
  requests: number;
  seconds: number;
  rps: number;
  /** Non-2xx responses plus socket errors. */
  errors: number;
  /** CPU the client used (user + system), seconds. */
  clientCpuS: number;
}

/** wrk -t1 -cN flat out for `seconds`, pinned to `core`. */
export async function runWrk(port: number, seconds: number, connections: number, core: number): Promise<WrkRun> {
  const { stdout, cpuS } = await timed(core, ['wrk', '-t1', `-c${connections}`, `-d${seconds}s`, `http://127.0.0.1:${port}${UPSTREAM_PATH}`]);
  const done = /(\d+) requests in ([\d.]+)(m?s)/.exec(stdout);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  if (!done || !rps) throw new Error(`unexpected wrk output:\n${stdout}`);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const socketErrors = sock ? sock.slice(1).reduce((a, n) => a + Number(n), 0) : 0;
  return { requests: Number(done[1]), seconds: Number(done[2]) / (done[3] === 'ms' ? 1000 : 1), rps: Number(rps[1]), errors: non2xx + socketErrors, clientCpuS: cpuS };
}

export interface LoadRun {
  sent: number;
  completed: number;
  failed: number;
  non2xx: number;
  measured: number;
  latencyUs: Percentiles;
  sendLagUs: Percentiles;
  clientCpuS: number;
}
export interface Percentiles { p50: number; p90: number; p99: number; p999: number; max: number }

/** The fixed-rate generator, pinned to `core`: `rate`/s for `seconds` after `warmup` seconds not measured. */
export async function runLoad(script: string, url: string, rate: number, seconds: number, warmup: number, core: number): Promise<LoadRun> {
  const { stdout, cpuS } = await timed(core, [process.execPath, script, url, String(rate), String(seconds), String(warmup)]);
  return { ...(JSON.parse(stdout) as Omit<LoadRun, 'clientCpuS'>), clientCpuS: cpuS };
}

/** Run a command pinned to `core` under /usr/bin/time, for the CPU it used. */
async function timed(core: number, argv: string[]): Promise<{ stdout: string; cpuS: number }> {
  const { stdout, stderr } = await run('taskset', ['-c', String(core), '/usr/bin/time', '-f', 'cpu %U %S', ...argv], { maxBuffer: 16 << 20 });
  const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
  return { stdout, cpuS: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN };
}

/** A bench worker in its own pinned process, spoken to over stdin/stdout lines (see proxy-worker.ts). */
export interface PinnedWorker<Final> {
  readonly pid: number;
  readonly port: number;
  /** Scavenge pauses since the previous call (proxy-gc-stats.ts). */
  minorGc(): Promise<MinorGcStats>;
  /** Close stdin → graceful close → the worker's final report (peak RSS, and stats where it has them). */
  close(): Promise<Final>;
}

export type RepriseProcess = PinnedWorker<{ stats: ProxyStats; maxRssMB: number }>;
export type BareRelayProcess = PinnedWorker<{ maxRssMB: number }>;

/**
 * The recording proxy (proxy-worker.ts) pinned to `core`, recording into
 * `store`; `nodeFlags` go to node before the script (e.g. V8 heap flags).
 */
export function startReprise(script: string, upstreamPort: number, store: string, core: number, cpuProfDir?: string, nodeFlags: string[] = []): Promise<RepriseProcess> {
  const prof = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
  return startPinnedWorker('the reprise proxy worker', core, [...nodeFlags, ...prof, script, `http://127.0.0.1:${upstreamPort}`, store]);
}

/** The bare node:http + undici relay (proxy-bare-relay.ts) pinned to `core`. */
export function startBareRelay(script: string, upstreamPort: number, core: number): Promise<BareRelayProcess> {
  return startPinnedWorker('the bare relay', core, [script, `http://127.0.0.1:${upstreamPort}`]);
}

/** Its first stdout line is `{"port":…}`; its last, after stdin closes, the final report. */
async function startPinnedWorker<Final>(label: string, core: number, nodeArgs: string[]): Promise<PinnedWorker<Final>> {
  const child = spawn('taskset', ['-c', String(core), process.execPath, ...nodeArgs], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error(`${label} exited before listening`);
  const { port } = JSON.parse(first.value) as { port: number };
  return {
    pid: child.pid!,
    port,
    minorGc: () => askMinorGc(child.stdin!, lines),
    async close() {
      const exited = once(child, 'exit');
      child.stdin!.end();
      const last = await lines.next();
      await exited;
      if (last.done) throw new Error(`${label} exited without its final report (code ${child.exitCode})`);
      return JSON.parse(last.value) as Final;
    },
  };
}

/** Ask a worker for its scavenge pauses: a `gc` line out, a `{"gc":…}` line back. */
async function askMinorGc(stdin: NodeJS.WritableStream, lines: AsyncIterator<string>): Promise<MinorGcStats> {
  stdin.write('gc\n');
  const next = await lines.next();
  if (next.done) throw new Error('the proxy worker exited instead of reporting its GC pauses');
  return (JSON.parse(next.value) as { gc: MinorGcStats }).gc;
}

/** Exchanges in a (closed) store, and how many of them the client abandoned mid-way. */
export async function countStore(store: string): Promise<{ exchanges: number; clientAborted: number; errors: number }> {
  const n = { exchanges: 0, clientAborted: 0, errors: 0 };
  for await (const ex of readExchanges(store)) {
    n.exchanges++;
    if (ex.meta?.clientAborted === true) n.clientAborted++;
    else if (ex.error !== undefined) n.errors++;
  }
  return n;
}

export interface Usage {
  /** CPU the proxy process used over the run (user, system), seconds; 0 without a proxy. */
  proxyUserS: number;
  proxySystemS: number;
  /** How busy the client's core was (client + upstream + anything else there), %. */
  clientCorePct: number;
  /** CPU used by processes not the bench's, % of the whole machine (approximate: includes stray softirq time). */
  othersPct: number;
}

/**
 * Run one measurement and account for the CPU over it: the proxy's and the
 * upstream's from /proc/<pid>/stat, the client's as reported by the run, and
 * whatever else the machine did (other tenants of a shared VM) by difference
 * with /proc/stat.
 */
export async function withUsage<T extends { clientCpuS: number }>(proxyPid: number | null, upstreamPid: number, clientCore: number, measure: () => Promise<T>): Promise<T & Usage> {
  const zero = { user: 0, system: 0 };
  const [p0, u0, c0] = [proxyPid === null ? zero : cpuSeconds(proxyPid), cpuSeconds(upstreamPid), coreTimes()];
  const r = await measure();
  const [p1, u1, c1] = [proxyPid === null ? zero : cpuSeconds(proxyPid), cpuSeconds(upstreamPid), coreTimes()];
  const jiffies = (pick: (c: { busy: number; total: number }) => number): number => c1.reduce((a, c, i) => a + pick(c) - pick(c0[i]!), 0) / 100;
  const ours = p1.user - p0.user + p1.system - p0.system + (u1.user - u0.user + u1.system - u0.system) + r.clientCpuS;
  const [b0, b1] = [c0[clientCore]!, c1[clientCore]!];
  return {
    ...r,
    proxyUserS: p1.user - p0.user,
    proxySystemS: p1.system - p0.system,
    clientCorePct: b1.total === b0.total ? 0 : (100 * (b1.busy - b0.busy)) / (b1.total - b0.total),
    othersPct: Math.max(0, (100 * (jiffies((c) => c.busy) - ours)) / jiffies((c) => c.total)),
  };
}

/** Jiffies per CPU (busy, total) from /proc/stat. */
function coreTimes(): Array<{ busy: number; total: number }> {
  return readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d/.test(l)).map((l) => {
    const v = l.trim().split(/\s+/).slice(1, 9).map(Number); // user nice system idle iowait irq softirq steal
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - v[3]! - v[4]!, total };
  });
}

/**
 * Wait until others' work on this shared VM has died down: the 1-min load
 * average under `maxLoad` (polled up to `waitMs`). Returns the load seen.
 */
export async function waitForQuietLoad(maxLoad: number, waitMs: number, log: (line: string) => void): Promise<number> {
  const deadline = performance.now() + waitMs;
  let load = loadavg()[0]!;
  while (load >= maxLoad && performance.now() < deadline) {
    log(`waiting for a quiet machine: load ${load.toFixed(2)} ≥ ${maxLoad}`);
    await sleep(10_000);
    load = loadavg()[0]!;
  }
  if (load >= maxLoad) log(`machine still busy after ${waitMs / 1000} s (load ${load.toFixed(2)}); measuring anyway`);
  return load;
}

/**
 * Before a phase (the bench's own processes idle): how busy the machine is
 * over one second — others' work. Waits up to `waitMs` for it to fall under
 * `maxBusy` % (of all cores), then returns a line for the log.
 */
export async function settleBeforePhase(maxBusy: number, waitMs: number): Promise<string> {
  const deadline = performance.now() + waitMs;
  for (;;) {
    const t0 = coreTimes();
    await sleep(1000);
    const t1 = coreTimes();
    const busy = t1.map((a, i) => (a.total === t0[i]!.total ? 0 : (100 * (a.busy - t0[i]!.busy)) / (a.total - t0[i]!.total)));
    const mean = busy.reduce((a, b) => a + b, 0) / busy.length;
    if (mean < maxBusy || performance.now() > deadline) {
      return `load ${loadavg().map((l) => l.toFixed(2)).join(' ')}; others' CPU over 1 s: ${busy.map((b) => `${b.toFixed(0)}%`).join(' / ')}${mean >= maxBusy ? ' (not quiet; measuring anyway)' : ''}`;
    }
  }
}
