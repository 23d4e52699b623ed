import { describe, expect, it } from 'vitest';
import { parseArrayRule } from '../../../replay/diff/array-rules.js';
import { compileDiffRules } from '../../../replay/diff/diff-rules.js';
import { compareJson, MAX_DIFFS_PER_PAIR, parseJsonForDiff, templatePath } from '../../../replay/diff/json-compare.js';

const rules = compileDiffRules();
const kinds = (a: unknown, b: unknown, r = rules) => compareJson(a, b, r).map((d) => `${d.path} ${d.kind}`);

describe('compareJson', () => {
  it('ignores key order and reports type, value, missing and extra at their paths', () => {
    expect(kinds({ a: 1, b: { c: 'x', d: true } }, { b: { d: true, c: 'x' }, a: 1 })).toEqual([]);
    expect(kinds({ id: 42, name: 'a', gone: 1, n: null }, { id: '42', name: 'b', added: [1], n: null })).toEqual([
      '$.id type', '$.name value', '$.gone missing', '$.added extra',
    ]);
    const [d] = compareJson({ id: 42 }, { id: '42' }, rules);
    expect(d).toMatchObject({ left: 42, right: '42' });
  });

  it('a pure reordering is one order difference; changed elements are per index', () => {
    expect(kinds({ t: ['a', 'b', 'c'] }, { t: ['c', 'a', 'b'] })).toEqual(['$.t order']);
    expect(kinds({ t: ['a', 'b', 'c'] }, { t: ['a', 'x', 'c', 'd'] })).toEqual(['$.t[1] value', '$.t[3] extra']);
    expect(kinds({ t: [{ k: 1 }, { k: 2 }] }, { t: [{ k: 2 }, { k: 1 }] })).toEqual(['$.t order']);
  });

  it('arrays as multisets or matched by a key field, per path', () => {
    const r = compileDiffRules({ arrays: { '$.tags': { mode: 'multiset' }, '$.users': { mode: 'key', key: 'id' } } });
    expect(kinds({ tags: ['a', 'b', 'b'] }, { tags: ['b', 'a', 'b'] }, r)).toEqual([]);
    expect(kinds({ tags: ['a', 'b'] }, { tags: ['b', 'c'] }, r)).toEqual(['$.tags[*] missing', '$.tags[*] extra']);
    const users = kinds({ users: [{ id: 1, n: 'a' }, { id: 2, n: 'b' }] }, { users: [{ id: 2, n: 'B' }, { id: 1, n: 'a' }, { id: 3, n: 'c' }] }, r);
    expect(users).toEqual(['$.users[id=2].n value', '$.users[id=3] extra']);
    expect(parseArrayRule('$.users=key:id')).toEqual(['$.users', { mode: 'key', key: 'id' }]);
    expect(() => parseArrayRule('users=bag')).toThrow('--array "users=bag": "users" can never match an array; did you mean "$.users"?; the mode must be index, multiset or key:<field>, got "bag"; did you mean "multiset"?');
  });

  it('numeric tolerance, 1 vs 1.0, null vs missing are configurable', () => {
    expect(kinds({ p: 10 }, { p: 10.004 })).toEqual(['$.p value']);
    expect(kinds({ p: 10 }, { p: 10.004 }, compileDiffRules({ absoluteTolerance: 0.01 }))).toEqual([]);
    expect(kinds({ p: 1000 }, { p: 1001 }, compileDiffRules({ relativeTolerance: 0.002 }))).toEqual([]);
    // By value (default) 1 and 1.0 are one number; with strictNumberText their text differs.
    const one = parseJsonForDiff('{"v":1}', false);
    const onePointZero = parseJsonForDiff('{"v":1.0}', false);
    expect(kinds(one, onePointZero)).toEqual([]);
    const strict = compileDiffRules({ strictNumberText: true });
    const d = compareJson(parseJsonForDiff('{"v":1,"s":"1.0"}', true), parseJsonForDiff('{"v":1.0,"s":"1.0"}', true), strict);
    expect(d).toEqual([{ path: '$.v', kind: 'value', left: 1, right: 1 }]);
    expect(kinds({ a: null }, {})).toEqual(['$.a missing']);
    expect(kinds({ a: null }, {}, compileDiffRules({ nullEqualsMissing: true }))).toEqual([]);
  });

  it('integers past 2^53 (64-bit ids) compare exactly: a changed id is not lost to double rounding', () => {
    // Both parse to the same double, 12345678901234567000.
    const before = parseJsonForDiff('{"id":12345678901234567890,"n":1,"s":"12345678901234567890"}', false);
    const after = parseJsonForDiff('{"id":12345678901234567891,"n":1.0,"s":"12345678901234567890"}', false);
    expect(compareJson(before, after, rules)).toEqual([{ path: '$.id', kind: 'value', left: '12345678901234567890', right: '12345678901234567891' }]);
    expect(compareJson(before, parseJsonForDiff('{"n":1,"s":"12345678901234567890","id":12345678901234567890}', false), rules)).toEqual([]);
    expect(kinds(parseJsonForDiff('[9007199254740993]', false), parseJsonForDiff('[9007199254740992]', false))).toEqual(['$[0] value']);
    expect(kinds(parseJsonForDiff('[-9007199254740993]', false), [-9007199254740991])).toEqual(['$[0] value']);
    expect(kinds(before, after, compileDiffRules({ absoluteTolerance: 1 }))).toEqual([]);
    expect(kinds(parseJsonForDiff('{"t":[12345678901234567890,1]}', false), parseJsonForDiff('{"t":[1,12345678901234567890]}', false))).toEqual(['$.t order']);
  });

  it('field templates collapse indexes, keyed elements and id-like keys', () => {
    expect(templatePath('$.users[3].orders[id=7].total')).toBe('$.users[*].orders[*].total');
    expect(templatePath('$.byId.9f1c2e3a-0b1c-4d2e-8f00-aa11bb22cc33.name')).toBe('$.byId.*.name');
    expect(templatePath('$["a b"].c')).toBe('$["a b"].c');
    expect(templatePath('$.v2.items')).toBe('$.v2.items');
  });

  it('hostile input: deep nesting and huge differing arrays stay bounded', () => {
    const deep = (leaf: number) => JSON.parse(`${'['.repeat(20_000)}${leaf}${']'.repeat(20_000)}`);
    const d = compareJson(deep(1), deep(2), rules);
    expect(d).toHaveLength(1);
    expect(String(d[0]!.left)).toMatch(/nested deeper than/);
    expect(compareJson(deep(1), deep(1), rules)).toEqual([]);
    const big = (x: number) => Array.from({ length: 100_000 }, (_, i) => i * x);
    expect(compareJson(big(1), big(2), rules).length).toBe(MAX_DIFFS_PER_PAIR);
    // Keys that are JavaScript internals are plain data.
    expect(kinds(JSON.parse('{"__proto__":{"x":1},"constructor":1}'), JSON.parse('{"__proto__":{"x":2},"constructor":1}'))).toEqual(['$.__proto__.x value']);
  });
});
