import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRepriseError } from '../../../errors.js';
import { diffStores } from '../../../replay/diff/run-diff.js';
import { loadDiffRulesFile, parseDiffRulesYaml } from '../../../replay/diff/diff-rules-file.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { writeStorePair } from './support/offline-stores.js';

function problemsOf(yaml: string): string {
  try {
    parseDiffRulesYaml(yaml, 'diff.yaml');
  } catch (err) {
    if (isRepriseError(err) && err.code === 'DIFF_OPTIONS_INVALID') return err.message;
    throw err;
  }
  throw new Error('expected DIFF_OPTIONS_INVALID');
}

describe('diff rules file', () => {
  it('reads every rule', () => {
    const f = parseDiffRulesYaml([
      "ignore: ['$.meta', 'header.server']",
      'arrays:',
      '  $.items: key:id',
      '  $.tags: multiset',
      'tolerance: { absolute: 0.01, relative: 0.001 }',
      'strictNumbers: true',
      'nullIsMissing: true',
      'headers: { deny: [server], volatile: [x-build-id] }',
      'bodyCap: 65536',
      'noise: { absolute: 0.05, relative: 0.5 }',
      "thresholds: ['no high', 'max_medium=5']",
    ].join('\n'), 'diff.yaml');
    expect(f.rules).toEqual({
      ignore: ['$.meta', 'header.server'],
      arrays: { '$.items': { mode: 'key', key: 'id' }, '$.tags': { mode: 'multiset' } },
      absoluteTolerance: 0.01,
      relativeTolerance: 0.001,
      strictNumberText: true,
      nullEqualsMissing: true,
      headerDeny: ['server'],
      volatileHeaders: ['x-build-id'],
      bodyCap: 65536,
    });
    expect(f.noise).toEqual({ absolute: 0.05, relative: 0.5 });
    expect(f.thresholds).toEqual(['no high', 'max_medium=5']);
    expect(parseDiffRulesYaml('', 'empty.yaml')).toEqual({ rules: {}, noise: {}, thresholds: [] });
  });

  it('reports every problem at once with file:line:col and a did-you-mean', () => {
    const msg = problemsOf(['ignroe: [$.meta]', 'arrays:', '  items: multiset', '  $.tags: bag', 'tolerance: { absolute: -1, relativ: 0.1 }', 'bodyCap: big', 'strictNumbers: yes'].join('\n'));
    expect(msg).toMatch(/^7 problems in diff\.yaml: /);
    expect(msg).toContain("diff.yaml:7:16 strictNumbers: must be true or false");
    expect(msg).toContain('diff.yaml:1:1 ignroe: unknown key (did you mean "ignore"?)');
    expect(msg).toContain('diff.yaml:3:3 arrays: "items" can never match an array; did you mean "$.items"?');
    expect(msg).toContain('diff.yaml:4:11 arrays.$.tags: must be index, multiset or key:<field>, got "bag"');
    expect(msg).toContain('diff.yaml:5:24 tolerance.absolute: must be a number >= 0');
    expect(msg).toContain('tolerance.relativ: unknown key (did you mean "relative"?)');
    expect(msg).toContain('diff.yaml:6:10 bodyCap: must be a positive integer (bytes)');
  });

  it('a misspelled threshold is one of the file:line:col problems, not a later error without a place', () => {
    const msg = problemsOf(['bodycap: 10', "thresholds: ['no high', 'no hgh', 'max_medium=lots']"].join('\n'));
    expect(msg).toMatch(/^3 problems in diff\.yaml: /);
    expect(msg).toContain('diff.yaml:2:25 thresholds[1]: "no hgh": expected');
    expect(msg).toContain('diff.yaml:2:35 thresholds[2]: "max_medium=lots": expected');
    expect(problemsOf("thresholds: 'max_low=x'")).toContain('diff.yaml:1:13 thresholds: "max_low=x": expected');
  });

  it('noise thresholds are fractions (0 to 1), tolerances any amount, each checked with its place', () => {
    expect(problemsOf('noise: { absolute: 2 }')).toContain('diff.yaml:1:20 noise.absolute: must be a number from 0 to 1');
    expect(parseDiffRulesYaml('tolerance: { absolute: 2 }\nnoise: { relative: 1 }', 'diff.yaml')).toMatchObject({ rules: { absoluteTolerance: 2 }, noise: { relative: 1 } });
  });

  it('truncated, corrupted and hostile YAML are one clear error', () => {
    expect(problemsOf('arrays: { $.a: multiset')).toMatch(/diff\.yaml:1:\d+ /);
    expect(problemsOf('- just\n- a list')).toMatch(/must be a mapping/);
    expect(problemsOf('ignore: [1, {a: b}]')).toMatch(/every entry must be a non-empty string/);
    expect(problemsOf('ignore: a\nignore: b')).toMatch(/diff\.yaml:2:1 .*unique/i);
    expect(problemsOf('\u0000\u0001: [')).toMatch(/problem/);
  });

  it('a rules file drives a real diff; a missing file is INPUT_NOT_FOUND', async () => {
    const { dir, cleanup } = await makeTempDir('reprise-diff-rules-');
    try {
      const { left, right } = await writeStorePair(dir, 10, { sameIds: true });
      const file = join(dir, 'diff.yaml');
      await writeFile(file, "ignore: ['$.legacy']\nheaders: { deny: [x-served-by-v2] }\n");
      const loaded = await loadDiffRulesFile(file);
      const report = await diffStores({ baselineStore: left, candidateStore: right, rules: loaded.rules });
      expect(report.endpoints.flatMap((e) => e.findings.map((f) => f.field))).toEqual(['$.email']);
      await expect(loadDiffRulesFile(join(dir, 'nope.yaml'))).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND' });
    } finally {
      await cleanup();
    }
  });
});
