import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import type { IngestSummary } from '../capture/apigw/ingest-server.js';
import { readExchanges } from '../store/segment-reader.js';
import type { BenchFlags, BenchResult } from './bench-support.js';
import { compileBenchScripts, settleBeforePhase } from './proxy-measure.js';
import { cpuSeconds, peakRssMB } from './proxy-nginx.js';

/**
 * The API Gateway ingest endpoint (`reprise capture ingest`) under autocannon
 * posting forwarder payloads, against a bare node:http server that reads
 * each POST whole and answers 202 (the ceiling: what any node endpoint pays
 * before it looks at a payload) in the same run. The server runs pinned to
 * core 0, autocannon to core 1, each in its own process (compiled JS, as the
 * published package runs).
 *
 * reprise answers 2xx only once a payload is durable (written and flushed to
 * the kernel, group-committed), dedupes redeliveries by request id, and
 * writes the store with the CLI's defaults. 5 % of the POSTs are
 * redeliveries of an earlier payload. After each run the store is read back:
 * every request id answered 2xx must be there exactly once, with no
 * duplicate ids; ids stored but never answered are those in flight when
 * autocannon stopped (at most one per connection).
 *
 * Each target runs `rounds` times, alternating; the best round of each is kept.
 */

export interface IngestBenchOptions {
  /** Seconds of each run (default 10). */
  seconds?: number;
  /** Concurrent connections, one POST in flight on each (default 32: a fleet of forwarder Lambdas). */
  connections?: number;
  /** Rounds of each target (default 2); the best is kept. */
  rounds?: number;
  /** Every n-th POST is a redelivery of an earlier payload (default 20: 5 %; 0: none). */
  redeliverEvery?: number;
}

const SERVER_CORE = 0;
const CLIENT_CORE = 1;
const API_KEY = 'bench-key-7c4e1a';
const run = promisify(execFile);

interface LoadReport {
  sent: number;
  redeliveries: number;
  ok: number;
  distinct2xx: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  non2xx: number;
  unparsable: number;
  errors: number;
  timeouts: number;
  seconds: number;
  perSecond: number;
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number };
}

interface Round extends LoadReport {
  rssMB: number;
  cpuUsPerPost: number;
  check?: string;
}

