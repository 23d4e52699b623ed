/**
 * junit.xml: one testcase per threshold, so CI systems (Jenkins, GitLab,
 * GitHub test reporters) show a failed gate as a failed test with its
 * measured value. Follows the common Ant/Jenkins JUnit layout:
 * testsuites > testsuite > (properties, testcase > failure), with tests,
 * failures, errors and time on both levels.
 */
import { formatMicros } from '../metrics/format-values.js';
import { escapeXml } from './escape-xml.js';
import { safeTarget, type ReplayReportInput } from './report-input.js';

function attrs(a: Record<string, string | number>): string {
  return Object.entries(a)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');
}

/** Seconds with millisecond precision, as JUnit consumers expect. */
function seconds(us: number): string {
  return (Math.max(0, us) / 1e6).toFixed(3);
}

/**
 * @example
 * await writeFile('junit.xml', buildJunitXml(input));
 */
export function buildJunitXml(input: ReplayReportInput): string {
  const s = input.snapshot;
  const tests = input.thresholds.length;
  const failures = input.thresholds.filter((t) => !t.passed).length;
  const time = seconds(s.lastDoneUs);
  const target = safeTarget(input.target);
  const suiteName = `reprise replay ${target}`;
  // JUnit's timestamp is an xs:dateTime without zone (Ant writes local time; we write UTC).
  const started = new Date(input.startedAt);
  const timestamp = Number.isNaN(started.getTime()) ? undefined : started.toISOString().slice(0, 19);
  const o = s.overall;
  const properties: Record<string, string | number> = {
    target,
    requests: o.requests,
    sent: o.sent,
    dropped: o.dropped,
    late: o.late,
    error_rate: o.errorRate,
    achieved_rate: Math.round(s.achievedRate * 1000) / 1000,
    p99: formatMicros(o.latency.p99),
    uncorrected_p99: formatMicros(o.uncorrected.p99),
    lag_p99: formatMicros(o.lag.p99),
  };

  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites${attrs({ name: 'reprise replay', tests, failures, errors: 0, time })}>`);
  out.push(`  <testsuite${attrs({ name: suiteName, tests, failures, errors: 0, skipped: 0, time, ...(timestamp ? { timestamp } : {}) })}>`);
  out.push('    <properties>');
  for (const [name, value] of Object.entries(properties)) out.push(`      <property${attrs({ name, value })}/>`);
  out.push('    </properties>');
  for (const t of input.thresholds) {
    const classname = t.endpoint === undefined ? 'reprise.replay.thresholds' : `reprise.replay.thresholds.endpoint`;
    const open = `    <testcase${attrs({ classname, name: t.expression, time: '0.000' })}`;
    if (t.passed) {
      out.push(`${open}/>`);
    } else {
      out.push(`${open}>`);
      out.push(`      <failure${attrs({ message: t.message, type: 'ThresholdFailed' })}>${escapeXml(failureText(t))}</failure>`);
      out.push('    </testcase>');
    }
  }
  out.push(`    <system-out>${escapeXml(`${o.requests} requests, ${o.sent} sent, p99 ${formatMicros(o.latency.p99)} (uncorrected ${formatMicros(o.uncorrected.p99)})`)}</system-out>`);
  out.push('  </testsuite>');
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

function failureText(t: ReplayReportInput['thresholds'][number]): string {
  const lines = [`threshold: ${t.expression}`, t.message];
  if (t.endpoint !== undefined) lines.push(`endpoint: ${t.endpoint}`);
  lines.push(`observed: ${t.observed ?? 'not measured'}`, `limit: ${t.op} ${t.limit ?? 'unresolved'}`);
  return lines.join('\n');
}
