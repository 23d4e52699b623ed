import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffStores } from '../../../replay/diff/run-diff.js';
import type { DiffReport } from '../../../replay/diff/diff-report.js';
import type { DiffRulesInput } from '../../../replay/diff/diff-rules.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { writeBodyStores, type StoredAnswer } from './support/body-stores.js';

/**
 * Streams of JSON records (NDJSON, JSON Lines, RFC 7464 json-seq, and NDJSON
 * labelled application/json, as servers often send it) are
 * compared record by record, structurally, as the elements of an array `$`:
 * `$[1].id` is the second record's id, grouped under the field `$[*].id`.
 */

function findings(report: DiffReport): string[] {
  return report.endpoints.flatMap((e) => e.findings.map((f) => `${f.field} ${f.kind}`)).sort();
}

function examplePaths(report: DiffReport): string[] {
  return report.endpoints.flatMap((e) => e.findings.flatMap((f) => f.examples.map((x) => `${x.path} ${x.baseline ?? '-'} ${x.candidate ?? '-'}`))).sort();
}

const lines = (...records: unknown[]) => `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;

describe('JSON record streams', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await makeTempDir('reprise-diff-ndjson-')));
  afterEach(async () => cleanup());

  let run = 0;
  const diff = async (left: StoredAnswer, right: StoredAnswer, rules: DiffRulesInput = {}) => {
    const s = await writeBodyStores(`${dir}/${++run}`, [{ path: '/export', left, right }]);
    return diffStores({ baselineStore: s.left, candidateStore: s.right, rules });
  };

  it('NDJSON: a changed field is named by record and path, a dropped record is one missing element', async () => {
    const left = lines({ id: 1, name: 'a', at: 1 }, { id: 2, name: 'b', at: 2 }, { id: 3, name: 'c', at: 3 });
    const right = lines({ at: 1, name: 'a', id: 1 }, { id: 2, name: 'B', at: 2 });
    const report = await diff({ type: 'application/x-ndjson', body: left }, { type: 'application/x-ndjson', body: right });
    expect(findings(report)).toEqual(['$[*] missing', '$[*].name value']);
    expect(examplePaths(report)).toEqual(['$[1].name "b" "B"', '$[2] {"id":3,"name":"c","at":3} -']);
  });

  it('every stream type: application/jsonl, application/json-seq (RS-separated), a charset parameter; key order and blank lines do not count', async () => {
    const same = await diff({ type: 'application/jsonl', body: `{"a":1,"b":2}\n\n{"a":2}\n` }, { type: 'application/jsonl; charset=utf-8', body: '{"b":2,"a":1}\r\n{"a":2}' });
    expect(findings(same)).toEqual(['header.content-type value']);
    const seq = (...records: unknown[]) => records.map((r) => `\u001e${JSON.stringify(r)}\n`).join('');
    const changed = await diff({ type: 'application/json-seq', body: seq({ a: 1 }, { a: 2 }) }, { type: 'application/json-seq', body: seq({ a: 1 }, { a: '2' }) });
    expect(findings(changed)).toEqual(['$[*].a type']);
    const ld = await diff({ type: 'application/x-jsonlines', body: lines({ a: 1 }) }, { type: 'application/ndjson', body: lines({ a: 1 }, { a: 2 }) });
    expect(findings(ld)).toEqual(['$[*] extra', 'header.content-type value']);
  });

  it('array rules and ignore rules apply to the records: --array "$=key:id", --ignore "$[*].at"', async () => {
    const left = lines({ id: 1, at: 10 }, { id: 2, at: 20 }, { id: 3, at: 30 });
    const right = lines({ id: 3, at: 31 }, { id: 1, at: 11 }, { id: 2, at: 21 });
    const report = await diff({ type: 'application/x-ndjson', body: left }, { type: 'application/x-ndjson', body: right }, { arrays: { $: { mode: 'key', key: 'id' } } });
    expect(findings(report)).toEqual(['$[*].at value']);
    expect(examplePaths(report)[0]).toBe('$[id=1].at 10 11');
    const ignored = await diff({ type: 'application/x-ndjson', body: left }, { type: 'application/x-ndjson', body: right }, { arrays: { $: { mode: 'key', key: 'id' } }, ignore: ['$[*].at'] });
    expect(findings(ignored)).toEqual([]);
  });

  it('NDJSON labelled application/json (as servers often label streams) is compared record by record', async () => {
    const json = (body: string): StoredAnswer => ({ type: 'application/json', body });
    const left = lines({ id: 1, name: 'a', n: 17 }, { id: 2, name: 'b', n: 4 });
    const right = lines({ id: 1, name: 'a', n: 99 }, { id: 2, name: 'B', n: 3 });
    const report = await diff(json(left), json(right), { ignore: ['$[*].n'] });
    expect(findings(report)).toEqual(['$[*].name value']);
    expect(examplePaths(report)).toEqual(['$[1].name "b" "B"']);
    // A one-record stream reads as a JSON document too: beside a stream it is a stream of one record.
    expect(findings(await diff(json(lines({ id: 1 })), json(lines({ id: 1 }, { id: 2 }))))).toEqual(['$[*] extra']);
    // The same records relabelled from NDJSON to JSON: only the label changed.
    expect(findings(await diff({ type: 'application/x-ndjson', body: left }, json(left)))).toEqual(['header.content-type value']);
    // A pretty-printed document that became a stream: clients that parse one document break.
    expect(findings(await diff(json(JSON.stringify([{ id: 1 }, { id: 2 }], null, 2)), json(lines({ id: 1 }, { id: 2 }))))).toEqual(['body type']);
  });

  it('a JSON body that is neither one document nor records is still invalid json', async () => {
    const json = (body: string): StoredAnswer => ({ type: 'application/json', body });
    const cut = await diff(json('{"a":1,"b":[1,2]}'), json('{"a":1,"b":[1,'));
    expect(examplePaths(cut)).toEqual(['body json invalid json']);
    const page = await diff(json(lines({ a: 1 }, { a: 2 })), json('<html>\n<body>502</body>\n</html>\n'));
    expect(examplePaths(page)).toEqual(['body json-lines invalid json']);
    const broken = await diff(json(lines({ a: 1 }, { a: 2 })), json(`${lines({ a: 1 }, { a: 2 })}{"a":`));
    expect(examplePaths(broken)).toEqual(['body json-lines invalid json-lines (line 3)']);
    const both = await diff(json('{"a":1,\n"b":'), json('{"a":2,\n"b":'));
    expect(findings(both)).toEqual(['body value']);
    const empty = await diff(json(''), json('{"a":1}'));
    expect(examplePaths(empty)).toEqual(['body invalid json json']);
  });

  it('a record that is not JSON: one side only is a changed body type; on both sides the stream is compared by lines', async () => {
    const good = lines({ a: 1 }, { a: 2 });
    const cut = await diff({ type: 'application/x-ndjson', body: good }, { type: 'application/x-ndjson', body: `${good}{"a":` });
    expect(findings(cut)).toEqual(['body type']);
    expect(examplePaths(cut)).toEqual(['body json-lines invalid json-lines (line 3)']);
    const both = await diff({ type: 'application/x-ndjson', body: `${good}oops\n` }, { type: 'application/x-ndjson', body: `${good}oops!\n` });
    expect(findings(both)).toEqual(['body value']);
  });
});
