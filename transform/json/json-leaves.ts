import { isNumberChar, stringEnd, ws } from './json-tokens.js';

/**
 * The string and number leaves of a JSON text, each with the span of the
 * object key it sits under: correlate's learning pass, which looks at every
 * leaf of every response and is the step's hot loop.
 *
 * It visits exactly the leaves `scanJson` visits, in the same order, and stops
 * where it stops on truncated or invalid text (a test holds the two equal on
 * valid, truncated and hostile inputs). What it leaves out is what learning
 * does not need: no path (only the nearest key, as a span, so the caller can
 * look its verdict up without slicing the key out), no callbacks for
 * containers or keys. Nesting lives in one array of key spans, never the call
 * stack.
 */

/**
 * One leaf: its raw span (quotes included for strings) and the nearest object
 * key above it, as the span of the key's raw text (quotes included), or
 * `keyStart === -1` when there is none (a top-level value or an array at the top).
 * Return true to stop.
 */
export type JsonLeafVisitor = (isString: boolean, start: number, end: number, keyStart: number, keyEnd: number) => boolean | void;

const OBJ = 0;
const ARR = 1;

export function scanJsonLeaves(text: string, visit: JsonLeafVisitor): void {
  const n = text.length;
  // Per open container: its kind, and the key span leaves inside it are named after. In an object that
  // is the current member's key; an array inherits the key of the member that holds it.
  const kinds: number[] = [];
  const keyStarts: number[] = [];
  const keyEnds: number[] = [];
  let keyStart = -1;
  let keyEnd = -1;
  // Whitespace is skipped by `ws` only where there is some: API bodies are mostly written without
  // any, and the test inline costs less than the call at every token.
  let i = text.charCodeAt(0) <= 0x20 ? ws(text, 0) : 0;
  for (;;) {
    if (i >= n) return;
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      if (end === -1) return;
      if (visit(true, i, end, keyStart, keyEnd)) return;
      i = end;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < n && isNumberChar(text.charCodeAt(j))) j++;
      if (j >= n && kinds.length > 0) return;
      if (visit(false, i, j, keyStart, keyEnd)) return;
      i = j;
    } else if (c === 0x7b /* { */) {
      kinds.push(OBJ);
      keyStarts.push(keyStart);
      keyEnds.push(keyEnd);
      i++;
      if (text.charCodeAt(i) <= 0x20) i = ws(text, i);
      if (i >= n) return;
      if (text.charCodeAt(i) === 0x7d /* } */) {
        i++;
        kinds.pop();
        keyStart = keyStarts.pop()!;
        keyEnd = keyEnds.pop()!;
      } else {
        keyEnd = keyEndAt(text, i);
        if (keyEnd < 0) return;
        keyStart = i;
        i = valueAfterKey(text, keyEnd);
        if (i < 0) return;
        continue;
      }
    } else if (c === 0x5b /* [ */) {
      kinds.push(ARR);
      keyStarts.push(keyStart);
      keyEnds.push(keyEnd);
      i++;
      if (text.charCodeAt(i) <= 0x20) i = ws(text, i);
      if (i >= n) return;
      if (text.charCodeAt(i) === 0x5d /* ] */) {
        i++;
        kinds.pop();
        keyStart = keyStarts.pop()!;
        keyEnd = keyEnds.pop()!;
      } else continue;
    } else if (text.startsWith('true', i) || text.startsWith('null', i)) {
      i += 4;
    } else if (text.startsWith('false', i)) {
      i += 5;
    } else {
      return;
    }
    // After a value: close containers or move to the next member.
    for (;;) {
      let d = text.charCodeAt(i);
      if (d <= 0x20) {
        i = ws(text, i);
        d = text.charCodeAt(i);
      }
      const depth = kinds.length;
      if (depth === 0 || i >= n) return;
      const top = kinds[depth - 1];
      if (d === 0x2c /* , */) {
        i++;
        if (text.charCodeAt(i) <= 0x20) i = ws(text, i);
        if (top === OBJ) {
          keyEnd = keyEndAt(text, i);
          if (keyEnd < 0) return;
          keyStart = i;
          i = valueAfterKey(text, keyEnd);
          if (i < 0) return;
        }
        break;
      }
      if ((top === OBJ && d === 0x7d) || (top === ARR && d === 0x5d)) {
        i++;
        kinds.pop();
        keyStart = keyStarts.pop()!;
        keyEnd = keyEnds.pop()!;
        continue;
      }
      return;
    }
  }
}

/** The end of the key string at i (past its closing quote), or -1: truncated or invalid, the scan ends. */
function keyEndAt(text: string, i: number): number {
  return i < text.length && text.charCodeAt(i) === 0x22 ? stringEnd(text, i) : -1;
}

/** Given a key that ends at `keyEnd`, the index of its value after the `:`, or -1. */
function valueAfterKey(text: string, keyEnd: number): number {
  let j = keyEnd;
  if (text.charCodeAt(j) !== 0x3a /* : */) {
    j = ws(text, j);
    if (j >= text.length || text.charCodeAt(j) !== 0x3a) return -1;
  }
  j++;
  return text.charCodeAt(j) <= 0x20 ? ws(text, j) : j;
}