export async function benchIngest(options: IngestBenchOptions = {}): Promise<BenchResult[]> {
  const log = (line: string): void => void process.stderr.write(`bench ingest: ${line}\n`);
  const seconds = options.seconds ?? 10;
  const connections = options.connections ?? 32;
  const rounds = options.rounds ?? 2;
  const redeliverEvery = options.redeliverEvery ?? 20;
  const [worker, load] = compileBenchScripts('ingest-build', ['ingest-worker.ts', 'ingest-load.ts']) as [string, string];
  const tmp = mkdtempSync(join(tmpdir(), 'reprise-bench-ingest-'));
  try {
    const results: Record<'anchor' | 'reprise', Round[]> = { anchor: [], reprise: [] };
    for (let round = 1; round <= rounds; round++) {
      for (const target of ['anchor', 'reprise'] as const) {
        log(`round ${round}/${rounds}, ${target}: ${await settleBeforePhase(15, 60_000)}`);
        const store = join(tmp, `store-${round}`);
        const server = await startServer(worker, target === 'reprise' ? ['reprise', store, API_KEY] : ['anchor']);
        const cpu0 = cpuSeconds(server.pid);
        const idsFile = join(tmp, `ids-${target}-${round}.txt`);
        const { stdout } = await run('taskset', ['-c', String(CLIENT_CORE), process.execPath, load, `http://127.0.0.1:${server.port}/`, String(seconds), String(connections), API_KEY, String(redeliverEvery), idsFile], { maxBuffer: 16 << 20 });
        const cpu1 = cpuSeconds(server.pid);
        const rss = peakRssMB(server.pid);
        const final = await server.close();
        const report = JSON.parse(stdout) as LoadReport;
        const r: Round = { ...report, rssMB: Math.max(rss, final.maxRssMB), cpuUsPerPost: ((cpu1.user - cpu0.user + cpu1.system - cpu0.system) * 1e6) / report.ok };
        if (report.non2xx + report.errors + report.timeouts + report.rejected + report.unparsable > 0) {
          throw new Error(`bench ingest: ${target} answered ${report.non2xx} non-2xx, ${report.errors} errors, ${report.timeouts} timeouts, ${report.rejected} rejected, ${report.unparsable} unparsable answers`);
        }
        if (target === 'reprise') r.check = await checkStore(store, idsFile, report, final.summary as IngestSummary, connections, log);
        log(`  ${target}: ${Math.round(r.perSecond)} payloads/s (${report.ok} answered 2xx in ${report.seconds} s, ${report.redeliveries} of the POSTs redeliveries); latency p50 ${r.latencyUs.p50} µs, p99 ${r.latencyUs.p99}, max ${r.latencyUs.max}; server CPU ${r.cpuUsPerPost.toFixed(0)} µs/POST; peak RSS ${r.rssMB.toFixed(0)} MB`);
        results[target].push(r);
      }
    }
    const best = (rs: Round[]): Round => rs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    const [a, r] = [best(results.anchor), best(results.reprise)];
    return [
      { name: `ingest, autocannon -c${connections} ${seconds} s, 1 payload/POST`, value: r.perSecond, unit: 'payloads/s', anchor: 'node:http 202', anchorValue: a.perSecond, rssMB: r.rssMB, extra: `every payload durable before 2xx; ${r.redeliveries} redeliveries deduped; ${r.check}` },
      { name: 'ingest latency p50', value: r.latencyUs.p50, unit: 'µs', anchor: 'node:http 202', anchorValue: a.latencyUs.p50, extra: 'closed model: each connection waits for its answer' },
      { name: 'ingest latency p99', value: r.latencyUs.p99, unit: 'µs', anchor: 'node:http 202', anchorValue: a.latencyUs.p99, extra: `max ${r.latencyUs.max} µs vs ${a.latencyUs.max} µs` },
      { name: 'server CPU per POST', value: r.cpuUsPerPost, unit: 'µs', anchor: 'node:http 202', anchorValue: a.cpuUsPerPost },
      { name: 'peak RSS of the server process', value: r.rssMB, unit: 'MB', anchor: 'node:http 202', anchorValue: a.rssMB, rssMB: r.rssMB },
    ];
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Read the store back and hold it to what the clients were told: every id
 * answered 2xx stored exactly once, no id stored twice, the server's own
 * count equal to the store's. Throws on any mismatch; returns a summary line.
 */
async function checkStore(store: string, idsFile: string, load: LoadReport, summary: IngestSummary, connections: number, log: (line: string) => void): Promise<string> {
  const stored = new Map<string, number>();
  let withoutId = 0;
  for await (const ex of readExchanges(store)) {
    const id = ex.meta?.requestId;
    if (typeof id !== 'string') withoutId++;
    else stored.set(id, (stored.get(id) ?? 0) + 1);
  }
  const total = [...stored.values()].reduce((a, n) => a + n, 0) + withoutId;
  const twice = [...stored.values()].filter((n) => n > 1).length;
  const answered = readFileSync(idsFile, 'utf8').split('\n').filter((l) => l !== '');
  const missing = answered.filter((id) => !stored.has(id)).length;
  const unanswered = stored.size - (answered.length - missing); // stored, but their answer never reached autocannon
  const problems = [
    withoutId > 0 ? `${withoutId} records without a request id` : '',
    twice > 0 ? `${twice} request ids stored more than once` : '',
    missing > 0 ? `${missing} ids answered 2xx but not in the store` : '',
    unanswered > connections ? `${unanswered} stored ids never answered (more than one in flight per connection)` : '',
    summary.accepted !== total ? `server counted ${summary.accepted} accepted, store holds ${total}` : '',
  ].filter((p) => p !== '');
  const line = `store holds ${total} records, ${stored.size} distinct ids; ${answered.length} distinct ids answered 2xx (${load.ok} answers: ${load.accepted} accepted + ${load.duplicates} duplicates), all stored once; +${unanswered} stored while their answer was in flight at the stop`;
  log(`  ${line}${problems.length > 0 ? ` — MISMATCH: ${problems.join('; ')}` : ''}`);
  if (problems.length > 0) throw new Error(`bench ingest: the store does not match the answers: ${problems.join('; ')}`);
  log(`  group commit: ${summary.flushes} store flushes for ${summary.deliveries} deliveries (${(summary.deliveries / Math.max(1, summary.flushes)).toFixed(1)} per flush)`);
  return `count checked: ${answered.length} ids answered 2xx = ${answered.length} stored once (+${unanswered} in flight at the stop), 0 duplicates; ${(summary.deliveries / Math.max(1, summary.flushes)).toFixed(1)} deliveries per flush`;
}

interface ServerProcess {
  pid: number;
  port: number;
  close(): Promise<{ maxRssMB: number; summary?: unknown }>;
}

async function startServer(script: string, args: string[]): Promise<ServerProcess> {
  const child = spawn('taskset', ['-c', String(SERVER_CORE), process.execPath, script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error(`the ingest worker (${args[0]}) exited before listening`);
  const { port } = JSON.parse(first.value) as { port: number };
  return {
    pid: child.pid!,
    port,
    async close() {
      const exited = once(child, 'exit');
      child.stdin!.end();
      const last = await lines.next();
      await exited;
      if (last.done) throw new Error(`the ingest worker (${args[0]}) exited without its report (code ${child.exitCode})`);
      return JSON.parse(last.value) as { maxRssMB: number; summary?: unknown };
    },
  };
}

/** `npm run bench -- ingest [--ingest-seconds=10] [--ingest-connections=32] [--ingest-rounds=2] [--ingest-redeliver-every=20]` */
export function runBench(flags: BenchFlags): Promise<BenchResult[]> {
  const num = (name: string, min: number): number | undefined => {
    const raw = flags.get(name);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`bench ingest: --${name}=${raw} must be an integer ≥ ${min}`);
    return n;
  };
  return benchIngest({ seconds: num('ingest-seconds', 1), connections: num('ingest-connections', 1), rounds: num('ingest-rounds', 1), redeliverEvery: num('ingest-redeliver-every', 0) });
}
