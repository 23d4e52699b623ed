import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffStores } from '../../../replay/diff/run-diff.js';
import type { DiffReport } from '../../../replay/diff/diff-report.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { writeBodyStores } from './support/body-stores.js';

/**
 * A UTF-8 byte-order mark before a body (Windows tooling, some .NET
 * serializers): RFC 8259 lets a parser ignore it, so diff does — the content
 * is compared — and a BOM the candidate starts sending is one low finding.
 */

const BOM = '\uFEFF';
const JSON_TYPE = 'application/json';

function findings(report: DiffReport): string[] {
  return report.endpoints.flatMap((e) => e.findings.map((f) => `${f.field} ${f.kind} ${f.risk}`)).sort();
}

describe('byte-order mark', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await makeTempDir('reprise-diff-bom-')));
  afterEach(async () => cleanup());

  const diff = async (pairs: Parameters<typeof writeBodyStores>[1]) => {
    const s = await writeBodyStores(dir, pairs);
    return diffStores({ baselineStore: s.left, candidateStore: s.right });
  };

  it('a BOM on one side only is not a changed body type: the JSON is compared, the new BOM is one low finding', async () => {
    const body = '{"id":7,"name":"x"}';
    const report = await diff([
      { path: '/added', left: { type: JSON_TYPE, body }, right: { type: JSON_TYPE, body: BOM + body } },
      // Stored as bytes (a body capture kept binary), and changed: the field is still found.
      { path: '/added', left: { type: JSON_TYPE, body: Buffer.from(body) }, right: { type: JSON_TYPE, body: Buffer.from(BOM + body.replace('"x"', '"y"')) } },
    ]);
    expect(findings(report)).toEqual(['$.name value medium', 'body.bom extra low']);
  });

  it('a BOM the candidate drops is not reported (every parser reads JSON without one)', async () => {
    const body = '{"id":7}';
    expect(findings(await diff([{ left: { type: JSON_TYPE, body: BOM + body }, right: { type: JSON_TYPE, body } }]))).toEqual([]);
  });

  it('with a BOM on both sides JSON is compared field by field, and sniffed as JSON without a Content-Type', async () => {
    const report = await diff([
      { left: { type: JSON_TYPE, body: `${BOM}{"a":1,"b":[1,2]}` }, right: { type: JSON_TYPE, body: `${BOM}{"b":[1,3],"a":1}` } },
      { left: { type: '', body: Buffer.from(`${BOM}{"a":1}`) }, right: { type: '', body: Buffer.from(`${BOM}{"a":2}`) } },
    ]);
    expect(findings(report)).toEqual(['$.a value medium', '$.b[*] value medium']);
  });
});
