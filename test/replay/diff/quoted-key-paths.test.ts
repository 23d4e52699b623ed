import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareJson, templatePath } from '../../../replay/diff/json-compare.js';
import { compileDiffRules } from '../../../replay/diff/diff-rules.js';
import { diffStores } from '../../../replay/diff/run-diff.js';
import type { DiffReport } from '../../../replay/diff/diff-report.js';
import type { Exchange } from '../../../store/exchange.js';
import { openStoreWriter } from '../../../store/segment-writer.js';
import { parseJsonPath } from '../../../transform/json/json-path.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { ex, runSteps } from '../../transform/transform-helpers.js';

/**
 * Keys that need quoting (a dot, a space) are written one way everywhere:
 * `$['user.email']`, as transforms.yaml paths and redaction marks write them,
 * so a redacted field is recognised, and a field copied from the report into
 * --ignore or --array matches. Paths written the other way (`$["user.email"]`)
 * are still understood, in rules and in marks.
 */

const T0 = Date.UTC(2026, 10, 23, 9) * 1000;

function fields(report: DiffReport): string[] {
  return report.endpoints.flatMap((e) => e.findings.map((f) => `${f.field} ${f.kind}`)).sort();
}

function withBody(e: Exchange, i: number, body: unknown, redactions?: string[]): Exchange {
  const text = JSON.stringify(body);
  const { redactions: _drop, ...rest } = e;
  return {
    ...rest,
    id: `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`,
    start: T0 + i * 1000,
    response: { ...e.response!, body: { encoding: 'utf8', data: text, size: Buffer.byteLength(text) } },
    ...(redactions ? { redactions } : {}),
  };
}

async function writeStore(path: string, records: Exchange[]): Promise<void> {
  const w = await openStoreWriter(path);
  for (const r of records) await w.write(r);
  await w.close();
}

