import type { DiffFinding, DiffReport, EndpointDiff, LatencySummary } from '../diff-report.js';
import type { ThresholdVerdict } from '../diff-thresholds.js';
import { pct, some } from './render-terminal.js';

/**
 * A self-contained HTML page (inline CSS, no scripts, no external requests):
 * summary, per-endpoint findings with risk badges, and every example shown
 * side by side, baseline left, candidate right. Every value from a response
 * is escaped: a body may hold markup or script.
 */
export function renderDiffHtml(report: DiffReport, verdicts: readonly ThresholdVerdict[] = []): string {
  const s = report.sides;
  const t = report.totals;
  const body = [
    `<h1>reprise diff <span class="mode">${h(report.mode)}</span></h1>`,
    `<p class="sides"><b>baseline</b> ${h(s.baseline)} &nbsp;·&nbsp; <b>candidate</b> ${h(s.candidate)}${s.baseline2 ? ` &nbsp;·&nbsp; <b>second baseline</b> ${h(s.baseline2)}` : ''}</p>`,
    `<div class="totals"><span class="badge high">${t.high} high</span><span class="badge medium">${t.medium} medium</span><span class="badge low">${t.low} low</span>`,
    `<span class="meta">${report.pairs} pairs · ${report.noise.measured ? `noise measured on ${report.noise.pairs} pairs` : 'noise not measured (no second baseline)'} · ${h(report.generatedAt)}</span></div>`,
    verdicts.length > 0 ? `<ul class="verdicts">${verdicts.map((v) => `<li class="${v.passed ? 'pass' : 'fail'}">${v.passed ? '✔' : '✘'} ${h(v.threshold)} (${v.actual})</li>`).join('')}</ul>` : '',
    // A browser should open the page whatever the run: the worst endpoints and findings in full, the rest in diff-report.json.
    ...report.endpoints.slice(0, HTML_ENDPOINTS).map(renderEndpoint),
    report.endpoints.length > HTML_ENDPOINTS ? `<p class="meta">${report.endpoints.length - HTML_ENDPOINTS} more endpoints are in diff-report.json.</p>` : '',
    report.clusters.length > 0
      ? `<h2>Root causes</h2><table><tr><th>#</th><th>endpoint</th><th>risk</th><th>pairs</th><th>fields that changed together</th></tr>${report.clusters.slice(0, HTML_ENDPOINTS).map((c) => `<tr><td>${c.id}</td><td>${h(c.endpoint)}</td><td><span class="badge ${c.risk}">${c.risk}</span></td><td>${c.pairs}</td><td>${h(some(c.fields, 30))}</td></tr>`).join('')}</table>`
      : '',
    report.acrossEndpoints.length > 0
      ? `<h2>Across endpoints</h2><table><tr><th>risk</th><th>field</th><th>kind</th><th>pairs</th><th>endpoints</th></tr>${report.acrossEndpoints.slice(0, HTML_ENDPOINTS).map((c) => `<tr><td><span class="badge ${c.risk}">${c.risk}</span></td><td><code>${h(c.field)}</code></td><td>${c.kind}</td><td>${c.pairs}</td><td>${h(some(c.endpoints, 30))}</td></tr>`).join('')}</table>`
      : '',
    report.setAside.length > 0
      ? `<h2>Set aside as volatile</h2><p>No second baseline measured noise, so these differences were recognised by shape and not reported.</p><table><tr><th>endpoint</th><th>field</th><th>class</th><th>pairs</th></tr>${report.setAside.slice(0, HTML_ENDPOINTS).map((a) => `<tr><td>${h(a.endpoint)}</td><td><code>${h(a.field)}</code></td><td>${a.class}</td><td>${a.count}</td></tr>`).join('')}</table>`
      : '',
    Object.keys(report.skipped).length > 0 ? `<h2>Skipped</h2><ul>${Object.entries(report.skipped).map(([r, n]) => `<li>${n} × ${h(r)}</li>`).join('')}</ul>` : '',
    report.notes.length > 0 ? `<h2>Notes</h2><ul>${report.notes.map((n) => `<li>${h(n)}</li>`).join('')}</ul>` : '',
  ].join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>reprise diff: ${t.high} high, ${t.medium} medium, ${t.low} low</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${CSS}</style></head>
<body>
${body}
</body></html>
`;
}

function renderEndpoint(ep: EndpointDiff): string {
  const head = `<h2>${h(ep.endpoint)} <span class="meta">${ep.pairs} pairs · latency p50/p95 baseline ${lat(ep.latency.baseline)}, candidate ${lat(ep.latency.candidate)}</span></h2>`;
  if (ep.findings.length === 0) return `<section>${head}<p class="clean">No differences.</p></section>`;
  const noise = ep.suppressedAsNoise.length > 0 ? `<p class="meta">${ep.suppressedAsNoise.length} field(s) differed as often between the two baselines (noise, not reported): ${ep.suppressedAsNoise.map((x) => `<code>${h(x.field)}</code>`).join(', ')}</p>` : '';
  const more = ep.findings.length > HTML_FINDINGS ? `<p class="meta">${ep.findings.length - HTML_FINDINGS} more findings are in diff-report.json.</p>` : '';
  return `<section>${head}${ep.findings.slice(0, HTML_FINDINGS).map(renderFinding).join('\n')}${more}${noise}</section>`;
}

function renderFinding(f: DiffFinding): string {
  const rows = f.examples.map((e) => `<tr><td class="path"><code>${h(e.path)}</code><br><span class="meta">${h(e.exchangeId)}</span></td><td><pre>${h(e.baseline ?? '(absent)')}</pre></td><td><pre>${h(e.candidate ?? '(absent)')}</pre></td></tr>`).join('');
  const noise = f.noiseRate === null ? '' : ` · noise ${pct(f.noiseRate)}`;
  const cluster = f.cluster ? ` · root cause #${f.cluster}` : '';
  return `<details class="finding" open><summary><span class="badge ${f.risk}">${f.risk}</span> <code>${h(f.field)}</code> <span class="kind">${f.kind}</span> <span class="meta">${f.count} pairs (${pct(f.rate)})${noise}${cluster}</span></summary>
<table class="sbs"><tr><th>where</th><th>baseline</th><th>candidate</th></tr>${rows}</table></details>`;
}

