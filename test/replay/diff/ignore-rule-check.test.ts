import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../cli/main.js';
import { isRepriseError } from '../../../errors.js';
import { parseDiffRulesYaml } from '../../../replay/diff/diff-rules-file.js';
import { compileDiffRules } from '../../../replay/diff/diff-rules.js';
import { loadScenario } from '../../../scenarios/load-scenario.js';
import { expectOneLineError } from '../../support/run-cli.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { writeStorePair } from './support/offline-stores.js';

/**
 * An ignore rule that can never match a field (`headers.x-foo`, `legacy`
 * without `$.`) is refused where it is written — a flag, a rules file, a
 * scenario — with the rule named and a did-you-mean, instead of silently
 * ignoring nothing.
 */

function refusal(ignore: string[]): string {
  try {
    compileDiffRules({ ignore });
  } catch (err) {
    if (isRepriseError(err) && err.code === 'DIFF_OPTIONS_INVALID') return err.message;
    throw err;
  }
  throw new Error(`expected ${ignore.join(', ')} to be refused`);
}

describe('ignore rules that can never match', () => {
  it('every field spelling the report uses, and globs over them, is accepted', () => {
    const ok = [
      '$', '$.meta', '$.**.updatedAt', '**.revision', '**', '*', 'header', 'header.**', 'header.X-Build', 'Header.X-B*',
      'HEADER.SET-COOKIE.S*', 'header.set-cookie.SID', 'status', 'body', 'body.bom', "$['user.email']", '$["user.email"]',
      '$.items[*].id', '$[*].at', '$.a.*.b', '$.user_*', "$['tag list'][*]", '$.**', '$.v2', '$.items[*].sha256',
    ];
    expect(() => compileDiffRules({ ignore: ok })).not.toThrow();
  });

  it.each([
    ['headers.x-foo', 'did you mean "header.x-foo"?'],
    ['Headers.X-Foo', 'did you mean "header.X-Foo"?'],
    ['legacy', 'did you mean "$.legacy"?'],
    ['user.email', 'did you mean "$.user.email"?'],
    ['.user.email', 'did you mean "$.user.email"?'],
    ['$user.email', 'did you mean "$.user.email"?'],
    ['$..updatedAt', 'did you mean "$.**.updatedAt"?'],
    ['response.body.$.email', 'did you mean "$.email"?'],
    ['Status', 'did you mean "status"?'],
    ['status.code', 'did you mean "status"?'],
    ['body.error', 'did you mean "$.error"?'],
    ['$.a:b', `did you mean "$['a:b']"?`],
    ['$.items[]', 'did you mean "$.items[*]"?'],
    ['$.meta ', 'did you mean "$.meta"?'],
    ['$.items[*', ''],
    ['$.', ''],
  ])('%s is refused, named, with a hint', (rule, hint) => {
    const msg = refusal([rule]);
    expect(msg).toContain(`ignore "${rule}" can never match a field`);
    expect(msg).toContain(hint);
    expect(msg).not.toContain('\n');
  });

  it.each([
    ['$.users[id=7].name', 'names one array element', '$.users[*].name'],
    ['$.items[3]', 'names one array element', '$.items[*]'],
    ['$.byId.1234.total', 'names one id-like key', '$.byId.*.total'],
    ["$.byId['0190a000-0000-7000-8000-000000000001']", 'names one id-like key', '$.byId[*]'],
  ])('%s (a concrete element) is refused with the field template', (rule, what, field) => {
    const every = what.endsWith('element') ? 'every element as [*]' : 'every id-like key as a wildcard';
    expect(refusal([rule])).toBe(`ignore "${rule}" ${what}; findings are per field, ${every}: use "${field}"`);
  });

  it('every bad rule is reported at once', () => {
    expect(refusal(['$.ok', 'legacy', 'headers.x'])).toMatch(/ignore "legacy" .*; ignore "headers\.x" /);
  });

  it('a rules file names the rule with file:line:col', () => {
    let msg = '';
    try {
      parseDiffRulesYaml("ignore:\n  - '$.meta'\n  - headers.x-foo\n", 'diff.yaml');
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toContain('diff.yaml:3:5 ignore[1]: "headers.x-foo" can never match a field');
    expect(msg).toContain('did you mean "header.x-foo"?');
  });

  describe('where a user writes them', () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    let stores: { left: string; right: string };
    beforeAll(async () => {
      ({ dir, cleanup } = await makeTempDir('reprise-diff-ignore-check-'));
      stores = await writeStorePair(dir, 4, { sameIds: true });
    });
    afterAll(async () => cleanup?.());

    it('--ignore: one line, exit 1, DIFF_OPTIONS_INVALID', async () => {
      let stderr = '';
      const sink = (into: (s: string) => void): NodeJS.WritableStream => new Writable({ write: (c, _e, cb) => (into(String(c)), cb()) });
      const code = await main(['diff', '--left', stores.left, '--right', stores.right, '--ignore', 'legacy'], { stdout: sink(() => {}), stderr: sink((x) => (stderr += x)), debug: false, log: pino({ level: 'silent' }) });
      expect(code).toBe(1);
      expect(expectOneLineError({ code, stdout: '', stderr }, 'DIFF_OPTIONS_INVALID')).toContain('ignore "legacy" can never match a field; did you mean "$.legacy"?');
    });

    it('a scenario: file:line:col under diff.ignore', async () => {
      const file = join(dir, 's.yaml');
      await writeFile(file, `version: 1\nname: x\ndiff:\n  left: ${stores.left}\n  right: ${stores.right}\n  ignore:\n    - $.meta\n    - user.email\n`);
      let problems: string[] = [];
      try {
        loadScenario(file, { env: {} });
      } catch (err) {
        problems = (err as { problems?: string[] }).problems ?? [];
      }
      expect(problems).toEqual([expect.stringMatching(/s\.yaml:8:7 diff\.ignore\[1\]: "user\.email" can never match a field; did you mean "\$\.user\.email"\?/)]);
    });
  });
});