describe('diff paths of keys that need quoting', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await makeTempDir('reprise-diff-quoted-')));
  afterEach(async () => cleanup());

  const live = (i: number) => ({ 'user.email': `ada${i}@example.test`, 'contact info': { phone: '+14155552671' }, 'build.id': `b${i}`, 'tag list': ['x', 'y'], n: 1 });

  it('a field redact marked as $[\'user.email\'] is never reported; the report names fields as the marks do', async () => {
    // Recorded traffic, redacted by the real transform step: the marks are what that step writes.
    const recorded = Array.from({ length: 4 }, (_, i) => ex({ path: `/users/${i}`, resBody: JSON.stringify(live(i)), seq: i }));
    const redacted = await runSteps([{ type: 'redact', jsonPaths: ["$['user.email']", "$['contact info'].phone"] }], recorded);
    expect(redacted[0]!.redactions).toEqual(["response.body.$['user.email']", "response.body.$['contact info'].phone"]);
    const left = redacted.map((e, i) => withBody(e, i, JSON.parse(e.response!.body!.data), e.redactions));
    // The same requests answered whole by the candidate, with a reordered list and a changed build id.
    const right = recorded.map((e, i) => withBody(e, i, { ...live(i), 'build.id': `c${i}`, 'tag list': ['y', 'x'] }));
    await writeStore(`${dir}/left`, left);
    await writeStore(`${dir}/right`, right);

    const report = await diffStores({ baselineStore: `${dir}/left`, candidateStore: `${dir}/right` });
    // Only what really changed; the names are spelled as the marks and transforms.yaml spell them.
    expect(fields(report)).toEqual(["$['build.id'] value", "$['tag list'] order"]);
    const example = report.endpoints[0]!.findings.find((f) => f.kind === 'value')!.examples[0]!;
    expect(example.path).toBe("$['build.id']");

    // A field copied from the report into --ignore / --array matches, and so does the other spelling.
    for (const spelling of [["$['build.id']", "$['tag list']"], ['$["build.id"]', '$["tag list"]']]) {
      const quiet = await diffStores({
        baselineStore: `${dir}/left`,
        candidateStore: `${dir}/right`,
        rules: { ignore: [spelling[0]!], arrays: { [spelling[1]!]: { mode: 'multiset' } } },
      });
      expect(fields(quiet), spelling.join(' ')).toEqual([]);
    }
  });

  it('marks written with double quotes are understood too', async () => {
    const left = [0, 1].map((i) => withBody(ex({ path: `/u/${i}`, seq: i }), i, { 'user.email': '[REDACTED]', 'a b': { 'c.d': '[REDACTED]' }, n: 1 }, [
      'response.body.$["user.email"]',
      'response.body.$["a b"]["c.d"]',
    ]));
    const right = [0, 1].map((i) => withBody(ex({ path: `/u/${i}`, seq: i }), i, { 'user.email': 'ada@example.test', 'a b': { 'c.d': 'x' }, n: 2 }));
    await writeStore(`${dir}/left`, left);
    await writeStore(`${dir}/right`, right);
    const report = await diffStores({ baselineStore: `${dir}/left`, candidateStore: `${dir}/right` });
    expect(fields(report)).toEqual(['$.n value']);
  });

  it('a key with control characters is printed escaped, on one line, and its mark still matches', async () => {
    const key = 'note\u001b[2J\nline2';
    const recorded = [0, 1].map((i) => ex({ path: `/n/${i}`, seq: i, resBody: JSON.stringify({ [key]: `ada${i}@example.test`, n: 1 }) }));
    const redacted = await runSteps([{ type: 'redact', detectors: ['email'] }], recorded);
    expect(redacted[0]!.redactions).toEqual(["response.body.$['note\\u001b[2J\\nline2']"]);
    // The printed path parses back to the same key (correlate writes extraction rules this way).
    expect(parseJsonPath("$['note\\u001b[2J\\nline2']").segments).toEqual([{ t: 'key', name: key }]);
    const left = redacted.map((e, i) => withBody(e, i, JSON.parse(e.response!.body!.data), e.redactions));
    const right = recorded.map((e, i) => withBody(e, i, { [key]: `ada${i}@example.test`, n: 2 }));
    await writeStore(`${dir}/left`, left);
    await writeStore(`${dir}/right`, right);
    expect(fields(await diffStores({ baselineStore: `${dir}/left`, candidateStore: `${dir}/right` }))).toEqual(['$.n value']);
    // Marks that older versions wrote with the characters raw are read too.
    const raw = redacted.map((e, i) => withBody(e, i, JSON.parse(e.response!.body!.data), [`response.body.$['${key}']`]));
    await writeStore(`${dir}/left-raw`, raw);
    expect(fields(await diffStores({ baselineStore: `${dir}/left-raw`, candidateStore: `${dir}/right` }))).toEqual(['$.n value']);
    // Unredacted, the key is reported escaped: nothing in the field drives the terminal.
    const plain = recorded.map((e, i) => withBody(e, i, { [key]: 'x', n: 1 }));
    await writeStore(`${dir}/plain`, plain);
    expect(fields(await diffStores({ baselineStore: `${dir}/plain`, candidateStore: `${dir}/right` }))).toEqual(['$.n value', "$['note\\u001b[2J\\nline2'] value"]);
  });

  it('field templates: quoted keys keep their text; id-like ones collapse, in either spelling', () => {
    const rules = compileDiffRules();
    expect(compareJson({ 'a.b': { 'c d': 1 } }, { 'a.b': { 'c d': 2 } }, rules).map((d) => d.path)).toEqual(["$['a.b']['c d']"]);
    expect(compareJson({ "it's": 1 }, { "it's": 2 }, rules).map((d) => d.path)).toEqual(["$['it\\'s']"]);
    expect(templatePath("$['a=b'].c")).toBe("$['a=b'].c");
    expect(templatePath("$['x.12345678'].c")).toBe("$['x.12345678'].c");
    expect(templatePath("$['2026-01-02'].c")).toBe('$[*].c');
    expect(templatePath('$["2026-01-02"].c')).toBe('$[*].c');
  });
});
