/**
 * Writes the three report files of a run into one directory. Each file is
 * written to a temporary name and renamed, so a CI job that picks up the
 * directory never sees half a file.
 */
import { access, constants, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RepriseError } from '../../errors.js';
import { buildHtmlReport } from './html-report.js';
import { buildJunitXml } from './junit-xml.js';
import type { ReplayReportInput } from './report-input.js';
import { buildSummaryJson } from './summary-json.js';
import { makeDirs } from '../../store/make-dirs.js';

export const REPORT_FILES = ['summary.json', 'junit.xml', 'report.html'] as const;

/**
 * Create the report directory and check it is writable before a run, so a
 * bad `--report` path fails in a second rather than after the traffic was
 * sent (when the run's figures would be lost with it).
 *
 * @example
 * await prepareReportDir('out/');
 */
export async function prepareReportDir(dir: string): Promise<void> {
  try {
    await makeDirs(dir);
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new RepriseError('OUTPUT_UNWRITABLE', `cannot write replay reports: ${(err as Error).message}`, { cause: err, location: { file: dir } });
  }
}

/**
 * @returns the paths written, in REPORT_FILES order.
 * @example
 * const files = await writeReplayReports('out/', { snapshot, thresholds, plan, target, startedAt, options });
 */
export async function writeReplayReports(dir: string, input: ReplayReportInput): Promise<string[]> {
  const contents: Record<(typeof REPORT_FILES)[number], string> = {
    'summary.json': `${JSON.stringify(buildSummaryJson(input), null, 2)}\n`,
    'junit.xml': buildJunitXml(input),
    'report.html': buildHtmlReport(input),
  };
  const written: string[] = [];
  try {
    await makeDirs(dir);
    for (const name of REPORT_FILES) {
      const path = join(dir, name);
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, contents[name]);
      await rename(tmp, path);
      written.push(path);
    }
  } catch (err) {
    throw new RepriseError('OUTPUT_UNWRITABLE', `cannot write replay reports: ${(err as Error).message}`, { cause: err, location: { file: dir } });
  }
  return written;
}
