import { decodeJsonString, isNumberChar, stringEnd, ws } from './json-tokens.js';
import { setLivePath, type JsonKind, type JsonScanResult } from './json-scanner.js';

/**
 * `scanJson` for visitors that need a value's path only now and then:
 * redact looks at every value of every body, but at the path of only the
 * few whose own key is one of its JSON paths' last keys, or where a detector
 * might match. `scanJson` decodes every object key into its live path as it
 * goes (a string sliced out of the body per key: most of its cost); this
 * scan keeps each open container's key as a span of the text and builds
 * the path when the visitor asks (`path()`), decoding only the parts that
 * changed since the last time it was asked — so a path asked for at every
 * value of a deeply nested body still costs what `scanJson` does, never
 * depth × values.
 *
 * Same values, same order, same spans, same result as `scanJson` on any
 * text (a test holds the two equal on valid, truncated and hostile input);
 * containers are reported when they close. The path `path()` returns is
 * live (valid during the visit, like scanJson's) and is registered as the
 * scan's live path, so `containerStarts` works on it as on scanJson's.
 */

export interface LazyPathScan {
  /** The current value's path (or the key's, in a key visit): live, so copy it to keep it. */
  path(): ReadonlyArray<string | number>;
}

/**
 * Called for every value. `keyStart`–`keyEnd` span the raw text (quotes
 * included) of the key the value sits under when it is a member of an object,
 * else `keyStart` is -1 (an array element, or the top-level value).
 */
export type LazyValueVisitor = (kind: JsonKind, start: number, end: number, keyStart: number, keyEnd: number, scan: LazyPathScan) => void;
/** Called for every object key (the span includes the quotes); `scan.path()` ends with this key. */
export type LazyKeyVisitor = (start: number, end: number, scan: LazyPathScan) => void;

const OBJ = 0;
const ARR = 1;

