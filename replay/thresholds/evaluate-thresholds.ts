/**
 * Thresholds against a finished run's metrics. Pure: the CLI decides the exit
 * code from `passed`, reports render the outcomes.
 */
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
