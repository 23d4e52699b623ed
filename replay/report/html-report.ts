/**
 * report.html: one self-contained file (inline CSS and SVG, no script, no
 * network) a person opens from a CI artifact to see how the run went:
 * planned vs replayed rate over time, latency percentiles over time, the
 * latency distribution corrected and uncorrected, status mix, thresholds and
 * the per-endpoint table.
 */
import type { GroupSnapshot } from '../metrics/group-stats.js';
import { STATUS_CLASSES } from '../metrics/group-stats.js';
import { decodeHistogram } from '../metrics/histogram.js';
import { formatBytes, formatCount, formatMicros, formatPercent, formatRate } from '../metrics/format-values.js';
import { rateError } from '../metrics/rate-error.js';
import { escapeXml as esc } from './escape-xml.js';
import { plannedPerSecond, safeOptions, safeTarget, type ReplayReportInput } from './report-input.js';
import { lineChart, stackedBar, type ChartSeries } from './svg-chart.js';

const COLORS = { planned: '#7f7f7f', sent: '#1f77b4', errors: '#d62728', p50: '#2ca02c', p99: '#ff7f0e', uncorrected: '#9467bd' };
const STATUS_COLORS: Record<string, string> = { '1xx': '#17becf', '2xx': '#2ca02c', '3xx': '#1f77b4', '4xx': '#ff7f0e', '5xx': '#d62728', other: '#7f7f7f' };

/** Percentiles for the distribution chart, dense where latency tails live. */
const DISTRIBUTION_PERCENTILES = [0, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99, 99.999];

/** x position of a percentile on the classic HdrHistogram axis: log10(1 / (1 − p)). */
function percentileX(p: number): number {
  return Math.log10(1 / (1 - Math.min(p, 99.999) / 100));
}

function rateChart(input: ReplayReportInput): string {
  const series = input.snapshot.series;
  const width = series.bucketS;
  const sent: [number, number][] = series.points.map((p) => [p.startS, p.sent / width]);
  const errors: [number, number][] = series.points.map((p) => [p.startS, p.errors / width]);
  // The plan: per-second counts folded into the series' bucket width, so both lines share an x axis.
  const perSecond = plannedPerSecond(input);
  let planned: [number, number][];
  if (perSecond) {
    const buckets = new Map<number, number>();
    perSecond.forEach((n, sec) => {
      const start = Math.floor(sec / width) * width;
      buckets.set(start, (buckets.get(start) ?? 0) + n);
    });
    planned = [...buckets].sort(([a], [b]) => a - b).map(([start, n]) => [start, n / width]);
  } else {
    planned = series.points.map((p) => [p.startS, p.planned / width]);
  }
  const lines: ChartSeries[] = [
    { name: 'planned (recorded, scheduled)', color: COLORS.planned, points: planned, dashed: true },
    { name: 'replayed (sent)', color: COLORS.sent, points: sent },
    { name: 'errors', color: COLORS.errors, points: errors },
  ];
  return lineChart({
    id: 'chart-rate',
    title: `Requests per second, planned vs replayed (${width} s buckets)`,
    series: lines,
    xLabel: 'seconds since start',
    yLabel: 'requests / s',
    formatX: (x) => `${x}s`,
    formatY: (y) => formatRate(y),
  });
}

function latencyOverTimeChart(input: ReplayReportInput): string {
  const pts = input.snapshot.series.points;
  // A bucket with no sends has no latency: a gap, not a zero.
  const val = (v: number, has: boolean): number => (has ? v / 1000 : NaN);
  return lineChart({
    id: 'chart-latency',
    title: 'Latency over time (corrected for coordinated omission, by intended send time)',
    series: [
      { name: 'p50', color: COLORS.p50, points: pts.map((p) => [p.startS, val(p.p50Us, p.histogram !== '')]) },
      { name: 'p99', color: COLORS.p99, points: pts.map((p) => [p.startS, val(p.p99Us, p.histogram !== '')]) },
    ],
    xLabel: 'seconds since start',
    yLabel: 'latency (ms)',
    formatX: (x) => `${x}s`,
    formatY: (y) => formatMicros(y * 1000),
  });
}

function distributionChart(g: GroupSnapshot): string {
  const curve = (encoded: string): [number, number][] => {
    const h = decodeHistogram(encoded);
    // An empty histogram answers 0 for every percentile: that is no data, not a flat line.
    if (h.totalCount === 0) return [];
    return DISTRIBUTION_PERCENTILES.map((p) => [percentileX(p), h.getValueAtPercentile(p) / 1000]);
  };
  return lineChart({
    id: 'chart-distribution',
    title: 'Latency by percentile: corrected (from intended send) vs uncorrected (from actual send)',
    series: [
      { name: 'corrected', color: COLORS.p99, points: curve(g.histograms.latency) },
      { name: 'uncorrected', color: COLORS.uncorrected, points: curve(g.histograms.uncorrected), dashed: true },
    ],
    xLabel: 'percentile',
    yLabel: 'latency (ms)',
    xTicks: [0, 90, 99, 99.9, 99.99, 99.999].map((p) => [percentileX(p), p === 0 ? '0%' : `${p}%`] as const),
    formatX: (x) => `${(100 * (1 - 10 ** -x)).toPrecision(6)}%`,
    formatY: (y) => formatMicros(y * 1000),
  });
}

function statusChart(g: GroupSnapshot): string {
  return stackedBar(
    'chart-status',
    'Status mix',
    [...STATUS_CLASSES.map((c) => ({ name: c, value: g.status[c], color: STATUS_COLORS[c] ?? '#999' })), { name: 'no response', value: g.requests - g.completed, color: '#444' }],
  );
}

