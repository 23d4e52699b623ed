/**
 * The metrics a threshold can name, what kind of value each is, and how to
 * read it from a MetricsSnapshot. The parser uses the kind to decide which
 * units a limit may carry; the evaluator uses `read`.
 */
import type { GroupSnapshot } from '../metrics/group-stats.js';
import type { LatencySummary } from '../metrics/histogram.js';
import type { MetricsSnapshot } from '../metrics/replay-metrics.js';
import { formatCount, formatMicros, formatPercent, formatRate } from '../metrics/format-values.js';
import { decodeHistogram } from '../metrics/histogram.js';
import { rateError } from '../metrics/rate-error.js';

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
  /** Measured for the whole run only (not inside endpoint[...]). */
  runOnly?: true;
  /** Why this run gives nothing to compare (the evaluation then fails), or undefined. */
  unmeasurable?(group: GroupSnapshot, run: MetricsSnapshot): string | undefined;
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
  m.set('rate_error', {
    kind: 'ratio',
    description: 'largest per-second |sent − planned| / planned over the complete seconds of the run',
    read: (_g, run) => rateError(run.series).maxAbs,
    runOnly: true,
    unmeasurable: (_g, run) => (rateError(run.series).buckets === 0 ? 'the run has no complete second with planned sends to compare' : undefined),
  });
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

// k6's spellings, so thresholds copied from a k6 script read the same here.
const ALIASES: Record<string, string> = { avg: 'mean', med: 'p50' };

const HISTOGRAMS = { '': 'latency', uncorrected_: 'uncorrected', lag_: 'lag' } as const;

/**
 * Finds a metric by name: the catalogue, k6 aliases (`avg`, `med`, `p(95)`),
 * and any percentile (`p97.5`, `lag_p99.99`), which is read from the encoded
 * histogram when it is not one of the summary's.
 *
 * @returns the canonical name and its definition, or undefined
 */
export function lookupMetric(name: string): { name: string; def: MetricDefinition } | undefined {
  const m = /^(uncorrected_|lag_)?(?:p\(([0-9.]+)\)|([a-z]+))$/.exec(name);
  let canonical = name;
  if (m) {
    const prefix = (m[1] ?? '') as keyof typeof HISTOGRAMS;
    const base = m[2] !== undefined ? `p${m[2]}` : (ALIASES[m[3]!] ?? m[3]!);
    canonical = `${prefix}${base}`;
  }
  const known = THRESHOLD_METRICS.get(canonical);
  if (known) return { name: canonical, def: known };
  const pct = /^(uncorrected_|lag_)?p(\d{1,3}(?:\.\d+)?)$/.exec(canonical);
  if (!pct) return undefined;
  const p = Number(pct[2]);
  if (!(p > 0 && p <= 100)) return undefined;
  const field = HISTOGRAMS[(pct[1] ?? '') as keyof typeof HISTOGRAMS];
  return {
    name: canonical,
    def: {
      kind: 'latency',
      description: `p${p} of ${field}`,
      read: (g) => decodeHistogram(g.histograms[field]).getValueAtPercentile(p),
    },
  };
}

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
