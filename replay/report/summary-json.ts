/**
 * summary.json: the machine-readable record of a run. Versioned, and it keeps
 * the encoded HdrHistograms, so shards' summaries merge exactly
 * (`mergeSnapshots`) and a later tool can ask for any percentile. Field by
 * field in docs/replay-reports.md.
 */
import { rateError, type RateError } from '../metrics/rate-error.js';
import type { MetricsSnapshot } from '../metrics/replay-metrics.js';
import type { ThresholdOutcome } from '../thresholds/evaluate-thresholds.js';
import { plannedPerSecond, safeOptions, safeTarget, type ReplayReportInput, type ReportPlan } from './report-input.js';

export const SUMMARY_FORMAT = 'reprise-replay-summary';
export const SUMMARY_VERSION = 1;

export interface ReplaySummaryJson {
  format: typeof SUMMARY_FORMAT;
  version: typeof SUMMARY_VERSION;
  /** The tool that wrote it ("reprise"). */
  generator: string;
  target: string;
  startedAt: string;
  /** The run's length: last completion, seconds after the start. */
  durationS: number;
  options: Record<string, unknown>;
  plan: Omit<ReportPlan, 'perSecond'> | null;
  /** Planned sends per second (index = second of the run), when known. */
  plannedPerSecond: number[] | null;
  /** Per-second sends vs plan (derived from metrics.series; not read back). */
  rateError: RateError;
  /** true when every threshold passed (and when there are none). */
  passed: boolean;
  thresholds: ThresholdOutcome[];
  metrics: MetricsSnapshot;
  /** The first error message of each error kind, when there were errors (kept through `report merge`). */
  errorExamples?: Partial<Record<string, string>>;
}

/**
 * @example
 * await writeFile('summary.json', JSON.stringify(buildSummaryJson(input), null, 2));
 */
export function buildSummaryJson(input: ReplayReportInput, generator = 'reprise'): ReplaySummaryJson {
  const perSecond = plannedPerSecond(input);
  return {
    format: SUMMARY_FORMAT,
    version: SUMMARY_VERSION,
    generator,
    target: safeTarget(input.target),
    startedAt: input.startedAt,
    durationS: input.snapshot.lastDoneUs / 1e6,
    options: safeOptions(input.options),
    plan: input.plan ? { sends: input.plan.sends, durationUs: input.plan.durationUs, meanRate: input.plan.meanRate, peakRate: input.plan.peakRate } : null,
    plannedPerSecond: perSecond ? [...perSecond] : null,
    rateError: rateError(input.snapshot.series),
    passed: input.thresholds.every((t) => t.passed),
    thresholds: [...input.thresholds],
    metrics: input.snapshot,
    ...(input.errorExamples && Object.keys(input.errorExamples).length > 0 && { errorExamples: { ...input.errorExamples } }),
  };
}
