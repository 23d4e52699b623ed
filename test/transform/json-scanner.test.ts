import { describe, expect, it } from 'vitest';
import { formatConcretePath, matchJsonPath, parseJsonPath, type JsonPath, type PathSegment } from '../../transform/json/json-path.js';
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

describe('JSON paths with ..', () => {
  /** The definition of `..` (zero or more levels), tried at every depth: the reference the matcher must agree with. */
  function reference(segs: PathSegment[], si: number, c: Array<string | number>, ci: number): boolean {
    if (si === segs.length) return ci === c.length;
    const seg = segs[si]!;
    if (seg.t === 'desc') {
      for (let k = ci; k <= c.length; k++) if (reference(segs, si + 1, c, k)) return true;
      return false;
    }
    if (ci >= c.length) return false;
    const part = c[ci]!;
    return (seg.t === 'any' || (seg.t === 'key' ? part === seg.name : part === seg.i)) && reference(segs, si + 1, c, ci + 1);
  }

  it('agree with the definition on random paths and patterns', () => {
    const parts: Array<string | number> = ['a', 'b', 0, 1];
    const pieces = ['.a', '.b', '[0]', '[1]', '[*]', '..a', '..b', '..[0]', '..*'];
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    for (let round = 0; round < 20_000; round++) {
      const source = `$${Array.from({ length: 1 + rnd(5) }, () => pieces[rnd(pieces.length)]).join('')}`;
      const concrete = Array.from({ length: rnd(8) }, () => parts[rnd(parts.length)]!);
      const path = parseJsonPath(source);
      expect(matchJsonPath(path, concrete), `${source} ${JSON.stringify(concrete)}`).toBe(reference(path.segments, 0, concrete, 0));
    }
  });

  it('agree with the definition on the live paths of a scan (values visited in document order)', () => {
    const pieces = ['.a', '.b', '[0]', '[1]', '[*]', '..a', '..b', '..[0]', '..*'];
    let seed = 11;
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n;
    const doc = (depth: number): string => {
      if (depth === 0 || rnd(4) === 0) return String(rnd(10));
      const n = 1 + rnd(3);
      if (rnd(2) === 0) return `[${Array.from({ length: n }, () => doc(depth - 1)).join(',')}]`;
      return `{${Array.from({ length: n }, (_, i) => `"${'ab'[rnd(2)]}${i === 0 ? '' : i}": ${doc(depth - 1)}`).join(',')}}`;
    };
    let hits = 0;
    const wrong: string[] = [];
    let paths: JsonPath[] = [];
    for (let round = 0; round < 400; round++) {
      const text = doc(8);
      // Paths with two or more `..` remember what they found between values of one scan: several at once
      // and over several bodies, as redact runs them.
      if (round % 8 === 0) paths = Array.from({ length: 4 }, () => parseJsonPath(`$${Array.from({ length: 2 + rnd(5) }, () => pieces[rnd(pieces.length)]).join('')}`));
      scanJson(text, (p) => {
        for (const path of paths) {
          const expected = reference(path.segments, 0, [...p], 0);
          if (matchJsonPath(path, p) !== expected) wrong.push(`${path.source} ${JSON.stringify(p)}: should be ${expected}`);
          if (expected) hits++;
        }
      });
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(hits).toBeGreaterThan(1000);
    // The next body, laid out the same (same offsets, same inner keys): nothing is carried over from the last one.
    const path = parseJsonPath('$..a..b');
    const matched = (text: string): string[] => {
      const out: string[] = [];
      scanJson(text, (p) => void (matchJsonPath(path, p) && out.push(formatConcretePath(p))));
      return out;
    };
    expect(matched('{"a": {"x": {"b": 1}}}')).toEqual(['$.a.x.b']);
    expect(matched('{"c": {"x": {"b": 1}}}')).toEqual([]);
  });

  it('take steps in proportion to the nesting, not its square, with two or more `..` (counted segment reads)', () => {
    // Every level ends in `b` and none is `a`: each value's path passes the end check, and the search for
    // `a` (or `a.b`) used to start over at the root for each of them: 5,000 levels took 12.5 million steps.
    const depth = 5_000;
    const deep = `${'{"b": '.repeat(depth)}1${'}'.repeat(depth)}`;
    for (const source of ['$..a..b', '$..a.b..b', '$..b..a..b', '$.b..a..b..b']) {
      const parsed = parseJsonPath(source);
      let reads = 0;
      const counted = { source, segments: parsed.segments.map((s) => new Proxy(s, { get: (t, k) => (reads++, Reflect.get(t, k)) })) };
      let matched = 0;
      expect(scanJson(deep, (p) => void (matchJsonPath(counted, p) && matched++))).toBe('ok');
      expect(matched, source).toBe(0);
      expect(reads, source).toBeLessThan(40 * depth);
    }
  });

  it('stay linear in the nesting: a deeply nested body is matched in well under a second', () => {
    const deep = `${'['.repeat(100_000)}${'{"a": '.repeat(20_000)}1${'}'.repeat(20_000)}${']'.repeat(100_000)}`;
    for (const source of ['$..password', '$..a', '$..a.b', '$..x..y', '$.a..b[*]']) {
      const path = parseJsonPath(source);
      const t0 = performance.now();
      scanJson(deep, (p) => void matchJsonPath(path, p));
      expect(performance.now() - t0, source).toBeLessThan(1000);
    }
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
