/**
 * The metrics a threshold can name, what kind of value each is, and how to
 * read it from a MetricsSnapshot. The parser uses the kind to decide which
 * units a limit may carry; the evaluator uses `read`.
 */
import type { GroupSnapshot } from '../metrics/group-stats.js';
import type { LatencySummary } from '../metrics/histogram.js';
import type { MetricsSnapshot } from '../metrics/replay-metrics.js';
import { formatCount, formatMicros, formatPercent, formatRate } from '../metrics/format-values.js';

/**
 * latency: µs, written with a unit (us, µs, ms, s).
 * ratio: a fraction of requests, written as `1%` or `0.01`.
 * throughput: sends per second, written as `950`, `950/s` or relative to the plan (`0.99*target`).
 * count: a whole number of requests.
 */
export type MetricKind = 'latency' | 'ratio' | 'throughput' | 'count';

export interface MetricDefinition {
  kind: MetricKind;
  /** What the metric means, for docs and `--help`. */
  description: string;
  read(group: GroupSnapshot, run: MetricsSnapshot): number;
}

const LATENCY_FIELDS = ['p50', 'p90', 'p95', 'p99', 'p99.9', 'max', 'mean', 'min'] as const satisfies readonly (keyof LatencySummary)[];

function ratio(n: number, of: number): number {
  return of === 0 ? 0 : n / of;
}

function buildCatalogue(): Map<string, MetricDefinition> {
  const m = new Map<string, MetricDefinition>();
  for (const f of LATENCY_FIELDS) {
    m.set(f, { kind: 'latency', description: `${f} latency from the intended send time (coordinated-omission corrected)`, read: (g) => g.latency[f] });
    m.set(`uncorrected_${f}`, { kind: 'latency', description: `${f} latency from the actual send time`, read: (g) => g.uncorrected[f] });
    m.set(`lag_${f}`, { kind: 'latency', description: `${f} schedule lag (actual − intended send)`, read: (g) => g.lag[f] });
  }
  m.set('error_rate', { kind: 'ratio', description: 'requests that ended in an error (no usable response, dropped included) / requests', read: (g) => ratio(g.errors, g.requests) });
  m.set('late_rate', { kind: 'ratio', description: 'sends later than the late threshold / sent', read: (g) => ratio(g.late, g.sent) });
  m.set('drop_rate', { kind: 'ratio', description: 'sends never made (concurrency cap) / requests', read: (g) => ratio(g.dropped, g.requests) });
  for (const c of ['1xx', '2xx', '3xx', '4xx', '5xx'] as const) {
    m.set(`${c}_rate`, { kind: 'ratio', description: `responses with a ${c} status / requests`, read: (g) => ratio(g.status[c], g.requests) });
  }
  m.set('rate', {
    kind: 'throughput',
    description: 'achieved send rate, sends/s (per endpoint: its share of the run rate)',
    read: (g, run) => (run.overall.sent === 0 ? 0 : (run.achievedRate * g.sent) / run.overall.sent),
  });
  for (const c of ['requests', 'sent', 'completed', 'errors', 'dropped', 'late'] as const) {
    m.set(c, { kind: 'count', description: `number of ${c === 'requests' ? 'results' : `${c} requests`}`, read: (g) => g[c] });
  }
  return m;
}

export const THRESHOLD_METRICS: ReadonlyMap<string, MetricDefinition> = buildCatalogue();

/** A value of `kind` the way people read it: 12.3ms, 0.52%, 998/s, 1,204. */
export function formatMetricValue(kind: MetricKind, value: number): string {
  switch (kind) {
    case 'latency':
      return formatMicros(value);
    case 'ratio':
      return formatPercent(value);
    case 'throughput':
      return formatRate(value);
    case 'count':
      return formatCount(value);
  }
}
