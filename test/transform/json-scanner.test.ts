import { describe, expect, it } from 'vitest';
import { formatConcretePath, matchJsonPath, parseJsonPath } from '../../transform/json/json-path.js';
import { applyEdits, scanJson, type JsonKind } from '../../transform/json/json-scanner.js';

function values(text: string): { result: string; seen: Array<[string, JsonKind, string]> } {
  const seen: Array<[string, JsonKind, string]> = [];
  const result = scanJson(text, (p, kind, s, e) => seen.push([formatConcretePath(p), kind, text.slice(s, e)]));
  return { result, seen };
}

describe('JSON paths', () => {
  it('parses dots, brackets, wildcards and recursive descent', () => {
    expect(parseJsonPath('$.items[*].card').segments).toEqual([{ t: 'key', name: 'items' }, { t: 'any' }, { t: 'key', name: 'card' }]);
    expect(parseJsonPath("$['odd key'][2]").segments).toEqual([{ t: 'key', name: 'odd key' }, { t: 'index', i: 2 }]);
    expect(parseJsonPath('$..password').segments).toEqual([{ t: 'desc' }, { t: 'key', name: 'password' }]);
    for (const bad of ['user.email', '$.', '$[', '$[abc]', '$..', '$.a b']) expect(() => parseJsonPath(bad), bad).toThrow();
  });

  it('matches concrete paths', () => {
    const m = (p: string, c: Array<string | number>): boolean => matchJsonPath(parseJsonPath(p), c);
    expect(m('$.user.email', ['user', 'email'])).toBe(true);
    expect(m('$.user.email', ['user', 'email', 'x'])).toBe(false);
    expect(m('$.items[*].card', ['items', 3, 'card'])).toBe(true);
    expect(m('$.items[1].card', ['items', 3, 'card'])).toBe(false);
    expect(m('$..password', ['password'])).toBe(true);
    expect(m('$..password', ['a', 0, 'b', 'password'])).toBe(true);
    expect(m('$..password', ['password', 'x'])).toBe(false);
    expect(m('$.*', ['anything'])).toBe(true);
  });
});

describe('scanJson', () => {
  it('reports every value with its path and raw span, containers after their children', () => {
    const { result, seen } = values('{"a": [1, "x\\"y", {"b": null}], "big": 12345678901234567890}');
    expect(result).toBe('ok');
    expect(seen).toEqual([
      ['$.a[0]', 'number', '1'],
      ['$.a[1]', 'string', '"x\\"y"'],
      ['$.a[2].b', 'literal', 'null'],
      ['$.a[2]', 'object', '{"b": null}'],
      ['$.a', 'array', '[1, "x\\"y", {"b": null}]'],
      ['$.big', 'number', '12345678901234567890'],
      ['$', 'object', '{"a": [1, "x\\"y", {"b": null}], "big": 12345678901234567890}'],
    ]);
  });

  it('tells truncated from invalid', () => {
    expect(values('{"a": "xy').result).toBe('truncated');
    expect(values('{"a": [1, 2').result).toBe('truncated');
    expect(values('{"a": tr').result).toBe('truncated');
    expect(values('{"a" 1}').result).toBe('invalid');
    expect(values('{"a": 1} x').result).toBe('invalid');
    expect(values('').result).toBe('invalid');
    expect(values('<html>').result).toBe('invalid');
  });

  it('survives hostile nesting without recursion', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    let n = 0;
    expect(scanJson(deep, () => void n++)).toBe('ok');
    expect(n).toBe(200_000);
  });

  it('edits splice into the original text, keeping formatting and big integers', () => {
    const text = '{\n  "id": 12345678901234567890,\n  "user": { "email": "a@b.co" }\n}';
    const edits: Array<{ start: number; end: number; text: string }> = [];
    scanJson(text, (p, _k, s, e) => {
      if (p.at(-1) === 'email') edits.push({ start: s, end: e, text: '"x"' });
      if (p.at(-1) === 'user') edits.push({ start: s, end: e, text: '"gone"' });
    });
    expect(applyEdits(text, edits)).toBe('{\n  "id": 12345678901234567890,\n  "user": "gone"\n}');
  });
});
