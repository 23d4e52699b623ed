/**
 * Thresholds against a finished run's metrics. Pure: the CLI decides the exit
 * code from `passed`, reports render the outcomes.
 */
import type { GroupSnapshot } from '../metrics/group-stats.js';
import type { MetricsSnapshot } from '../metrics/replay-metrics.js';
import type { Threshold, ThresholdOp } from './parse-threshold.js';
import { formatMetricValue, lookupMetric, type MetricKind } from './threshold-metrics.js';

export interface ThresholdOutcome {
  expression: string;
  metric: string;
  kind: MetricKind;
  endpoint?: string;
  op: ThresholdOp;
  /** The measured value in base units (µs, fraction, sends/s, count); null when it could not be measured. */
  observed: number | null;
  /** The limit in base units, with `target` resolved; null when it could not be resolved. */
  limit: number | null;
  passed: boolean;
  /** One line for people: "p99 = 312ms, limit < 250ms" or why nothing could be measured. */
  message: string;
}

export interface ThresholdContext {
  /** The plan's rate (sends/s) that `target` refers to. 0 or less when unknown. */
  targetRate: number;
}

function compare(observed: number, op: ThresholdOp, limit: number): boolean {
  switch (op) {
    case '<':
      return observed < limit;
    case '<=':
      return observed <= limit;
    case '>':
      return observed > limit;
    case '>=':
      return observed >= limit;
    case '==':
      return observed === limit;
  }
}

/**
 * Evaluates each threshold. A threshold that cannot be measured fails — an
 * endpoint that never ran, a `target` with no plan, a latency over zero
 * responses — because a gate that silently passes on missing data is no gate.
 *
 * @example
 * const outcomes = evaluateThresholds(parseThresholds(['p99<250ms']), metrics.snapshot(), { targetRate: plan.meanRate });
 * const failed = outcomes.some((o) => !o.passed);
 */
export function evaluateThresholds(ts: readonly Threshold[], s: MetricsSnapshot, ctx: ThresholdContext): ThresholdOutcome[] {
  return ts.map((t) => evaluateOne(t, s, ctx));
}

/** The built-in gate's expression as outcomes and summary.json carry it (not a threshold to parse). */
export const ANSWERED_GATE = 'completed>0 (built in)';

/**
 * The thresholds, and the gate every run gets without asking: a run whose sends the target answered
 * not once (it was down, refused, or every request timed out) measured nothing and fails, also when
 * no threshold was given — a CI step pointed at a dead staging must not go green. The gate shows up
 * among the outcomes (terminal, JUnit, HTML) only when it fails.
 *
 * @example
 * const outcomes = judgeRun(parseThresholds(['p99<250ms']), metrics.snapshot(), { targetRate: 0 });
 * process.exitCode = outcomes.every((o) => o.passed) ? 0 : 3;
 */
export function judgeRun(ts: readonly Threshold[], s: MetricsSnapshot, ctx: ThresholdContext): ThresholdOutcome[] {
  const outcomes = evaluateThresholds(ts, s, ctx);
  const g = s.overall;
  if (g.sent > 0 && g.completed === 0) {
    outcomes.push({
      expression: ANSWERED_GATE,
      metric: 'completed',
      kind: 'count',
      op: '>',
      observed: 0,
      limit: 0,
      passed: false,
      message: `the target answered none of the ${g.sent} requests sent (${errorKinds(g)}): nothing was measured`,
    });
  }
  return outcomes;
}

/** "refused 398, timeout 2", largest first. */
function errorKinds(g: GroupSnapshot): string {
  const kinds = Object.entries(g.errorsByKind).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  return kinds.length === 0 ? 'no error recorded' : kinds.map(([k, n]) => `${k} ${n}`).join(', ');
}

function evaluateOne(t: Threshold, s: MetricsSnapshot, ctx: ThresholdContext): ThresholdOutcome {
  const base = { expression: t.expression, metric: t.metric, kind: t.kind, op: t.op, ...(t.endpoint !== undefined ? { endpoint: t.endpoint } : {}) };
  const unmeasured = (limit: number | null, why: string): ThresholdOutcome => ({ ...base, observed: null, limit, passed: false, message: `${t.metric}: ${why}` });

  let limit: number | null = t.limit;
  if (t.ofTarget) {
    if (!(ctx.targetRate > 0)) return unmeasured(null, 'no target rate is known for this run (target is the plan\'s rate)');
    limit = t.limit * ctx.targetRate;
  }
  const group = t.endpoint === undefined ? s.overall : s.endpoints[t.endpoint];
  if (!group) return unmeasured(limit, `endpoint ${JSON.stringify(t.endpoint)} had no requests in this run`);
  const def = lookupMetric(t.metric)?.def;
  if (!def) return unmeasured(limit, 'unknown metric');
  if (def.kind === 'latency' && (t.metric.startsWith('lag_') ? group.lag.count : t.metric.startsWith('uncorrected_') ? group.uncorrected.count : group.latency.count) === 0) {
    return unmeasured(limit, 'no request was sent, so there is no latency to compare');
  }
  // Refused connections end in microseconds: over them `p99<250ms` would pass with the target down.
  if (def.kind === 'latency' && !t.metric.startsWith('lag_') && group.completed === 0) return unmeasured(limit, `no request got a response (${errorKinds(group)}), so there is no latency to compare`);
  if (def.kind === 'ratio' && group.requests === 0) return unmeasured(limit, 'no requests');
  const why = def.unmeasurable?.(group, s);
  if (why) return unmeasured(limit, why);

  const observed = def.read(group, s);
  const passed = compare(observed, t.op, limit);
  const shownLimit = formatMetricValue(t.kind, limit) + (t.ofTarget ? ` (${t.limit}×target ${formatMetricValue('throughput', ctx.targetRate)})` : '');
  return {
    ...base,
    observed,
    limit,
    passed,
    message: `${t.endpoint !== undefined ? `${t.endpoint} ` : ''}${t.metric} = ${formatMetricValue(t.kind, observed)}, limit ${t.op} ${shownLimit}`,
  };
}
