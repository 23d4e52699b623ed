import type { DiffReport } from '../diff-report.js';
import type { ThresholdVerdict } from '../diff-thresholds.js';
import { pct } from './render-terminal.js';

/**
 * JUnit XML for CI dashboards: one testsuite per endpoint, one testcase per
 * reported field. High- and medium-risk findings are failures; low-risk ones
 * (additions) pass with the detail in system-out; an endpoint without
 * findings is one passing testcase. Threshold verdicts form their own suite.
 */
export function renderDiffJunit(report: DiffReport, verdicts: readonly ThresholdVerdict[] = []): string {
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  for (const ep of report.endpoints) {
    const cases: string[] = [];
    let epFailures = 0;
    for (const f of ep.findings) {
      const name = `${f.field} (${f.kind})`;
      const examples = f.examples.map((e) => `${e.exchangeId} ${e.path}: ${e.baseline ?? '(absent)'} -> ${e.candidate ?? '(absent)'}`).join('\n');
      const summary = `${f.risk} risk: ${f.kind} difference in ${f.count}/${ep.pairs} pairs (${pct(f.rate)})${f.noiseRate !== null ? `, noise ${pct(f.noiseRate)}` : ''}${f.cluster ? `, root cause #${f.cluster}` : ''}`;
      if (f.risk === 'low') {
        cases.push(`    <testcase classname="${x(ep.endpoint)}" name="${x(name)}"><system-out>${x(`${summary}\n${examples}`)}</system-out></testcase>`);
      } else {
        epFailures++;
        cases.push(`    <testcase classname="${x(ep.endpoint)}" name="${x(name)}"><failure type="${f.risk}" message="${x(summary)}">${x(examples)}</failure></testcase>`);
      }
    }
    if (cases.length === 0) cases.push(`    <testcase classname="${x(ep.endpoint)}" name="no differences"/>`);
    tests += cases.length;
    failures += epFailures;
    suites.push(`  <testsuite name="${x(ep.endpoint)}" tests="${cases.length}" failures="${epFailures}" errors="0" skipped="0">\n${cases.join('\n')}\n  </testsuite>`);
  }
  if (verdicts.length > 0) {
    const failed = verdicts.filter((v) => !v.passed).length;
    const cases = verdicts.map((v) => v.passed
      ? `    <testcase classname="thresholds" name="${x(v.threshold)}"/>`
      : `    <testcase classname="thresholds" name="${x(v.threshold)}"><failure type="threshold" message="${x(`${v.threshold}: ${v.actual}`)}"/></testcase>`);
    tests += cases.length;
    failures += failed;
    suites.push(`  <testsuite name="thresholds" tests="${cases.length}" failures="${failed}" errors="0" skipped="0">\n${cases.join('\n')}\n  </testsuite>`);
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="reprise diff" tests="${tests}" failures="${failures}" errors="0" timestamp="${x(report.generatedAt)}">\n${suites.join('\n')}\n</testsuites>\n`;
}

/** XML-escape, and drop characters XML 1.0 cannot carry at all (response bodies can hold anything). */
function x(s: string): string {
  return s
    .replace(/[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
