import { fork } from 'node:child_process';
import { once } from 'node:events';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RepriseError } from '../errors.js';
import { mergeErrorExamples } from './metrics/error-examples.js';
import { mergeSnapshots } from './metrics/replay-metrics.js';
import type { SchedulerStats } from './schedule/open-model-scheduler.js';
import type { MaxOptions, MaxRunSummary } from './max/run-max.js';
import type { ReplayOptions, ReplayRunSummary } from './run-replay.js';

/**
 * One replay spread over `workers` processes, for rates one Node process
 * cannot send (about 16k/s per core through undici; docs/benchmarks.md).
 * Every worker reads the whole store and plans the whole run, then sends
 * only its shard — sends whose index along the plan ≡ worker mod workers —
 * so the shards together are exactly the plan, in its timing. The workers
 * start their run clocks at one agreed wall-clock instant; their metrics
 * snapshots merge exactly (HdrHistogram add).
 *
 * Not available with workers: `onResult` (results stay in the workers; the
 * summary still carries each kind's first error message), `recordOut`, and
 * live metrics (the merged snapshot comes at the end).
 *
 * `forkShards` is the process part, shared with `--max --workers`
 * (max/run-max-sharded.ts); shard-worker.ts is the worker for both.
 */

/** What a worker is sent: the options as plain data, its shard and the common start. */
export type ShardTask =
  | { mode: 'timed'; options: Omit<ReplayOptions, 'onResult' | 'metrics' | 'signal' | 'log'>; shard: { index: number; count: number }; startAtMs: number }
  | { mode: 'max'; options: PlainMaxOptions; startAtMs: number };

/** `--max` options a worker can be sent: plain data (the CA travels as its file name). */
export type PlainMaxOptions = Omit<MaxOptions, 'onResult' | 'metrics' | 'signal' | 'ca'> & { caFile?: string };

export type ShardMessage = { summary: ReplayRunSummary } | { maxSummary: MaxRunSummary } | { error: { code?: string; message: string } };

// Time for the workers to start, open the store and warm up before the common start.
const START_DELAY_MS = 4_000;

/**
 * @example
 * const s = await runReplaySharded({ store: './store', target: 'http://10.0.0.5:8080', profile, workers: 4 });
 */
export async function runReplaySharded(options: ReplayOptions & { workers: number }): Promise<ReplayRunSummary> {
  const { workers, onResult, metrics, signal, log, ...plain } = options;
  checkWorkers(workers);
  if (onResult || plain.recordOut !== undefined) throw new RepriseError('REPLAY_OPTIONS_INVALID', 'workers: --record-out and per-result callbacks need a single process');
  const startAtMs = shardStartAt();
  const replies = await forkShards(
    Array.from({ length: workers }, (_, index): ShardTask => ({ mode: 'timed', options: plain, shard: { index, count: workers }, startAtMs })),
    signal,
  );
  log?.debug({ workers }, 'sharded replay finished');
  return mergeSummaries(replies.map((r) => ('summary' in r ? r.summary : unexpected(r))));
}

export function checkWorkers(workers: number): void {
  if (!(Number.isInteger(workers) && workers >= 1 && workers <= 64)) throw new RepriseError('REPLAY_OPTIONS_INVALID', `workers: must be a whole number from 1 to 64 (got ${workers})`);
}

/** The common start of a sharded run: far enough ahead for every worker to load and warm up. */
export function shardStartAt(): number {
  return Date.now() + START_DELAY_MS;
}

/**
 * One worker process per task; resolves with every worker's reply once all have exited, or rejects
 * with the first worker's error (as the same one-line RepriseError). `signal` stops them like Ctrl-C.
 */
export async function forkShards(tasks: readonly ShardTask[], signal?: AbortSignal): Promise<ShardMessage[]> {
  const here = fileURLToPath(import.meta.url);
  const entry = here.replace(/run-sharded\.[cm]?[jt]s$/, `shard-worker${extname(here)}`);
  // From a source checkout the worker is TypeScript: make sure the child can load it (under tsx it already can).
  const execArgv = extname(here) === '.ts' && !process.execArgv.some((a) => a.includes('tsx')) ? [...process.execArgv, '--import', 'tsx'] : process.execArgv;
  const children = tasks.map(() => fork(entry, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const stop = (): void => children.forEach((c) => c.connected && c.send('stop'));
  signal?.addEventListener('abort', stop, { once: true });
  try {
    return await Promise.all(
      children.map(async (child, index) => {
        child.send(tasks[index]!);
        const exited = once(child, 'exit');
        const [msg] = (await Promise.race([once(child, 'message'), exited.then(() => [{ error: { message: `worker ${index} exited without a result` } }])])) as [ShardMessage];
        await exited;
        if ('error' in msg) throw new RepriseError((msg.error.code as RepriseError['code'] | undefined) ?? 'REPLAY_OPTIONS_INVALID', msg.error.code ? msg.error.message : `worker ${index}: ${msg.error.message}`);
        return msg;
      }),
    );
  } finally {
    signal?.removeEventListener('abort', stop);
    for (const c of children) if (c.exitCode === null) c.kill();
  }
}

function unexpected(m: ShardMessage): never {
  throw new Error(`a worker answered ${Object.keys(m).join(', ')} to a timed shard`);
}

function mergeSummaries(parts: ReplayRunSummary[]): ReplayRunSummary {
  const first = parts[0]!;
  const scheduler = { ...first.scheduler };
  for (const p of parts.slice(1)) {
    for (const k of Object.keys(scheduler) as (keyof SchedulerStats)[]) scheduler[k] = k === 'peakQueued' ? Math.max(scheduler[k], p.scheduler[k]) : scheduler[k] + p.scheduler[k];
  }
  return {
    target: first.target,
    startedAt: parts.map((p) => p.startedAt).sort()[0]!,
    elapsedMs: Math.max(...parts.map((p) => p.elapsedMs)),
    metrics: mergeSnapshots(parts.map((p) => p.metrics)),
    scheduler,
    // Every worker reads the whole store, so each saw every excluded exchange.
    excludedByMethod: first.excludedByMethod,
    ...(parts.some((p) => p.errorExamples) && { errorExamples: mergeErrorExamples(parts.map((p) => p.errorExamples)) }),
  };
}
