/**
 * The terminal summary printed when a replay ends: what was planned and what
 * happened, latency both ways (the corrected figure first, because it is the
 * one users feel), what went wrong, and the verdict of each threshold.
 * Plain text, no colour codes, so it reads the same in a CI log.
 */
import type { GroupSnapshot, StatusClass } from '../metrics/group-stats.js';
import { STATUS_CLASSES } from '../metrics/group-stats.js';
import type { LatencySummary } from '../metrics/histogram.js';
import { formatBytes, formatCount, formatMicros, formatPercent, formatRate } from '../metrics/format-values.js';
import { rateError } from '../metrics/rate-error.js';
import { safeTarget, type ReplayReportInput } from './report-input.js';

/** Endpoints listed in the summary; the rest are in summary.json and report.html. */
const TOP_ENDPOINTS = 10;

function latencyLine(l: LatencySummary): string {
  if (l.count === 0) return 'no samples';
  return `p50 ${formatMicros(l.p50)}  p90 ${formatMicros(l.p90)}  p99 ${formatMicros(l.p99)}  p99.9 ${formatMicros(l['p99.9'])}  max ${formatMicros(l.max)}`;
}

function statusLine(g: GroupSnapshot): string {
  const parts = STATUS_CLASSES.filter((c: StatusClass) => g.status[c] > 0).map(
    (c) => `${c} ${formatPercent(g.requests === 0 ? 0 : g.status[c] / g.requests)} (${formatCount(g.status[c])})`,
  );
  return parts.length === 0 ? 'no responses' : parts.join(' · ');
}

function errorsLine(g: GroupSnapshot): string {
  const kinds = Object.entries(g.errorsByKind).sort(([, a], [, b]) => b - a);
  if (kinds.length === 0) return 'none';
  return `${formatCount(g.errors)} (${formatPercent(g.errorRate)}): ${kinds.map(([k, n]) => `${k} ${formatCount(n)}`).join(' · ')}`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** Cuts a long endpoint so the table stays aligned; the full name is in the JSON. */
function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/**
 * @example
 * process.stdout.write(formatReplaySummary({ snapshot, thresholds, plan, target, startedAt, options: {} }));
 */
export function formatReplaySummary(input: ReplayReportInput): string {
  const s = input.snapshot;
  const o = s.overall;
  const lines: string[] = [];
  // Result times count from the run's start, so the last completion is the run's length.
  const durationS = s.lastDoneUs / 1e6;
  lines.push(`reprise replay → ${safeTarget(input.target)}   started ${input.startedAt}   ran ${durationS.toFixed(1)}s`);

  const planned = input.plan ? `${formatCount(input.plan.sends)} planned · ` : '';
  lines.push(
    `requests    ${planned}${formatCount(o.requests)} scheduled · ${formatCount(o.sent)} sent · ${formatCount(o.completed)} answered · ` +
      `${formatCount(o.dropped)} dropped · ${formatCount(o.late)} late (>${formatMicros(s.options.lateThresholdUs)})`,
  );
  const plannedRate = input.plan?.meanRate ?? s.plannedRate;
  const ratio = plannedRate > 0 ? ` (${formatPercent(s.achievedRate / plannedRate)} of plan)` : '';
  const peak = input.plan ? ` · plan peak ${formatRate(input.plan.peakRate)}` : '';
  lines.push(`rate        planned ${formatRate(plannedRate)} · achieved ${formatRate(s.achievedRate)}${ratio}${peak}`);
  const re = rateError(s.series);
  if (re.buckets > 0) {
    const per = re.bucketS === 1 ? 'second' : `${re.bucketS} s bucket`;
    lines.push(`            rate error per ${per}: max ${formatPercent(re.maxAbs)} (at ${re.worstAtS}s) · mean ${formatPercent(re.meanAbs)} over ${re.buckets}`);
  }
  lines.push(`latency     corrected    ${latencyLine(o.latency)}`);
  lines.push(`            uncorrected  ${latencyLine(o.uncorrected)}`);
  lines.push(`lag         ${o.lag.count === 0 ? 'no samples' : `p50 ${formatMicros(o.lag.p50)}  p99 ${formatMicros(o.lag.p99)}  max ${formatMicros(o.lag.max)}`}`);
  lines.push(`status      ${statusLine(o)}`);
  lines.push(`errors      ${errorsLine(o)}`);
  for (const [kind, message] of Object.entries(input.errorExamples ?? {})) if (message) lines.push(`            e.g. ${kind}: ${oneLine(message)}`);
  lines.push(`bytes       sent ${formatBytes(o.bytesSent)} · received ${formatBytes(o.bytesReceived)}`);

  const endpoints = Object.entries(s.endpoints).sort(([, a], [, b]) => b.requests - a.requests);
  if (endpoints.length > 0) {
    const shown = endpoints.slice(0, TOP_ENDPOINTS);
    const width = Math.min(48, Math.max(...shown.map(([k]) => k.length)));
    lines.push('');
    lines.push(`endpoints   ${endpoints.length > TOP_ENDPOINTS ? `top ${TOP_ENDPOINTS} of ${endpoints.length} by requests` : 'by requests'}`);
    lines.push(`  ${pad('endpoint', width)}  ${pad('requests', 10)}  ${pad('errors', 8)}  ${pad('p50', 9)}  ${pad('p99', 9)}  max`);
    for (const [name, g] of shown) {
      lines.push(
        `  ${pad(clip(name, width), width)}  ${pad(formatCount(g.requests), 10)}  ${pad(formatPercent(g.errorRate), 8)}  ` +
          `${pad(g.latency.count ? formatMicros(g.latency.p50) : '-', 9)}  ${pad(g.latency.count ? formatMicros(g.latency.p99) : '-', 9)}  ${g.latency.count ? formatMicros(g.latency.max) : '-'}`,
      );
    }
  }

  if (input.thresholds.length > 0) {
    const failed = input.thresholds.filter((t) => !t.passed).length;
    lines.push('');
    lines.push(`thresholds  ${failed === 0 ? `all ${input.thresholds.length} passed` : `${failed} of ${input.thresholds.length} FAILED`}`);
    const width = Math.min(48, Math.max(...input.thresholds.map((t) => t.expression.length)));
    for (const t of input.thresholds) lines.push(`  ${t.passed ? 'PASS' : 'FAIL'}  ${pad(t.expression, width)}  ${t.message}`);
  }
  return `${lines.join('\n')}\n`;
}

// An example message is shown in full up to a line's worth; it never spans lines.
function oneLine(message: string): string {
  return clip(message.replace(/[\r\n]+/g, ' '), 200);
}