const HTML_ENDPOINTS = 300;
const HTML_FINDINGS = 100;

function lat(l: LatencySummary | null): string {
  return l ? `${l.p50.toFixed(1)}/${l.p95.toFixed(1)} ms` : 'n/a';
}

function h(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d2430;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #d8dde6;padding-bottom:4px}
.mode{font-size:13px;color:#556;border:1px solid #ccd;border-radius:4px;padding:1px 6px;vertical-align:middle}
.sides{color:#334;margin:4px 0 12px}.meta{color:#667;font-size:12px;font-weight:normal;margin-left:8px}
.totals{display:flex;gap:8px;align-items:center;margin-bottom:8px}
.badge{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:600;color:#fff}
.badge.high{background:#c62828}.badge.medium{background:#e08a00}.badge.low{background:#5a7d9a}
.verdicts{list-style:none;padding:0}.verdicts .pass{color:#2e7d32}.verdicts .fail{color:#c62828;font-weight:600}
.finding{margin:6px 0 10px;border:1px solid #e1e5ec;border-radius:6px;padding:6px 10px}
.finding summary{cursor:pointer}.kind{color:#445;font-style:italic}
table{border-collapse:collapse;width:100%;margin-top:6px}th,td{border:1px solid #e1e5ec;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f6f9;font-weight:600}table.sbs td:nth-child(2){background:#fff5f5}table.sbs td:nth-child(3){background:#f3fbf3}
table.sbs th:nth-child(2),table.sbs th:nth-child(3){width:42%}
pre{margin:0;white-space:pre-wrap;word-break:break-all;font:12px/1.4 ui-monospace,monospace}
.path{width:16%}.clean{color:#2e7d32}code{font:12px ui-monospace,monospace}
`;
