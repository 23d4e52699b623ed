import type { DiffReport, EndpointDiff, LatencySummary } from '../diff-report.js';
import type { ThresholdVerdict } from '../diff-thresholds.js';

/**
 * The report for a person at a terminal: per endpoint, findings by risk with
 * one example each, then root causes, what was set aside, notes, verdicts.
 *
 * @example
 * process.stdout.write(renderDiffTerminal(report, judgeDiff(report, parseDiffThresholds('no high'))));
 */
export function renderDiffTerminal(report: DiffReport, verdicts: readonly ThresholdVerdict[] = []): string {
  const lines: string[] = [];
  const s = report.sides;
  lines.push(`reprise diff (${report.mode}): baseline ${s.baseline} vs candidate ${s.candidate}${s.baseline2 ? ` (second baseline ${s.baseline2})` : ''}`);
  const n = report.noise;
  lines.push(`${report.pairs} pairs compared · ${n.measured ? `noise measured on ${n.pairs} pairs (reported when raw − noise ≥ ${pct(n.absoluteThreshold)} and ≥ ${pct(n.relativeThreshold)} of raw)` : 'noise not measured (no second baseline)'}`);
  for (const [reason, count] of Object.entries(report.skipped)) lines.push(`skipped ${count}: ${reason}`);
  if (report.unmatched && (report.unmatched.baseline > 0 || report.unmatched.candidate > 0)) {
    lines.push(`unmatched: ${report.unmatched.baseline} baseline record(s), ${report.unmatched.candidate} candidate record(s) found no partner`);
  }
  lines.push('');
  // A terminal is read, not searched: the worst endpoints and findings, and where the rest are.
  for (const ep of report.endpoints.slice(0, TERMINAL_ENDPOINTS)) lines.push(...renderEndpoint(ep));
  if (report.endpoints.length > TERMINAL_ENDPOINTS) lines.push(`… ${report.endpoints.length - TERMINAL_ENDPOINTS} more endpoints (all of them in --report or --json)`, '');
  if (report.clusters.length > 0) {
    lines.push('Root causes (fields that changed in exactly the same pairs):');
    for (const c of report.clusters.slice(0, TERMINAL_ENDPOINTS)) lines.push(`  #${c.id} ${c.endpoint} [${c.risk}] ${c.pairs} pairs: ${some(c.fields, 8)}`);
    if (report.clusters.length > TERMINAL_ENDPOINTS) lines.push(`  … ${report.clusters.length - TERMINAL_ENDPOINTS} more`);
    lines.push('');
  }
  if (report.acrossEndpoints.length > 0) {
    lines.push('Across endpoints (the same change on several endpoints: likely shared code):');
    for (const c of report.acrossEndpoints.slice(0, TERMINAL_ENDPOINTS)) lines.push(`  [${c.risk}] ${c.field} (${c.kind}) on ${c.endpoints.length} endpoints, ${c.pairs} pairs: ${some(c.endpoints, 5)}`);
    if (report.acrossEndpoints.length > TERMINAL_ENDPOINTS) lines.push(`  … ${report.acrossEndpoints.length - TERMINAL_ENDPOINTS} more`);
    lines.push('');
  }
  if (report.setAside.length > 0) {
    lines.push('Set aside as volatile (no second baseline to measure noise):');
    for (const a of report.setAside.slice(0, TERMINAL_ENDPOINTS)) lines.push(`  ${a.endpoint} ${a.field} (${a.class}) ×${a.count}`);
    if (report.setAside.length > TERMINAL_ENDPOINTS) lines.push(`  … ${report.setAside.length - TERMINAL_ENDPOINTS} more`);
    lines.push('');
  }
  for (const note of report.notes) lines.push(`note: ${note}`);
  const t = report.totals;
  lines.push(`Findings: ${t.high} high, ${t.medium} medium, ${t.low} low`);
  for (const v of verdicts) lines.push(`Threshold "${v.threshold}": ${v.passed ? 'passed' : 'FAILED'} (${v.actual})`);
  return `${lines.join('\n')}\n`;
}

function renderEndpoint(ep: EndpointDiff): string[] {
  const out = [`${ep.endpoint}  ${ep.pairs} pairs  latency p50/p95: baseline ${lat(ep.latency.baseline)}, candidate ${lat(ep.latency.candidate)}`];
  if (ep.findings.length === 0) out.push('  no differences');
  const width = Math.max(0, ...ep.findings.map((f) => f.field.length));
  for (const f of ep.findings.slice(0, TERMINAL_FINDINGS)) {
    const noise = f.noiseRate === null ? '' : `  noise ${pct(f.noiseRate)}`;
    const cluster = f.cluster ? `  [root cause #${f.cluster}]` : '';
    out.push(`  ${f.risk.toUpperCase().padEnd(6)}  ${f.field.padEnd(width)}  ${f.kind.padEnd(7)}  ${f.count}/${ep.pairs} (${pct(f.rate)})${noise}${cluster}`);
    const e = f.examples[0];
    if (e) out.push(`          e.g. ${e.path}: ${e.baseline ?? '(absent)'} → ${e.candidate ?? '(absent)'}  (${e.exchangeId})`);
  }
  if (ep.findings.length > TERMINAL_FINDINGS) out.push(`  … ${ep.findings.length - TERMINAL_FINDINGS} more findings`);
  if (ep.suppressedAsNoise.length > 0) out.push(`  (${ep.suppressedAsNoise.length} field(s) differed as often between the baselines: noise, not reported)`);
  out.push('');
  return out;
}

/** The first `n` items, then how many were left out. */
export function some(items: readonly string[], n: number): string {
  return items.length <= n ? items.join(', ') : `${items.slice(0, n).join(', ')} and ${items.length - n} more`;
}

const TERMINAL_ENDPOINTS = 40;
const TERMINAL_FINDINGS = 20;

function lat(l: LatencySummary | null): string {
  return l ? `${l.p50.toFixed(1)}/${l.p95.toFixed(1)} ms` : 'n/a';
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0)}%`;
}
