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
      else if (/^'(?:[^'\\]|\\.)*'$|^"(?:[^"\\]|\\.)*"$/s.test(inner)) segments.push({ t: 'key', name: unescapeKey(inner.slice(1, -1)) });
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

/**
 * `..` is to a path what `*` is to a glob, so it is matched without
 * backtracking: trying every depth for every `..` was quadratic in the
 * nesting, and a 2 MB body of nested arrays (every container is visited)
 * took minutes per path. The block after the last `..` can only sit at the
 * end; a block followed by another `..` is taken at its leftmost place,
 * since the `..` after it can absorb whatever a later place would skip.
 * (That search is still linear per value, so `$..a..b` on a body nested
 * thousands deep whose every level ends in `b` stays quadratic.)
 */
function matchFrom(segs: PathSegment[], si: number, c: ConcretePath, ci: number): boolean {
  while (si < segs.length) {
    if (segs[si]!.t === 'desc') {
      si++;
      const next = nextDesc(segs, si);
      const len = next - si;
      if (next === segs.length) return c.length - len >= ci && matchBlock(segs, si, len, c, c.length - len);
      // The end is checked first: most values fail there, before any search for the blocks in between.
      const tail = segs.length - 1 - lastDesc(segs);
      if (c.length - tail < ci || !matchBlock(segs, segs.length - tail, tail, c, c.length - tail)) return false;
      let k = ci;
      while (k + len <= c.length && !matchBlock(segs, si, len, c, k)) k++;
      if (k + len > c.length) return false;
      si = next;
      ci = k + len;
      continue;
    }
    if (ci >= c.length || !matchSegment(segs[si]!, c[ci]!)) return false;
    si++;
    ci++;
  }
  return ci === c.length;
}

function lastDesc(segs: PathSegment[]): number {
  let i = segs.length - 1;
  while (segs[i]!.t !== 'desc') i--;
  return i;
}

function nextDesc(segs: PathSegment[], from: number): number {
  let i = from;
  while (i < segs.length && segs[i]!.t !== 'desc') i++;
  return i;
}

/** Do the `len` segments from `si` (none of them `..`) match the concrete parts from `ci`? */
function matchBlock(segs: PathSegment[], si: number, len: number, c: ConcretePath, ci: number): boolean {
  for (let j = 0; j < len; j++) if (!matchSegment(segs[si + j]!, c[ci + j]!)) return false;
  return true;
}

function matchSegment(seg: PathSegment, part: string | number): boolean {
  return seg.t === 'key' ? part === seg.name : seg.t === 'index' ? part === seg.i : true;
}

/** `$.user.email`, `$.items[0].card`; with `collapse`, indexes become `[*]` (for redaction marks). */
export function formatConcretePath(concrete: ConcretePath, collapse = false): string {
  let out = '$';
  for (const p of concrete) out += formatPart(p, collapse);
  return out;
}

function formatPart(p: string | number, collapse: boolean): string {
  if (typeof p === 'number') return collapse ? '[*]' : `[${p}]`;
  return formatPathKey(p);
}

/**
 * One key as a path step, the one spelling every path reprise writes uses
 * (redaction marks, correlation sites, diff fields): `.email` when it is a
 * plain name, else single-quoted as in transforms.yaml and RFC 9535's
 * normalized paths, `['user.email']`, with `'` and `\` escaped.
 *
 * @example
 * formatPathKey('user.email') // "['user.email']"
 */
export function formatPathKey(key: string): string {
  if (/^[A-Za-z_$][\w$-]*$/.test(key)) return `.${key}`;
  // Control characters as \u escapes: a path is printed on one line, and a key from a response must not drive a terminal.
  return `['${key.replace(/['\\]/g, '\\$&').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, escapeControl)}']`;
}

const KEY_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const CONTROL_ESCAPES: Record<string, string> = Object.fromEntries(Object.entries(KEY_ESCAPES).map(([k, v]) => [v, `\\${k}`]));

/** `\n`, `\t` … or `\u001b`, as RFC 9535 writes control characters in a normalized path. */
function escapeControl(c: string): string {
  return CONTROL_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** The key a quoted path step holds: `\uXXXX`, `\n`, `\t` … as in JSON, any other `\c` as `c`. */
function unescapeKey(quoted: string): string {
  return quoted.replace(/\\(u[0-9a-fA-F]{4}|.)/gs, (_m, e: string) => (e.length === 5 ? String.fromCharCode(parseInt(e.slice(1), 16)) : KEY_ESCAPES[e] ?? e));
}

/**
 * A path whose quoted keys are respelled as formatPathKey writes them, so
 * paths written either way compare equal: `$["user.email"]` (as diff printed
 * fields in earlier versions) and `$['user.email']` give `$['user.email']`,
 * `$["meta"]` gives `$.meta`. Everything else (`[*]`, `[3]`, `[id=7]`, globs,
 * a `..*` suffix) is left as written.
 *
 * @example
 * canonicalPathKeys('$["a b"].c') // "$['a b'].c"
 */
export function canonicalPathKeys(path: string): string {
  if (!path.includes('[')) return path;
  let out = '';
  let i = 0;
  while (i < path.length) {
    const open = path.indexOf('[', i);
    if (open === -1) break;
    const close = bracketEnd(path, open);
    if (close === -1) break;
    const key = quotedKey(path.slice(open + 1, close).trim());
    out += path.slice(i, open) + (key === null ? path.slice(open, close + 1) : formatPathKey(key));
    i = close + 1;
  }
  return out + path.slice(i);
}

/** The key inside `'…'` or `"…"`, or null when it is not quoted. */
function quotedKey(inner: string): string | null {
  return /^'(?:[^'\\]|\\.)*'$|^"(?:[^"\\]|\\.)*"$/s.test(inner) ? unescapeKey(inner.slice(1, -1)) : null;
}

/** Redaction marks deeper or longer than this name an ancestor instead: see formatMarkPath. */
export const MAX_MARK_DEPTH = 32;
export const MAX_MARK_CHARS = 256;

/**
 * A redaction mark's path (`$.user.email`, indexes collapsed), bounded: a
 * value nested 10,000 levels deep, or under a 100 KB key, would otherwise
 * leave a mark as long as its path, up to 64 of them per body. Past
 * MAX_MARK_DEPTH parts or MAX_MARK_CHARS characters the mark is the deepest
 * ancestor within both, followed by `..*`: "something at or under here was
 * redacted" (`$.a.b..*`; `$..*` is anywhere in the body). Diff reads it so
 * (replay/diff/diff-accumulator.ts), and it stops descending at 64 levels anyway.
 */
export function formatMarkPath(concrete: ConcretePath): string {
  let out = '$';
  for (let i = 0; i < concrete.length; i++) {
    const part = formatPart(concrete[i]!, true);
    if (i === MAX_MARK_DEPTH || out.length + part.length > MAX_MARK_CHARS) return `${out}..*`;
    out += part;
  }
  return out;
}
