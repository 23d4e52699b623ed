import { collapsePathIds } from '../../store/endpoint-template.js';
import { formatPathKey } from '../../transform/json/json-path.js';
import type { Difference, DiffKind } from './diff-types.js';
import type { DiffRules } from './diff-rules.js';

/**
 * Structural JSON comparison: key order never matters; arrays pair by index
 * (a pure reordering is one `order` difference, not N value differences), as
 * multisets, or by a key field, per path; numbers within tolerance are equal.
 * A subtree present on one side only is one difference at its root.
 */

/** Differences past this many in one pair are not listed: a hostile body must not cost unbounded work. */
export const MAX_DIFFS_PER_PAIR = 200;
/** Nesting walked field by field; deeper subtrees get one whole-subtree verdict (no recursion, no stack overflow). */
export const MAX_DEPTH = 64;

// With strictNumberText, numbers are parsed as this marker so `1` and `1.0` stay distinguishable.
const NUM = '\u0000n';
type NumText = { [NUM]: string };

const JSON_TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/**
 * JSON.parse that keeps a number's source text where a double would lose it:
 * every number with strictNumberText (`1` vs `1.0`), else only integers past
 * 2^53 — 64-bit ids such as 12345678901234567890 and …891 parse to the same
 * double, and a changed id must not compare equal.
 */
export function parseJsonForDiff(text: string, strictNumberText: boolean): unknown {
  // Sixteen digits in a row is the cheapest sign an unsafe integer may be present; most bodies skip the rewrite.
  if (!strictNumberText && !/\d{16}/.test(text)) return JSON.parse(text);
  const marked = text.replace(JSON_TOKEN, (m) =>
    m.startsWith('"') || (!strictNumberText && !isUnsafeInteger(m)) ? m : `{"\\u0000n":"${m}"}`);
  return JSON.parse(marked);
}

function isUnsafeInteger(numberText: string): boolean {
  return /^-?\d{16,}$/.test(numberText) && !Number.isSafeInteger(Number(numberText));
}

type JsonType = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

function typeOf(v: unknown): JsonType {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = typeof v;
  if (t === 'object') return isNumText(v) ? 'number' : 'object';
  return t as JsonType;
}

function isPlainScalar(v: unknown): boolean {
  return v === null || typeof v !== 'object';
}

function isNumText(v: unknown): v is NumText {
  return typeof v === 'object' && v !== null && NUM in v;
}

function plain(v: unknown, depth = 0): unknown {
  // An integer past 2^53 is shown as its text: as a number both sides of a changed id would print the same.
  if (isNumText(v)) return isUnsafeInteger(v[NUM]) ? v[NUM] : Number(v[NUM]);
  if (depth > MAX_DEPTH && v !== null && typeof v === 'object') return '(nested too deep to show)';
  if (Array.isArray(v)) return v.map((x) => plain(x, depth + 1));
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = plain(x, depth + 1);
    return o;
  }
  return v;
}

/** Deep equality with an explicit stack, for subtrees too deep to recurse into. */
function deepEqualIterative(a: unknown, b: unknown): boolean {
  const stack: Array<[unknown, unknown]> = [[a, b]];
  while (stack.length > 0) {
    const [x, y] = stack.pop()!;
    if (x === y) continue;
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    const kx = Object.keys(x);
    if (kx.length !== Object.keys(y).length) return false;
    for (const k of kx) {
      if (!Object.hasOwn(y, k)) return false;
      stack.push([(x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]]);
    }
  }
  return true;
}

class JsonWalk {
  constructor(
    private readonly rules: DiffRules,
    readonly out: Difference[],
  ) {}

  push(path: string, kind: DiffKind, left: unknown, right: unknown): void {
    if (this.out.length >= MAX_DIFFS_PER_PAIR) return;
    const d: Difference = { path, kind };
    if (left !== undefined) d.left = isPlainScalar(left) ? left : plain(left);
    if (right !== undefined) d.right = isPlainScalar(right) ? right : plain(right);
    this.out.push(d);
  }

