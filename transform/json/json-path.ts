/**
 * JSON paths as people write them in transforms.yaml: `$.user.email`,
 * `$.items[*].card`, `$..password`, `$['odd key'][0]`. A path is matched
 * against the concrete path of each value the JSON scanner visits, so bodies
 * are never parsed into objects (big integers and formatting survive).
 */

import { containerStarts } from './json-scanner.js';

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
  const plan = planOf(path);
  const segs = path.segments;
  const c = concrete;
  if (plan === null) return c.length === segs.length && matchBlock(segs, 0, segs.length, c, 0);
  // The end is checked first: most values fail there, before any search for the blocks in between.
  const at = c.length - plan.tail;
  if (at < plan.head || !matchBlock(segs, segs.length - plan.tail, plan.tail, c, at)) return false;
  if (!matchBlock(segs, 0, plan.head, c, 0)) return false;
  return plan.middle.length === 0 || middlePlaced(plan, segs, c, at);
}

/**
 * `..` is to a path what `*` is to a glob, so it is matched without
 * backtracking: the block before the first `..` sits at the start, the one
 * after the last at the end, and each block between is taken at its
 * leftmost place, since the `..` after it can absorb whatever a later place
 * would skip. (Trying every depth for every `..` was quadratic in the
 * nesting: a 2 MB body of nested arrays took minutes per path.)
 *
 * Where the blocks between land depends only on the path's first parts,
 * which the values of one scan share: a value 5,000 levels deep has the
 * path of its parent plus one part. Searched afresh for every value,
 * `$..a..b` on a body whose every level ends in `b` was still quadratic
 * (5,000 levels: 12.5 million steps; 50,000: 14 s). So such a path
 * remembers, per depth, how many blocks were placed and where the last one
 * ended, with the part and the offset of its container (json-scanner's
 * containerStarts), and trusts the entry while both are the same: each
 * value then costs the parts new since the last one. A path not from the
 * scan in progress is searched from the start.
 */
interface Plan {
  /** Segments before the first `..` and after the last. */
  head: number;
  tail: number;
  /** The blocks between `..`s: [first segment, length]. */
  middle: Array<[number, number]>;
  /** The scan the entries below are from (its containerStarts array). */
  scan: readonly number[] | null;
  /** Per depth (parts consumed): the last part and its container's offset, blocks placed, where the last placed one ends. */
  part: Array<string | number>;
  opened: number[];
  placed: number[];
  end: number[];
}

const plans = new WeakMap<JsonPath, Plan | null>();

/** Null for a path without `..` (matched part by part). */
function planOf(path: JsonPath): Plan | null {
  let plan = plans.get(path);
  if (plan !== undefined) return plan;
  const segs = path.segments;
  const descs = segs.flatMap((s, i) => (s.t === 'desc' ? [i] : []));
  plan = null;
  if (descs.length > 0) {
    const middle: Array<[number, number]> = [];
    for (let d = 0; d + 1 < descs.length; d++) middle.push([descs[d]! + 1, descs[d + 1]! - descs[d]! - 1]);
    plan = { head: descs[0]!, tail: segs.length - 1 - descs.at(-1)!, middle, scan: null, part: [], opened: [], placed: [], end: [] };
  }
  plans.set(path, plan);
  return plan;
}

/** Are all middle blocks placed, leftmost each, within the first `limit` parts (after the head)? */
function middlePlaced(plan: Plan, segs: PathSegment[], c: ConcretePath, limit: number): boolean {
  const opened = containerStarts(c);
  if (opened && plan.scan !== opened) {
    plan.scan = opened;
    for (const a of [plan.part, plan.opened, plan.placed, plan.end]) a.length = 0;
  }
  const all = plan.middle.length;
  let depth = plan.head;
  let placed = 0;
  let end = plan.head;
  if (opened) {
    // The deepest remembered entry still true of this path; the entries above it are filled in below.
    let k = limit;
    while (k > plan.head && (plan.part[k] !== c[k - 1] || plan.opened[k] !== opened[k - 1])) k--;
    if (k > plan.head) {
      depth = k;
      placed = plan.placed[k]!;
      end = plan.end[k]!;
    }
  }
  // Remembering, every depth up to the limit is filled in (the next value may go one deeper);
  // searching afresh, the search ends when the last block is placed.
  while (depth < limit && (opened || placed < all)) {
    depth++;
    if (placed < all) {
      const [si, len] = plan.middle[placed]!;
      if (depth - len >= end && matchBlock(segs, si, len, c, depth - len)) {
        placed++;
        end = depth;
      }
    }
    if (opened) {
      plan.part[depth] = c[depth - 1]!;
      plan.opened[depth] = opened[depth - 1]!;
      plan.placed[depth] = placed;
      plan.end[depth] = end;
    }
  }
  return placed === all;
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
