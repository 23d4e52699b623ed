import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReplayMetrics } from '../../replay/metrics/replay-metrics.js';
import type { ReplaySummaryJson } from '../../replay/report/summary-json.js';
import { writeReplayReports } from '../../replay/report/write-reports.js';
import { expectOneLineError, runCli } from '../support/run-cli.js';
import { makeTempDir } from '../support/temp-dir.js';
import { fixtureReportInput, fixtureResults } from './report-fixture.js';

/** `reprise report merge` through the real executable. */
describe('reprise report merge', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let shards: string[];

  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir('reprise-merge-cli-'));
    const parts = [new ReplayMetrics(), new ReplayMetrics()];
    fixtureResults().forEach((r, i) => parts[i % 2]!.record(r));
    shards = [];
    // Each shard saw its own error kinds first; the merged report says why for each.
    const examples = [{ timeout: 'headers timeout after 30000 ms' }, { timeout: 'a later timeout', dropped: 'wait queue full (raise --concurrency or --max-queue)' }];
    for (const [i, m] of parts.entries()) {
      const plan = { sends: 2000, durationUs: 19_995_000, meanRate: 100, peakRate: 100 };
      shards.push((await writeReplayReports(join(dir, `shard-${i}`), fixtureReportInput({ snapshot: m.snapshot(), plan, errorExamples: examples[i]! })))[0]!);
    }
  });
  afterEach(() => cleanup());

  it('merges shards, writes the three reports, and exits 3 because a threshold fails on the merged run', async () => {
    const out = join(dir, 'merged');
    const r = await runCli(['report', 'merge', ...shards, '--out', out, '--threshold', 'requests==4000']);
    expect(r.stderr).not.toMatch(/RepriseError|at /);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('4,000 planned · 4,000 scheduled · 3,999 sent');
    expect(r.stdout).toMatch(/FAIL {2}p99<250ms/);
    expect(r.stdout).toMatch(/PASS {2}requests==4000/);
    const merged = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as ReplaySummaryJson;
    expect(merged.metrics.overall.requests).toBe(4000);
    expect(merged.plan).toMatchObject({ sends: 4000, meanRate: 200 });
    expect(merged.options).toMatchObject({ shards: 2 });
    expect(merged.errorExamples).toEqual({ timeout: 'headers timeout after 30000 ms', dropped: 'wait queue full (raise --concurrency or --max-queue)' });
    expect(r.stdout).toMatch(/^ {12}e\.g\. timeout: headers timeout after 30000 ms\n {12}e\.g\. dropped: wait queue full/m);
    expect(await readFile(join(out, 'junit.xml'), 'utf8')).toContain('tests="6" failures="2"');
  });

  it('a damaged shard is one line naming the file and field; no files is a usage error', async () => {
    const bad = JSON.parse(await readFile(shards[1]!, 'utf8')) as ReplaySummaryJson;
    bad.metrics.overall.sent += 1;
    await writeFile(shards[1]!, JSON.stringify(bad));
    const r = await runCli(['report', 'merge', ...shards]);
    expect(r.code).toBe(1);
    const line = expectOneLineError(r, 'REPLAY_SUMMARY_INVALID');
    expect(line).toContain(`${shards[1]}: metrics.overall: sent (2001) + dropped (0) ≠ requests (2000)`);
    const hostile = JSON.parse(await readFile(shards[0]!, 'utf8')) as ReplaySummaryJson;
    hostile.errorExamples = { timeout: 'x'.repeat(5000) };
    await writeFile(shards[0]!, JSON.stringify(hostile));
    expect(expectOneLineError(await runCli(['report', 'merge', shards[0]!]), 'REPLAY_SUMMARY_INVALID')).toContain('errorExamples.timeout: longer than 1000 characters');
    const none = await runCli(['report', 'merge']);
    expect(none.code).toBe(2);
    expectOneLineError(none, 'CLI_USAGE');
  });
});
