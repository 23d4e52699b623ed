/**
 * One report from several shards' summary.json files: metrics merge exactly
 * (mergeSnapshots), the plans add up (shards split one plan between them),
 * each error kind keeps the first shard's example message, and
 * thresholds are evaluated again on the merged metrics — a p99 cannot be
 * merged from per-shard verdicts.
 */
import { RepriseError } from '../../errors.js';
import { mergeErrorExamples } from '../metrics/error-examples.js';
import { mergeSnapshots } from '../metrics/replay-metrics.js';
import { peakOf } from '../schedule/plan-summary.js';
import { ANSWERED_GATE, judgeRun } from '../thresholds/evaluate-thresholds.js';
import { parseThresholds } from '../thresholds/parse-threshold.js';
import type { ReplayReportInput, ReportPlan } from './report-input.js';
import type { ReplaySummaryJson } from './summary-json.js';

/**
 * @param extraThresholds expressions to evaluate besides the ones the shards were run with
 * @example
 * const input = mergeReplaySummaries(await Promise.all(files.map(readReplaySummary)));
 * await writeReplayReports('merged/', input);
 */
export function mergeReplaySummaries(summaries: readonly ReplaySummaryJson[], extraThresholds: readonly string[] = []): ReplayReportInput {
  const first = summaries[0];
  if (!first) throw new RepriseError('REPLAY_SUMMARY_INVALID', 'no summaries to merge');
  const snapshot = mergeSnapshots(summaries.map((s) => s.metrics));

  let plan: ReportPlan | undefined;
  let perSecond: number[] | undefined;
  if (summaries.every((s) => s.plan !== null)) {
    perSecond = summaries.every((s) => s.plannedPerSecond !== null) ? addSeries(summaries.map((s) => s.plannedPerSecond!)) : undefined;
    const plans = summaries.map((s) => s.plan!);
    const meanRate = plans.reduce((n, p) => n + p.meanRate, 0);
    plan = {
      sends: plans.reduce((n, p) => n + p.sends, 0),
      durationUs: Math.max(...plans.map((p) => p.durationUs)),
      meanRate,
      // With per-second counts the merged peak is exact; without, the sum bounds it.
      peakRate: perSecond ? peakOf(perSecond, meanRate) : plans.reduce((n, p) => n + p.peakRate, 0),
      ...(perSecond ? { perSecond } : {}),
    };
  }

  const expressions = [...new Set([...summaries.flatMap((s) => s.thresholds.map((t) => t.expression)), ...extraThresholds])].filter((e) => e !== ANSWERED_GATE);
  const thresholds = judgeRun(parseThresholds(expressions), snapshot, { targetRate: plan?.meanRate ?? 0 });
  const targets = [...new Set(summaries.map((s) => s.target))];
  const startedAt = summaries.map((s) => s.startedAt).sort()[0]!;
  return {
    snapshot,
    thresholds,
    plan,
    target: targets.join(', '),
    startedAt,
    options: { ...first.options, shards: summaries.length },
    ...(perSecond ? { recordedRate: perSecond } : {}),
    // Why sends failed, from whichever shard saw each kind first.
    errorExamples: mergeErrorExamples(summaries.map((s) => s.errorExamples)),
  };
}

function addSeries(all: readonly (readonly number[])[]): number[] {
  const out: number[] = [];
  for (const s of all) s.forEach((n, i) => (out[i] = (out[i] ?? 0) + n));
  return out;
}
