import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRepriseError } from '../../../errors.js';
import { loadScenario } from '../../../scenarios/load-scenario.js';
import { makeTempDir } from '../../support/temp-dir.js';

/** A scenario's `diff:` section is checked as `reprise diff` checks its flags, each problem with file:line:col. */

describe('scenario diff options', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await makeTempDir('reprise-diff-scenario-')));
  afterEach(async () => cleanup());

  async function problems(diffLines: string[]): Promise<string[]> {
    const file = join(dir, 's.yaml');
    await writeFile(file, ['version: 1', 'name: x', 'diff:', ...diffLines.map((l) => `  ${l}`), ''].join('\n'));
    try {
      loadScenario(file, { env: {} });
    } catch (err) {
      if (isRepriseError(err) && err.code === 'SCENARIO_INVALID') return (err as unknown as { problems: string[] }).problems;
      throw err;
    }
    return [];
  }

  it('an offline diff (left, right) refuses the settings only a live diff uses, each at its place', async () => {
    const found = await problems(['left: a', 'right: b', 'baseline2: http://127.0.0.1:3', 'concurrency: 2', 'timeout: 5s', 'limit: 10', 'allowMethods: [POST]']);
    expect(found).toEqual([
      expect.stringMatching(/s\.yaml:6:3 diff\.baseline2: is for a live diff \(baseline, candidate\); an offline diff \(left, right\) sends nothing/),
      expect.stringMatching(/s\.yaml:7:3 diff\.concurrency: is for a live diff/),
      expect.stringMatching(/s\.yaml:8:3 diff\.timeout: is for a live diff/),
      expect.stringMatching(/s\.yaml:9:3 diff\.limit: is for a live diff/),
      expect.stringMatching(/s\.yaml:10:3 diff\.allowMethods: is for a live diff/),
    ]);
    expect(await problems(['left: a', 'right: b'])).toEqual([]);
  });
});
