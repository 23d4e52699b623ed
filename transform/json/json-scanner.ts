import { decodeJsonString, isNumberChar, stringEnd, ws } from './json-tokens.js';

export { decodeJsonString, stringEnd };

/**
 * A JSON scanner that reports where each value sits in the text instead of
 * building objects, so a step can splice a replacement into the original
 * body: formatting, key order and big integers (which JSON.parse would round)
 * survive, and a truncated body is scanned as far as it goes.
 *
 * State machine: an explicit stack of open containers (so hostile nesting
 * cannot overflow the call stack) and a parallel `path` of keys / indexes.
 * After each value the scanner looks at the innermost container: in an
 * object it expects `,` + key + `:` or `}`, in an array `,` or `]`.
 * Containers are reported when they close (children first).
 */

export type JsonKind = 'string' | 'number' | 'literal' | 'object' | 'array';

/** Called for every value; `path` is live (copy it to keep it). `start`/`end` span the raw text, quotes included. */
export type JsonValueVisitor = (path: ReadonlyArray<string | number>, kind: JsonKind, start: number, end: number) => void;
/** Called for every object key; the span includes the quotes. */
export type JsonKeyVisitor = (path: ReadonlyArray<string | number>, start: number, end: number) => void;

export type JsonScanResult = 'ok' | 'truncated' | 'invalid';

const OBJ = 0;
const ARR = 1;

// The latest scan: its live path and where each container on it opened (they change together).
let livePath: ReadonlyArray<string | number> | null = null;
let liveStarts: readonly number[] = [];

/**
 * Where the containers along a path opened in the text (one offset per
 * part), when `path` is the live path of the latest scan; undefined for any
 * other array (a copy, or the outer path while a visitor runs a scan of its
 * own). The returned array names the scan. Within one scan an offset names
 * one container, and so the parts above it: a part is as before if its
 * container's offset and its own key or index are. JSON paths use it to
 * keep what they worked out for a path's first parts from one value to the
 * next (json-path.ts, for `$..a..b`), at no cost to the scan itself.
 */
export function containerStarts(path: ReadonlyArray<string | number>): readonly number[] | undefined {
  return path === livePath ? liveStarts : undefined;
}

/** Make `path` (with where each of its containers opened) the latest scan's live path: for scanners built like this one (json-lazy-path.ts). */
export function setLivePath(path: ReadonlyArray<string | number>, starts: readonly number[]): void {
  livePath = path;
  liveStarts = starts;
}

export function scanJson(text: string, onValue: JsonValueVisitor, onKey?: JsonKeyVisitor): JsonScanResult {
  const n = text.length;
  const kinds: number[] = [];
  const starts: number[] = [];
  const path: Array<string | number> = [];
  livePath = path;
  liveStarts = starts;
  let i = ws(text, 0);
  if (i >= n) return 'invalid';
  for (;;) {
    // A value starts at i.
    if (i >= n) return 'truncated';
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) {
      kinds.push(OBJ);
      starts.push(i);
      path.push('');
      i = ws(text, i + 1);
      if (i >= n) return 'truncated';
      if (text.charCodeAt(i) === 0x7d /* } */) {
        i++;
        path.pop();
        kinds.pop();
        onValue(path, 'object', starts.pop()!, i);
      } else {
        const k = readKey(text, i, path, onKey);
        if (k < 0) return k === -1 ? 'truncated' : 'invalid';
        i = k;
        continue;
      }
    } else if (c === 0x5b /* [ */) {
      kinds.push(ARR);
      starts.push(i);
      path.push(0);
      i = ws(text, i + 1);
      if (i >= n) return 'truncated';
      if (text.charCodeAt(i) === 0x5d /* ] */) {
        i++;
        path.pop();
        kinds.pop();
        onValue(path, 'array', starts.pop()!, i);
      } else continue;
    } else if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      if (end === -1) return 'truncated';
      onValue(path, 'string', i, end);
      i = end;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < n && isNumberChar(text.charCodeAt(j))) j++;
      if (j >= n && kinds.length > 0) return 'truncated';
      onValue(path, 'number', i, j);
      i = j;
    } else if (text.startsWith('true', i) || text.startsWith('null', i)) {
      onValue(path, 'literal', i, i + 4);
      i += 4;
    } else if (text.startsWith('false', i)) {
      onValue(path, 'literal', i, i + 5);
      i += 5;
    } else {
      return n - i < 5 && 'truefalsenull'.includes(text.slice(i)) ? 'truncated' : 'invalid';
    }
    // After a value: close containers or move to the next member.
    for (;;) {
      i = ws(text, i);
      if (kinds.length === 0) return i >= n ? 'ok' : 'invalid';
      if (i >= n) return 'truncated';
      const d = text.charCodeAt(i);
      const top = kinds[kinds.length - 1];
      if (d === 0x2c /* , */) {
        i = ws(text, i + 1);
        if (top === ARR) {
          (path[path.length - 1] as number)++;
        } else {
          const k = readKey(text, i, path, onKey);
          if (k < 0) return k === -1 ? 'truncated' : 'invalid';
          i = k;
        }
        break;
      }
      if ((top === OBJ && d === 0x7d) || (top === ARR && d === 0x5d)) {
        i++;
        path.pop();
        kinds.pop();
        onValue(path, top === OBJ ? 'object' : 'array', starts.pop()!, i);
        continue;
      }
      return 'invalid';
    }
  }
}

/** Reads `"key" :` at i, sets the path's last entry; returns the index of the value, -1 truncated, -2 invalid. */
function readKey(text: string, i: number, path: Array<string | number>, onKey?: JsonKeyVisitor): number {
  if (i >= text.length) return -1;
  if (text.charCodeAt(i) !== 0x22) return -2;
  const end = stringEnd(text, i);
  if (end === -1) return -1;
  path[path.length - 1] = decodeJsonString(text, i, end);
  onKey?.(path, i, end);
  let j = ws(text, end);
  if (j >= text.length) return -1;
  if (text.charCodeAt(j) !== 0x3a /* : */) return -2;
  j = ws(text, j + 1);
  return j;
}

export interface TextEdit {
  start: number;
  end: number;
  text: string;
}

/**
 * Apply replacements to `text`. An edit inside a larger one (a child of a
 * replaced object) is dropped: the larger one wins. `mapGap` rewrites the
 * text between edits (escaping `${` when templates are being written).
 */
export function applyEdits(text: string, edits: TextEdit[], mapGap: (s: string) => string = same): string {
  if (edits.length === 0) return mapGap(text);
  edits.sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let pos = 0;
  for (const e of edits) {
    if (e.start < pos) continue;
    out += mapGap(text.slice(pos, e.start)) + e.text;
    pos = e.end;
  }
  return out + mapGap(text.slice(pos));
}

const same = (s: string): string => s;

/** A quick look: does this text start like a JSON object or array? */
export function looksLikeJson(text: string): boolean {
  const i = ws(text, 0);
  const c = text.charCodeAt(i);
  return c === 0x7b || c === 0x5b;
}