export function scanJsonLazyPath(text: string, onValue: LazyValueVisitor, onKey?: LazyKeyVisitor): JsonScanResult {
  const n = text.length;
  // Per open container: kind, where it opened, and its current member: a key span (objects) or an index (arrays).
  const kinds: number[] = [];
  const starts: number[] = [];
  const keyStarts: number[] = [];
  const keyEnds: number[] = [];
  const indexes: number[] = [];
  // The path as last built; its parts below `valid` are still true of the scan's position.
  const path: Array<string | number> = [];
  let valid = 0;
  const scan: LazyPathScan = {
    path() {
      const depth = kinds.length;
      for (let d = valid; d < depth; d++) path[d] = kinds[d] === OBJ ? decodeJsonString(text, keyStarts[d]!, keyEnds[d]!) : indexes[d]!;
      path.length = depth;
      valid = depth;
      return path;
    },
  };
  setLivePath(path, starts);
  // The key span of the current member, when the innermost container is an object (else -1): what a
  // value is visited with. Kept in step with the stacks above.
  let keyStart = -1;
  let keyEnd = -1;
  // Whitespace is skipped by `ws` only where there is some: API bodies are mostly written without any.
  let i = text.charCodeAt(0) <= 0x20 ? ws(text, 0) : 0;
  if (i >= n) return 'invalid';
  for (;;) {
    // A value starts at i.
    if (i >= n) return 'truncated';
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      if (end === -1) return 'truncated';
      onValue('string', i, end, keyStart, keyEnd, scan);
      i = end;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < n && isNumberChar(text.charCodeAt(j))) j++;
      if (j >= n && kinds.length > 0) return 'truncated';
      onValue('number', i, j, keyStart, keyEnd, scan);
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const obj = c === 0x7b;
      kinds.push(obj ? OBJ : ARR);
      starts.push(i);
      keyStarts.push(-1);
      keyEnds.push(-1);
      indexes.push(0);
      keyStart = -1;
      keyEnd = -1;
      i++;
      if (text.charCodeAt(i) <= 0x20) i = ws(text, i);
      if (i >= n) return 'truncated';
      if (text.charCodeAt(i) === (obj ? 0x7d : 0x5d) /* } or ] */) {
        i++;
        const at = closeTop();
        onValue(obj ? 'object' : 'array', at, i, keyStart, keyEnd, scan);
      } else {
        if (obj) {
          i = readKey(i);
          if (i < 0) return i === -1 ? 'truncated' : 'invalid';
        }
        continue;
      }
    } else if (text.startsWith('true', i) || text.startsWith('null', i)) {
      onValue('literal', i, i + 4, keyStart, keyEnd, scan);
      i += 4;
    } else if (text.startsWith('false', i)) {
      onValue('literal', i, i + 5, keyStart, keyEnd, scan);
      i += 5;
    } else {
      return n - i < 5 && 'truefalsenull'.includes(text.slice(i)) ? 'truncated' : 'invalid';
    }
    // After a value: close containers or move to the next member.
    for (;;) {
      if (text.charCodeAt(i) <= 0x20) i = ws(text, i);
      const depth = kinds.length;
      if (depth === 0) return i >= n ? 'ok' : 'invalid';
      if (i >= n) return 'truncated';
      const d = text.charCodeAt(i);
      const top = kinds[depth - 1];
      if (d === 0x2c /* , */) {
        i++;
        if (text.charCodeAt(i) <= 0x20) i = ws(text, i);
        if (top === ARR) {
          indexes[depth - 1]!++;
          if (valid >= depth) valid = depth - 1;
        } else {
          i = readKey(i);
          if (i < 0) return i === -1 ? 'truncated' : 'invalid';
        }
        break;
      }
      if ((top === OBJ && d === 0x7d) || (top === ARR && d === 0x5d)) {
        i++;
        const at = closeTop();
        onValue(top === OBJ ? 'object' : 'array', at, i, keyStart, keyEnd, scan);
        continue;
      }
      return 'invalid';
    }
  }

  /** Pop the innermost container; returns where it opened. The key span becomes the enclosing member's. */
  function closeTop(): number {
    kinds.pop();
    keyStarts.pop();
    keyEnds.pop();
    indexes.pop();
    const depth = kinds.length;
    if (valid > depth) valid = depth;
    if (depth > 0 && kinds[depth - 1] === OBJ) {
      keyStart = keyStarts[depth - 1]!;
      keyEnd = keyEnds[depth - 1]!;
    } else {
      keyStart = -1;
      keyEnd = -1;
    }
    return starts.pop()!;
  }

  /** Reads `"key" :` at i into the innermost (object) container; returns the index of its value, -1 truncated, -2 invalid. */
  function readKey(at: number): number {
    if (at >= n) return -1;
    if (text.charCodeAt(at) !== 0x22) return -2;
    const end = stringEnd(text, at);
    if (end === -1) return -1;
    const d = kinds.length - 1;
    keyStarts[d] = keyStart = at;
    keyEnds[d] = keyEnd = end;
    if (valid > d) valid = d;
    onKey?.(at, end, scan);
    let j = end;
    if (text.charCodeAt(j) <= 0x20) j = ws(text, j);
    if (j >= n) return -1;
    if (text.charCodeAt(j) !== 0x3a /* : */) return -2;
    j++;
    return text.charCodeAt(j) <= 0x20 ? ws(text, j) : j;
  }
}

/** A set of object keys to recognize in a text without slicing them out (`keyIsOneOf`). */
export interface KeySet {
  keys: readonly string[];
  /** The keys by length: a key of another length is told apart without reading it. */
  byLength: ReadonlyArray<readonly string[] | undefined>;
}

export function keySet(keys: readonly string[]): KeySet {
  const byLength: string[][] = [];
  for (const k of new Set(keys)) (byLength[k.length] ??= []).push(k);
  return { keys, byLength };
}

/**
 * Is the key whose raw text spans `start`–`end` (quotes included) one of the
 * set's? Compared in place; `mayEscape` false says the text has no backslash
 * (the caller looked once per body), so no key is written with escapes, and
 * its raw text is the key. Otherwise a key holding a backslash is decoded.
 */
export function keyIsOneOf(text: string, start: number, end: number, set: KeySet, mayEscape: boolean): boolean {
  const len = end - start - 2;
  if (mayEscape) {
    for (let i = start + 1; i < end - 1; i++) {
      if (text.charCodeAt(i) === 0x5c) return set.keys.includes(decodeJsonString(text, start, end));
    }
  }
  const same = set.byLength[len];
  if (same === undefined) return false;
  const first = text.charCodeAt(start + 1);
  for (const k of same) if (k.charCodeAt(0) === first && text.startsWith(k, start + 1)) return true;
  return false;
}
