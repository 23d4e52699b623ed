import { RepriseError } from '../errors.js';
import type { Logger } from '../log.js';
import { warnRedactedPlaceholders } from './dispatch/header-overrides.js';
import { readCa } from './dispatch/read-ca.js';
import { runMax, type MaxOptions } from './max/run-max.js';
import { runMaxSharded } from './max/run-max-sharded.js';
import { ReplayMetrics, type MetricsSnapshot } from './metrics/replay-metrics.js';
import { startProgress } from './report/progress.js';
import type { ReplayReportInput } from './report/report-input.js';
import type { ErrorExamples } from './metrics/error-examples.js';
import { prepareReportDir, writeReplayReports } from './report/write-reports.js';
import { planReplay, refuseRecordedHosts, runReplay, type ReplayOptions } from './run-replay.js';
import { runReplaySharded, type PlainMaxOptions } from './run-sharded.js';
import { quickPlannedTotal } from './schedule/planned-total.js';
import { summarizePlan } from './schedule/plan-summary.js';
import { judgeRun, type ThresholdOutcome } from './thresholds/evaluate-thresholds.js';
import type { Threshold } from './thresholds/parse-threshold.js';

/**
 * A replay as a user runs it: timed (open model) or max-throughput, with a
 * progress line while it runs, thresholds judged on the result and the
 * reports written. `reprise replay` and scenario phases both call this; the
 * engine itself (runReplay, runMax) knows nothing of reports.
 */
export interface ReplayJob {
  replay: ReplayOptions;
  /** Max-throughput mode (autocannon, closed model) instead of the timed schedule. */
  max?: { connections?: number; pipelining?: number; durationMs: number };
  /** This many processes (rates one process cannot reach): a timed run's plan, or --max's connections, split between them; no progress line, no recordOut. */
  workers?: number;
  thresholds: readonly Threshold[];
  /** Folder for summary.json, junit.xml and report.html. */
  reportDir?: string;
  /** Where the live progress line goes (stderr); null for none. */
  progress: (NodeJS.WritableStream & { isTTY?: boolean; columns?: number }) | null;
  /** The settings as the user gave them, shown in the reports (secrets are masked there). */
  reportOptions: Record<string, unknown>;
  signal?: AbortSignal;
  log?: Logger;
}

export interface ReplayJobResult {
  input: ReplayReportInput;
  outcomes: ThresholdOutcome[];
  passed: boolean;
  files: string[];
  /** Mode-specific facts (scheduler counts, autocannon totals, where --record-out went). */
  extra: Record<string, unknown>;
}

/**
 * @example
 * const r = await runReplayJob({ replay: { store, target, speed: 10 }, thresholds: parseThresholds(['p99<250ms']), progress: process.stderr, reportOptions: {} });
 * process.exitCode = r.passed ? 0 : 3;
 */
export async function runReplayJob(job: ReplayJob): Promise<ReplayJobResult> {
  const o = job.replay;
  const metrics = new ReplayMetrics();
  if (job.reportDir !== undefined) await prepareReportDir(job.reportDir);
  // Walking the plan reads the whole store once more before the run (minutes for 10^7 exchanges), so it
  // is done only for the HTML report's planned-rate line; `target` in thresholds and the summary use the
  // plan's rate as the results carry it (their intended send times).
  const plan = job.max || job.reportDir === undefined ? undefined : await summarizePlan(planReplay(o));
  const workers = job.workers ?? 1;
  // A run refused for its target says so before any warning about what it would have sent.
  if (job.log) {
    await refuseRecordedHosts(o);
    await warnRedactedPlaceholders(o, job.log);
  }
  const showProgress = job.progress !== null && workers === 1;
  // The bar needs the planned total; without --report it comes from the options and the manifests.
  const plannedTotal = plan?.sends ?? (showProgress && !job.max ? await quickPlannedTotal(o) : undefined);
  const durationMs = job.max ? job.max.durationMs : o.maxDurationMs;
  const progress = showProgress ? startProgress(job.progress as Parameters<typeof startProgress>[0], () => metrics.live(), plannedTotal, durationMs === undefined ? {} : { durationMs }) : null;
  let snapshot: MetricsSnapshot;
  let startedAt: string;
  let extra: Record<string, unknown>;
  // The metrics count errors by kind only; one message per kind says why ("other 3" alone does not).
  // Both engines' summaries carry them (from every worker).
  let errorExamples: ErrorExamples = {};
  try {
    if (job.max) {
      const maxOptions = {
        ...o,
        durationMs: job.max.durationMs,
        ...(job.max.connections !== undefined && { connections: job.max.connections }),
        ...(job.max.pipelining !== undefined && { pipelining: job.max.pipelining }),
      };
      const s =
        workers > 1
          ? await runMaxSharded(withoutCallbacks(maxOptions), workers, job.signal)
          : await runMax({ ...maxOptions, ...(o.caFile !== undefined && { ca: await readCa(o.caFile) }), metrics, ...(job.signal && { signal: job.signal }) });
      errorExamples = s.errorExamples;
      snapshot = s.metrics;
      startedAt = s.startedAt;
      extra = { mode: 'max', ...(workers > 1 && { workers }), mix: s.mix, mixRead: s.mixRead, skippedCorrelated: s.skippedCorrelated, autocannon: s.autocannon };
    } else {
      const run = { ...o, metrics, ...(job.signal && { signal: job.signal }), ...(job.log && { log: job.log }) };
      const s = workers > 1 ? await runReplaySharded({ ...run, workers }) : await runReplay(run);
      errorExamples = s.errorExamples ?? {};
      snapshot = s.metrics;
      startedAt = s.startedAt;
      extra = { mode: 'timed', ...(workers > 1 && { workers }), scheduler: s.scheduler, excludedByMethod: s.excludedByMethod, ...(s.recordOut && { recordOut: s.recordOut }) };
    }
  } finally {
    progress?.stop();
  }
  const outcomes = judgeRun(job.thresholds, snapshot, { targetRate: snapshot.plannedRate });
  // summary.json has the examples as a field of their own (mergeable), not among the options.
  const input: ReplayReportInput = { snapshot, thresholds: outcomes, plan, target: o.target, startedAt, options: { ...job.reportOptions, ...extra }, errorExamples };
  if (Object.keys(errorExamples).length > 0) extra.errorExamples = errorExamples;
  const files = job.reportDir === undefined ? [] : await writeReplayReports(job.reportDir, input);
  if (files.length > 0) job.log?.info({ files }, 'reports written');
  return { input, outcomes, passed: outcomes.every((t) => t.passed), files, extra };
}

/** What a worker process can be sent: no callbacks, no live objects. */
function withoutCallbacks(o: MaxOptions & ReplayOptions): PlainMaxOptions {
  const { onResult, metrics, signal, log, ca, ...plain } = o as MaxOptions & ReplayOptions & { log?: unknown };
  if (onResult) throw new RepriseError('REPLAY_OPTIONS_INVALID', 'workers: per-result callbacks need a single process');
  return plain;
}
