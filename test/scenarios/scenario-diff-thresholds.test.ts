import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadScenario } from '../../scenarios/load-scenario.js';
import { runScenario, SCENARIO_EXIT } from '../../scenarios/run-scenario.js';
import { writeStorePair } from '../replay/diff/support/offline-stores.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * A scenario's `diff:` judges its report as `reprise diff` does: without
 * `thresholds`, a high-risk difference fails the run (`no high`); `none`
 * turns judging off. The stores differ by a removed field (high), a changed
 * value (medium) and a new header (low).
 */
describe('scenario diff thresholds', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir('reprise-scenario-diff-'));
    await writeStorePair(dir, 10, { sameIds: true });
  });
  afterEach(async () => cleanup());

  async function run(thresholds: string): Promise<{ exitCode: number; verdicts: unknown; text: string }> {
    const file = join(dir, 'release.yaml');
    await writeFile(file, `version: 1\nname: release\ndiff:\n  left: recorded\n  right: replayed\n${thresholds}`);
    let text = '';
    const out = new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) });
    const outcome = await runScenario(loadScenario(file), { out, progress: null });
    return { exitCode: outcome.exitCode, verdicts: outcome.diff?.verdicts, text };
  }

  it('without thresholds a high-risk difference fails the run, as reprise diff does', async () => {
    const r = await run('');
    expect(r.verdicts).toEqual([{ threshold: 'no high', actual: 1, passed: false }]);
    expect(r.exitCode).toBe(SCENARIO_EXIT.diffThresholdFailed);
    expect(r.text).toMatch(/scenario release: FAILED \(diff thresholds\)/);
  });

  it('thresholds given are the ones judged; none judges nothing', async () => {
    expect((await run('  thresholds: [max_high=1]\n')).exitCode).toBe(SCENARIO_EXIT.ok);
    const none = await run('  thresholds: [none]\n');
    expect(none.verdicts).toEqual([]);
    expect(none.exitCode).toBe(SCENARIO_EXIT.ok);
  });
});
