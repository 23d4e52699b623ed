import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RepriseError } from '../../../errors.js';
import type { DiffReport } from '../diff-report.js';
import type { ThresholdVerdict } from '../diff-thresholds.js';
import { renderDiffHtml } from './render-html.js';
import { renderDiffJunit } from './render-junit.js';
import { makeDirs } from '../../../store/make-dirs.js';

/** File names inside `--report <dir>`. */
export const REPORT_FILES = { json: 'diff-report.json', junit: 'diff-junit.xml', html: 'diff-report.html' } as const;

/**
 * Write the JSON, JUnit and HTML reports into `dir` (created if missing). Each
 * file is written whole to a temp name and renamed, so a reader never sees half a report.
 *
 * @example
 * await writeDiffReports(report, judgeDiff(report, parseDiffThresholds('no high')), './out');
 */
export async function writeDiffReports(report: DiffReport, verdicts: readonly ThresholdVerdict[], dir: string): Promise<Record<keyof typeof REPORT_FILES, string>> {
  const files = { json: join(dir, REPORT_FILES.json), junit: join(dir, REPORT_FILES.junit), html: join(dir, REPORT_FILES.html) };
  try {
    await makeDirs(dir);
    await writeWhole(files.json, `${JSON.stringify({ ...report, thresholds: verdicts }, null, 2)}\n`);
    await writeWhole(files.junit, renderDiffJunit(report, verdicts));
    await writeWhole(files.html, renderDiffHtml(report, verdicts));
  } catch (err) {
    throw new RepriseError('OUTPUT_UNWRITABLE', `--report ${dir}: ${(err as Error).message}`, { cause: err });
  }
  return files;
}

async function writeWhole(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}