  walk(a: unknown, b: unknown, path: string, depth = 0): void {
    if (a === b || this.out.length >= MAX_DIFFS_PER_PAIR) return;
    const ta = typeOf(a);
    const tb = typeOf(b);
    if (ta !== tb) return this.push(path, 'type', a, b);
    if (depth >= MAX_DEPTH && (ta === 'object' || ta === 'array')) {
      // Hostile nesting must not blow the stack: below this depth, one verdict for the whole subtree.
      if (!deepEqualIterative(a, b)) this.out.push({ path, kind: 'value', left: `(nested deeper than ${MAX_DEPTH} levels)`, right: '(differs below)' });
      return;
    }
    switch (ta) {
      case 'number':
        if (!this.numbersEqual(a, b)) this.push(path, 'value', a, b);
        return;
      case 'object':
        return this.walkObject(a as Record<string, unknown>, b as Record<string, unknown>, path, depth + 1);
      case 'array':
        return this.walkArray(a as unknown[], b as unknown[], path, depth + 1);
      default:
        this.push(path, 'value', a, b); // strings and booleans that are not ===
    }
  }

  private numbersEqual(a: unknown, b: unknown): boolean {
    const ta = isNumText(a) ? a[NUM] : null;
    const tb = isNumText(b) ? b[NUM] : null;
    // Both kept as text and written differently: with strictNumberText that is the difference; without
    // it, only integers past 2^53 are kept as text, and their exact gap (≥ 1) is what the tolerance sees.
    const texts = ta !== null && tb !== null && ta !== tb;
    if (texts && this.rules.strictNumberText) return false;
    const x = ta !== null ? Number(ta) : (a as number);
    const y = tb !== null ? Number(tb) : (b as number);
    if (!texts && x === y) return true;
    const diff = texts ? bigGap(ta, tb) : Math.abs(x - y);
    if (diff <= this.rules.absoluteTolerance) return true;
    return diff <= this.rules.relativeTolerance * Math.max(Math.abs(x), Math.abs(y));
  }

  private walkObject(a: Record<string, unknown>, b: Record<string, unknown>, path: string, depth: number): void {
    const nullOk = this.rules.nullEqualsMissing;
    for (const k in a) {
      const x = a[k];
      if (Object.hasOwn(b, k)) {
        const y = b[k];
        // Equal scalars are most of any body: skip them before paying for a path string.
        if (x !== y) this.walk(x, y, childPath(path, k), depth);
      } else if (!(nullOk && x === null)) this.push(childPath(path, k), 'missing', x, undefined);
    }
    for (const k in b) {
      if (!Object.hasOwn(a, k) && !(nullOk && b[k] === null)) this.push(childPath(path, k), 'extra', undefined, b[k]);
    }
  }

  private walkArray(a: unknown[], b: unknown[], path: string, depth: number): void {
    const rule = this.rules.arrays.size > 0 ? this.rules.arrays.get(templatePath(path)) : undefined;
    if (rule?.mode === 'multiset') return this.walkMultiset(a, b, path);
    if (rule?.mode === 'key') return this.walkKeyed(a, b, path, rule.key, depth);
    const before = this.out.length;
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) this.walk(a[i], b[i], `${path}[${i}]`, depth);
    if (this.out.length > before && a.length === b.length && rule === undefined && sameMultiset(a, b)) {
      // Same elements, another order: one finding at the array, not one per moved element.
      this.out.length = before;
      this.push(path, 'order', a, b);
      return;
    }
    for (let i = n; i < a.length; i++) this.push(`${path}[${i}]`, 'missing', a[i], undefined);
    for (let i = n; i < b.length; i++) this.push(`${path}[${i}]`, 'extra', undefined, b[i]);
  }

  private walkMultiset(a: unknown[], b: unknown[], path: string): void {
    const counts = new Map<string, { n: number; v: unknown }>();
    for (const x of a) {
      const k = canonical(x);
      const e = counts.get(k);
      if (e) e.n++;
      else counts.set(k, { n: 1, v: x });
    }
    const extra: unknown[] = [];
    for (const y of b) {
      const e = counts.get(canonical(y));
      if (e && e.n > 0) e.n--;
      else extra.push(y);
    }
    for (const e of counts.values()) for (let i = 0; i < e.n; i++) this.push(`${path}[*]`, 'missing', e.v, undefined);
    for (const y of extra) this.push(`${path}[*]`, 'extra', undefined, y);
  }

  private walkKeyed(a: unknown[], b: unknown[], path: string, key: string, depth: number): void {
    const keyOf = (x: unknown, i: number): string => {
      const v = x !== null && typeof x === 'object' ? (x as Record<string, unknown>)[key] : undefined;
      return v === undefined ? `#${i}` : canonical(v);
    };
    const right = new Map<string, unknown>();
    b.forEach((y, i) => right.set(keyOf(y, i), y));
    for (let i = 0; i < a.length; i++) {
      const k = keyOf(a[i], i);
      const p = `${path}[${key}=${k}]`;
      if (right.has(k)) {
        this.walk(a[i], right.get(k), p, depth);
        right.delete(k);
      } else this.push(p, 'missing', a[i], undefined);
    }
    for (const [k, y] of right) this.push(`${path}[${key}=${k}]`, 'extra', undefined, y);
  }
}