function thresholdsTable(input: ReplayReportInput): string {
  if (input.thresholds.length === 0) return '<p class="muted">No thresholds were set (<code>--threshold</code>).</p>';
  const rows = input.thresholds.map(
    (t) => `<tr class="${t.passed ? 'pass' : 'fail'}"><td>${t.passed ? 'PASS' : 'FAIL'}</td><td><code>${esc(t.expression)}</code></td><td>${esc(t.message)}</td></tr>`,
  );
  return `<table id="thresholds"><thead><tr><th></th><th>threshold</th><th>measured</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function endpointsTable(input: ReplayReportInput): string {
  const rows = Object.entries(input.snapshot.endpoints)
    .sort(([, a], [, b]) => b.requests - a.requests)
    .map(([name, g]) => {
      const l = g.latency;
      const ms = (v: number): string => (l.count ? formatMicros(v) : '-');
      return (
        `<tr><td><code>${esc(name)}</code></td><td>${formatCount(g.requests)}</td><td>${formatPercent(g.errorRate)}</td>` +
        `<td>${ms(l.p50)}</td><td>${ms(l.p90)}</td><td>${ms(l.p99)}</td><td>${ms(l.max)}</td><td>${g.uncorrected.count ? formatMicros(g.uncorrected.p99) : '-'}</td>` +
        `<td>${STATUS_CLASSES.filter((c) => g.status[c] > 0).map((c) => `${c}&nbsp;${formatCount(g.status[c])}`).join(' ')}</td>` +
        `<td>${formatBytes(g.bytesReceived)}</td></tr>`
      );
    });
  return (
    '<table id="endpoints"><thead><tr><th>endpoint</th><th>requests</th><th>errors</th><th>p50</th><th>p90</th><th>p99</th><th>max</th>' +
    `<th>uncorrected p99</th><th>status</th><th>received</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:920px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.muted{color:#666}.verdict{display:inline-block;padding:2px 10px;border-radius:4px;font-weight:600;color:#fff}
.verdict.pass{background:#2ca02c}.verdict.fail{background:#d62728}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:10px;margin-top:14px}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 10px}.card b{display:block;font-size:18px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eee;vertical-align:top}
tr.fail td:first-child{color:#d62728;font-weight:600}tr.pass td:first-child{color:#2ca02c;font-weight:600}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
svg.chart{display:block;margin:8px 0;max-width:100%;height:auto}
.chart-title{font-weight:600;font-size:13px}.tick,.legend,.axis-label{font-size:11px;fill:#444}
.grid{stroke:#eee}.axis{stroke:#888}.empty{fill:#999;font-size:13px}
pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}
`;

/**
 * @example
 * await writeFile('report.html', buildHtmlReport(input));
 */
export function buildHtmlReport(input: ReplayReportInput): string {
  const s = input.snapshot;
  const o = s.overall;
  const failed = input.thresholds.filter((t) => !t.passed).length;
  const verdict = input.thresholds.length === 0 ? '' : failed === 0 ? '<span class="verdict pass">thresholds passed</span>' : `<span class="verdict fail">${failed} threshold${failed === 1 ? '' : 's'} failed</span>`;
  const plannedRate = input.plan?.meanRate ?? s.plannedRate;
  const card = (label: string, value: string): string => `<div class="card"><span class="muted">${esc(label)}</span><b>${esc(value)}</b></div>`;
  const target = safeTarget(input.target);
  const re = rateError(s.series);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>reprise replay — ${esc(target)}</title>
<style>${CSS}</style></head>
<body>
<h1>Replay of ${esc(target)} ${verdict}</h1>
<div class="muted">started ${esc(input.startedAt)} · ran ${(s.lastDoneUs / 1e6).toFixed(1)} s · ${formatCount(o.requests)} requests</div>
<div class="cards">
${card('planned rate', formatRate(plannedRate))}${card('achieved rate', formatRate(s.achievedRate))}${card('p99 corrected', o.latency.count ? formatMicros(o.latency.p99) : '-')}${card('p99 uncorrected', o.uncorrected.count ? formatMicros(o.uncorrected.p99) : '-')}
${card('error rate', formatPercent(o.errorRate))}${card('late / dropped', `${formatCount(o.late)} / ${formatCount(o.dropped)}`)}${card('schedule lag p99', o.lag.count ? formatMicros(o.lag.p99) : '-')}${card('rate error / s, max', re.buckets ? formatPercent(re.maxAbs) : '-')}
</div>
<h2>Thresholds</h2>
${thresholdsTable(input)}
<h2>Rate over time</h2>
${rateChart(input)}
<h2>Latency over time</h2>
${latencyOverTimeChart(input)}
<h2>Latency distribution</h2>
${distributionChart(o)}
<h2>Status mix</h2>
${statusChart(o)}
<p class="muted">errors: ${Object.entries(o.errorsByKind).length === 0 ? 'none' : Object.entries(o.errorsByKind).map(([k, n]) => `${esc(k)} ${formatCount(n)}`).join(' · ')}</p>
<h2>Endpoints</h2>
${endpointsTable(input)}
<h2>Run options</h2>
<pre>${esc(JSON.stringify({ target, plan: input.plan ? { sends: input.plan.sends, durationUs: input.plan.durationUs, meanRate: input.plan.meanRate, peakRate: input.plan.peakRate } : null, options: safeOptions(input.options) }, null, 2))}</pre>
</body></html>
`;
}
