import { RepriseError } from '../../errors.js';
import type { DiffReport } from './diff-report.js';
import type { Risk } from './diff-types.js';

/**
 * Pass/fail rules over a diff report: `no high`, `no medium`, `no diff`,
 * `max_high=0`, `max_medium=5`, `max_low=20`, `max_total=10`. Any rule broken
 * makes `reprise diff` exit with 4.
 */

/** What a diff is judged by when no thresholds are given (`reprise diff` and a scenario's `diff:` alike); `none` judges nothing. */
export const DEFAULT_DIFF_THRESHOLDS = 'no high';

export interface DiffThreshold {
  /** The expression as the user wrote it. */
  text: string;
  scope: Risk | 'total';
  max: number;
}

export interface ThresholdVerdict {
  threshold: string;
  actual: number;
  passed: boolean;
}

/**
 * @example
 * parseDiffThresholds('no high, max_medium=5') // [{ scope: 'high', max: 0, … }, { scope: 'medium', max: 5, … }]
 */
export function parseDiffThresholds(text: string): DiffThreshold[] {
  const out: DiffThreshold[] = [];
  for (const raw of text.split(',')) {
    const t = raw.trim().toLowerCase();
    if (t === '' || t === 'none') continue;
    const no = /^no[ _-](high|medium|low|diff|differences)$/.exec(t);
    if (no) {
      const scope = no[1] === 'diff' || no[1] === 'differences' ? 'total' : (no[1] as Risk);
      out.push({ text: raw.trim(), scope, max: 0 });
      continue;
    }
    const max = /^max[_-](high|medium|low|total)\s*(?:=|<=)\s*(\d+)$/.exec(t);
    if (max) {
      out.push({ text: raw.trim(), scope: max[1] as Risk | 'total', max: Number(max[2]) });
      continue;
    }
    throw new RepriseError('DIFF_THRESHOLD_INVALID', `"${raw.trim()}": expected "no high|medium|low|diff" or "max_high|max_medium|max_low|max_total=N"`);
  }
  return out;
}

/**
 * Each threshold against the report's finding counts.
 *
 * @example
 * judgeDiff(report, parseDiffThresholds('no high')) // [{ threshold: 'no high', actual: 3, passed: false }]
 */
export function judgeDiff(report: DiffReport, thresholds: readonly DiffThreshold[]): ThresholdVerdict[] {
  return thresholds.map((t) => {
    const actual = t.scope === 'total' ? report.totals.findings : report.totals[t.scope];
    return { threshold: t.text, actual, passed: actual <= t.max };
  });
}
