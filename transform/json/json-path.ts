/**
 * JSON paths as people write them in transforms.yaml: `$.user.email`,
 * `$.items[*].card`, `$..password`, `$['odd key'][0]`. A path is matched
 * against the concrete path of each value the JSON scanner visits, so bodies
 * are never parsed into objects (big integers and formatting survive).
 */

export type PathSegment =
  | { t: 'key'; name: string }
  | { t: 'index'; i: number }
  /** `*` or `[*]`: any key or index. */
  | { t: 'any' }
  /** `..`: zero or more levels, followed by the selector it applies to. */
  | { t: 'desc' };

export interface JsonPath {
  source: string;
  segments: PathSegment[];
}

export type ConcretePath = ReadonlyArray<string | number>;

/**
 * @example
 * parseJsonPath('$.items[*].card').segments // [{t:'key',name:'items'},{t:'any'},{t:'key',name:'card'}]
 */
export function parseJsonPath(source: string): JsonPath {
  const s = source.trim();
  if (s[0] !== '$') throw new Error('must start with $ (like $.user.email)');
  const segments: PathSegment[] = [];
  let i = 1;
  const fail = (why: string): never => {
    throw new Error(`${why} at column ${i + 1}`);
  };
  while (i < s.length) {
    if (s.startsWith('..', i)) {
      segments.push({ t: 'desc' });
      i += 2;
      if (s[i] === '[') continue;
      i = readName(s, i, segments, fail);
    } else if (s[i] === '.') {
      i = readName(s, i + 1, segments, fail);
    } else if (s[i] === '[') {
      const close = bracketEnd(s, i);
      if (close === -1) fail('unclosed [');
      const inner = s.slice(i + 1, close).trim();
      if (inner === '*') segments.push({ t: 'any' });
      else if (/^\d+$/.test(inner)) segments.push({ t: 'index', i: Number(inner) });
      else if (/^'(?:[^'\\]|\\.)*'$|^"(?:[^"\\]|\\.)*"$/.test(inner)) segments.push({ t: 'key', name: inner.slice(1, -1).replace(/\\(.)/g, '$1') });
      else fail(`[${inner}] is not [n], [*] or ['key']`);
      i = close + 1;
    } else {
      fail(`unexpected "${s[i]}"`);
    }
  }
  if (segments.at(-1)?.t === 'desc') fail('.. must be followed by a name, * or [...]');
  return { source, segments };
}

function readName(s: string, i: number, out: PathSegment[], fail: (why: string) => never): number {
  if (s[i] === '*') {
    out.push({ t: 'any' });
    return i + 1;
  }
  let j = i;
  while (j < s.length && !'.[] \t\'"'.includes(s[j]!)) j++;
  if (j === i) fail('expected a name after .');
  out.push({ t: 'key', name: s.slice(i, j) });
  return j;
}

function bracketEnd(s: string, open: number): number {
  let quote = '';
  for (let i = open + 1; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === ']') return i;
  }
  return -1;
}

/** The problem with a path as a message, or null when it parses. */
export function jsonPathProblem(source: string): string | null {
  try {
    parseJsonPath(source);
    return null;
  } catch (err) {
    return `is not a JSON path: ${(err as Error).message}`;
  }
}

/** Does the concrete path of a value (`['items', 0, 'card']`) match the pattern? */
export function matchJsonPath(path: JsonPath, concrete: ConcretePath): boolean {
  return matchFrom(path.segments, 0, concrete, 0);
}

function matchFrom(segs: PathSegment[], si: number, c: ConcretePath, ci: number): boolean {
  while (si < segs.length) {
    const seg = segs[si]!;
    if (seg.t === 'desc') {
      for (let k = ci; k < c.length; k++) if (matchFrom(segs, si + 1, c, k)) return true;
      return false;
    }
    if (ci >= c.length) return false;
    const part = c[ci]!;
    if (seg.t === 'key' ? part !== seg.name : seg.t === 'index' ? part !== seg.i : false) return false;
    si++;
    ci++;
  }
  return ci === c.length;
}

/** `$.user.email`, `$.items[0].card`; with `collapse`, indexes become `[*]` (for redaction marks). */
export function formatConcretePath(concrete: ConcretePath, collapse = false): string {
  let out = '$';
  for (const p of concrete) {
    if (typeof p === 'number') out += collapse ? '[*]' : `[${p}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(p)) out += `.${p}`;
    else out += `['${p.replace(/['\\]/g, '\\$&')}']`;
  }
  return out;
}
