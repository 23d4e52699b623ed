import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../cli/main.js';
import { isRepriseError } from '../../../errors.js';
import { parseArrayRule, parseArrayStrategy } from '../../../replay/diff/array-rules.js';
import { parseDiffRulesYaml } from '../../../replay/diff/diff-rules-file.js';
import { compileDiffRules, type ArrayMode } from '../../../replay/diff/diff-rules.js';
import { diffStores } from '../../../replay/diff/run-diff.js';
import { loadScenario } from '../../../scenarios/load-scenario.js';
import { expectOneLineError } from '../../support/run-cli.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { writeBodyStores } from './support/body-stores.js';

/**
 * An array rule is looked up by the array's field template, exactly as
 * findings are named (`$.items[*].tags`). One that can never match — a path
 * copied from an example (`$.items[3].tags`), a glob, a path without `$` — is
 * refused where it is written, naming the path to write instead; a mode that
 * is not index, multiset or key:<field> is refused with a did-you-mean.
 */

function refusal(arrays: Record<string, ArrayMode>): string {
  try {
    compileDiffRules({ arrays });
  } catch (err) {
    if (isRepriseError(err) && err.code === 'DIFF_OPTIONS_INVALID') return err.message;
    throw err;
  }
  throw new Error(`expected ${Object.keys(arrays).join(', ')} to be refused`);
}

const multiset: ArrayMode = { mode: 'multiset' };