/**
 * Every difference between two parsed JSON values, root path `$`.
 *
 * @example
 * compareJson({ id: 1, tags: ['a', 'b'] }, { id: '1', tags: ['b', 'a'] }, compileDiffRules())
 * // [{ path: '$.id', kind: 'type', … }, { path: '$.tags', kind: 'order', … }]
 */
export function compareJson(left: unknown, right: unknown, rules: DiffRules, out: Difference[] = []): Difference[] {
  new JsonWalk(rules, out).walk(left, right, '$');
  return out;
}

const SIMPLE_KEY = /^[A-Za-z_$][\w$-]*$/;

/** `$.a.b`, `$['a.b']`: spelled as redaction marks and transforms.yaml spell keys, so marks and copied rules match. */
function childPath(path: string, key: string): string {
  return SIMPLE_KEY.test(key) ? `${path}.${key}` : path + formatPathKey(key);
}

/**
 * The field a concrete path belongs to, for grouping across requests: array
 * positions and keyed elements become `[*]`, id-like keys (`.1234`, a UUID) `.*`.
 *
 * @example
 * templatePath('$.users[3].orders[id=7].total') // '$.users[*].orders[*].total'
 */
export function templatePath(path: string): string {
  if (!path.includes('[') && !/\.[^.]*\d/.test(path)) return path;
  // One pass, so a dot inside a quoted key (`$['a.123']`) is never taken for a step.
  return path.replace(PATH_STEP, (m, bracket: string | undefined, key: string | undefined) => {
    if (key !== undefined) return isIdLike(key) ? '.*' : m;
    const quote = bracket![0];
    if (quote !== "'" && quote !== '"') return '[*]'; // an index or a keyed element
    return isIdLike(unquote(bracket!)) ? '[*]' : m;
  });
}

/** `[3]`, `[id=7]`, `['a.b']`, `["a.b"]` (as earlier versions wrote it), or a `.name` step. */
const PATH_STEP = /\[('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\d+|[^\]"'=]+=[^\]]*)\]|\.([^.[]+)/g;

function unquote(quoted: string): string {
  if (quoted[0] === '"') {
    try {
      return JSON.parse(quoted) as string;
    } catch {
      // not JSON after all: take it as written, like a single-quoted key
    }
  }
  return quoted.slice(1, -1).replace(/\\(.)/g, '$1');
}

function isIdLike(key: string): boolean {
  return /\d/.test(key) && collapsePathIds(`/${key}`) === '/:id';
}

/** Order-independent serialization: equal values give equal strings. */
export function canonical(v: unknown, depth = 0): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'undefined';
  if (isNumText(v)) return v[NUM];
  // Too deep to serialize safely: a token equal to nothing else, so such elements never match (conservative).
  if (depth > MAX_DEPTH) return `\u0000deep${++deepTokens}`;
  if (Array.isArray(v)) return `[${v.map((x) => canonical(x, depth + 1)).join(',')}]`;
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k], depth + 1)}`).join(',')}}`;
}

let deepTokens = 0;

function sameMultiset(a: unknown[], b: unknown[]): boolean {
  const sa = a.map(canonical).sort();
  const sb = b.map(canonical).sort();
  return sa.every((x, i) => x === sb[i]);
}

/** |x − y| of two integers written out, exactly, then as a number (≥ 1 when they differ). */
function bigGap(x: string, y: string): number {
  const gap = BigInt(x) - BigInt(y);
  return Number(gap < 0n ? -gap : gap);
}
