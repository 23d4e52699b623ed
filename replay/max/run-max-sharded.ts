import { RepriseError } from '../../errors.js';
import { mergeErrorExamples } from '../metrics/error-examples.js';
import { mergeSnapshots } from '../metrics/replay-metrics.js';
import { checkWorkers, forkShards, shardStartAt, type PlainMaxOptions, type ShardTask } from '../run-sharded.js';
import type { MaxRunSummary } from './run-max.js';

/**
 * `--max --workers N`: the closed loop from N processes, for targets one
 * Node process cannot saturate (autocannon in one process tops out at one
 * core). The connections are split between the workers (100 over 3: 34, 33,
 * 33), each worker loads the same mix and drives its connections through
 * autocannon for the same duration from one agreed wall-clock start, and the
 * metrics snapshots merge exactly, so the report is the one a single process
 * would write. autocannon's own worker-thread mode is not used: its threads
 * emit no per-response events, so it could not feed the common report.
 */

/**
 * @example
 * const s = await runMaxSharded({ store: './store', target: 'http://10.0.0.5:8080', connections: 200, durationMs: 30_000 }, 4);
 */
export async function runMaxSharded(options: PlainMaxOptions, workers: number, signal?: AbortSignal): Promise<MaxRunSummary> {
  checkWorkers(workers);
  const connections = options.connections ?? 50;
  if (Number.isInteger(connections) && connections < workers) {
    throw new RepriseError('REPLAY_OPTIONS_INVALID', `workers: ${workers} workers need at least ${workers} connections (got ${connections}); each worker drives its own`);
  }
  const startAtMs = shardStartAt();
  const tasks = Array.from({ length: workers }, (_, i): ShardTask => ({
    mode: 'max',
    options: { ...options, connections: Math.floor(connections / workers) + (i < connections % workers ? 1 : 0) },
    startAtMs,
  }));
  const replies = await forkShards(tasks, signal);
  return mergeMaxSummaries(replies.map((r) => ('maxSummary' in r ? r.maxSummary : unexpected(r))));
}

/** Counts add up; the mix and what was left out of it are each worker's own (they all load the same). */
export function mergeMaxSummaries(parts: readonly MaxRunSummary[]): MaxRunSummary {
  const first = parts[0]!;
  const sum = (f: (a: MaxRunSummary['autocannon']) => number): number => parts.reduce((n, p) => n + f(p.autocannon), 0);
  return {
    target: first.target,
    startedAt: parts.map((p) => p.startedAt).sort()[0]!,
    elapsedMs: Math.max(...parts.map((p) => p.elapsedMs)),
    mix: first.mix,
    mixRead: first.mixRead,
    skippedCorrelated: first.skippedCorrelated,
    metrics: mergeSnapshots(parts.map((p) => p.metrics)),
    errorExamples: mergeErrorExamples(parts.map((p) => p.errorExamples)),
    autocannon: {
      requests: sum((a) => a.requests),
      errors: sum((a) => a.errors),
      timeouts: sum((a) => a.timeouts),
      non2xx: sum((a) => a.non2xx),
      rps: sum((a) => a.rps),
    },
  };
}

function unexpected(m: object): never {
  throw new Error(`a worker answered ${Object.keys(m).join(', ')} to a --max shard`);
}