describe('array rules that can never match', () => {
  it('every array field spelling the report uses is accepted', () => {
    const ok = ['$', '$.items', '$[*]', '$.items[*].tags', "$['tag list']", '$["tag list"]', '$.byId.*.list', '$.v2', '$.users[*].roles[*]'];
    expect(() => compileDiffRules({ arrays: Object.fromEntries(ok.map((p) => [p, multiset])) })).not.toThrow();
  });

  it.each([
    ['$.items[3].tags', 'names one array element; an array rule applies per field, every element as [*]: use "$.items[*].tags"'],
    ['$.users[id=7].roles', 'names one array element; an array rule applies per field, every element as [*]: use "$.users[*].roles"'],
    ['$.byId.1234.list', 'names one id-like key; an array rule applies per field, every id-like key as a wildcard: use "$.byId.*.list"'],
    ['items', 'can never match an array; did you mean "$.items"?'],
    ['body.items', 'can never match an array; did you mean "$.items"?'],
    ['$.tags[]', 'can never match an array; did you mean "$.tags"?'],
    ['$.a:b', `can never match an array; did you mean "$['a:b']"?`],
    ['$.**.tags', 'is a glob; an array rule names one array field exactly'],
    ['$..tags', 'is a glob; an array rule names one array field exactly'],
    ['$.tag*', 'is a glob; an array rule names one array field exactly'],
    ['header.x-tags', 'can never match an array (an array rule is $ or a JSON path below it'],
  ])('%s is refused, named, with the path to write', (path, why) => {
    const msg = refusal({ [path]: multiset });
    expect(msg).toContain(`arrays "${path}" ${why}`);
    expect(msg).not.toContain('\n');
  });

  it('the mode is checked too: a library caller passing another shape is refused', () => {
    expect(refusal({ '$.a': { mode: 'key', key: '' } })).toContain('arrays "$.a": key mode needs the field');
    expect(refusal({ '$.a': { mode: 'bag' } as unknown as ArrayMode })).toContain('arrays "$.a": mode must be index, multiset or key, got "bag"');
  });

  it.each([
    ['Multiset', 'did you mean "multiset"?'],
    ['bag', 'did you mean "multiset"?'],
    ['key=id', 'did you mean "key:id"?'],
    ['Key:id', 'did you mean "key:id"?'],
    ['key', 'key:<field> needs the field that identifies an element'],
    ['key:', 'key:<field> needs the field that identifies an element'],
    ['key:$.id', `takes the element's field name, not a path: did you mean "key:id"?`],
  ])('mode %s is refused with a hint', (mode, hint) => {
    const parsed = parseArrayStrategy(mode);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.problem).toContain(hint);
  });

  it('key:<field> takes any field name, as JSON does (key:@id, key:_id)', () => {
    expect(parseArrayStrategy('key:@id')).toEqual({ ok: true, mode: { mode: 'key', key: '@id' } });
    expect(parseArrayStrategy(' key:_id ')).toEqual({ ok: true, mode: { mode: 'key', key: '_id' } });
  });

  it('--array: the path ends at the last = outside brackets, and a concrete one is refused naming the flag', () => {
    expect(parseArrayRule("$['a=b']=multiset")).toEqual(["$['a=b']", multiset]);
    expect(() => parseArrayRule('$.users[id=7].tags=key:id')).toThrow('--array "$.users[id=7].tags=key:id": "$.users[id=7].tags" names one array element; an array rule applies per field, every element as [*]: use "$.users[*].tags"');
    expect(() => parseArrayRule('$.tags=Multiset')).toThrow('--array "$.tags=Multiset": the mode must be index, multiset or key:<field>, got "Multiset"; did you mean "multiset"?');
  });

  it('a rules file names the path and the mode with file:line:col, both at once', () => {
    let msg = '';
    try {
      parseDiffRulesYaml("arrays:\n  $.items[3].tags: key:id\n  $.ok: Multiset\n  $.none:\n  $.map: { key: id }\n", 'diff.yaml');
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toMatch(/^4 problems in diff\.yaml: /);
    expect(msg).toContain('diff.yaml:2:3 arrays: "$.items[3].tags" names one array element; an array rule applies per field, every element as [*]: use "$.items[*].tags"');
    expect(msg).toContain('diff.yaml:3:9 arrays.$.ok: must be index, multiset or key:<field>, got "Multiset"; did you mean "multiset"?');
    expect(msg).toContain('arrays.$.none: must be index, multiset or key:<field>, got nothing');
    expect(msg).toContain('diff.yaml:5:10 arrays.$.map: must be index, multiset or key:<field>, got a mapping');
  });

  describe('where a user writes them', () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    let stores: { left: string; right: string };
    beforeAll(async () => {
      ({ dir, cleanup } = await makeTempDir('reprise-diff-array-check-'));
      const body = (tags: string[]) => JSON.stringify({ items: [{ id: 1, tags }, { id: 2, tags: [] }, { id: 3, tags: [] }, { id: 4, tags }] });
      stores = await writeBodyStores(dir, [{ path: '/items', left: { type: 'application/json', body: body(['a', 'b']) }, right: { type: 'application/json', body: body(['b', 'a']) } }]);
    });
    afterAll(async () => cleanup?.());

    const run = async (args: string[]) => {
      let stdout = '';
      let stderr = '';
      const sink = (into: (s: string) => void): NodeJS.WritableStream => new Writable({ write: (c, _e, cb) => (into(String(c)), cb()) });
      const code = await main(['diff', '--left', stores.left, '--right', stores.right, ...args], { stdout: sink((x) => (stdout += x)), stderr: sink((x) => (stderr += x)), debug: false, log: pino({ level: 'silent' }) });
      return { code, stdout, stderr };
    };

    it('--array with a path copied from an example: one line, exit 1, DIFF_OPTIONS_INVALID, the field to write', async () => {
      const out = await run(['--array', '$.items[3].tags=multiset']);
      expect(out.code).toBe(1);
      expect(expectOneLineError(out, 'DIFF_OPTIONS_INVALID')).toContain('use "$.items[*].tags"');
    });

    it('the path it names applies: the reordered tags are no finding', async () => {
      const before = await diffStores({ baselineStore: stores.left, candidateStore: stores.right });
      expect(before.endpoints.flatMap((e) => e.findings.map((f) => `${f.field} ${f.kind}`))).toEqual(['$.items[*].tags order']);
      const out = await run(['--array', '$.items[*].tags=multiset', '--json']);
      expect(out.code).toBe(0);
      expect((JSON.parse(out.stdout) as { endpoints: Array<{ findings: unknown[] }> }).endpoints.flatMap((e) => e.findings)).toEqual([]);
    });

    it('a scenario: file:line:col under diff.arrays, the path at its key, the mode at its value', async () => {
      const file = join(dir, 's.yaml');
      await writeFile(file, `version: 1\nname: x\ndiff:\n  left: ${stores.left}\n  right: ${stores.right}\n  arrays:\n    $.items[3].tags: multiset\n    $.ok: bag\n    $.users: key:@id\n`);
      let problems: string[] = [];
      try {
        loadScenario(file, { env: {} });
      } catch (err) {
        problems = (err as { problems?: string[] }).problems ?? [];
      }
      expect(problems).toEqual([
        expect.stringMatching(/s\.yaml:7:5 diff\.arrays\["\$\.items\[3\]\.tags"\]: "\$\.items\[3\]\.tags" names one array element; .*: use "\$\.items\[\*\]\.tags"$/),
        expect.stringMatching(/s\.yaml:8:11 diff\.arrays\["\$\.ok"\]: must be index, multiset or key:<field>, got "bag"; did you mean "multiset"\?$/),
      ]);
    });
  });
});
