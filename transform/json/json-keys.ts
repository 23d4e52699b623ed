import { decodeJsonString } from './json-string.js';

/**
 * Object keys recur on every record of an API (`id`, `email`, `items`). Scans
 * read each key through this cache: a small two-way set-associative table of
 * keys written without escapes that hands back the same string, checked in
 * place (`startsWith` at the span). So a scan allocates no copy of a key it
 * has seen before, and callers' lookups by key hit a string whose hash V8
 * has already computed.
 */

const SETS = 512;
// Entries 2s and 2s+1 form set s; the most recently added is 2s. '\u0000' never matches a real span (see keyAt).
const keys: string[] = new Array<string>(SETS * 2).fill('\u0000');

/** The key whose raw text (quotes included) spans `start`–`end` of `text`. */
export function keyAt(text: string, start: number, end: number): string {
  const len = end - start - 2;
  const s = setOf(text, start + 1, len) * 2;
  const a = keys[s]!;
  if (a.length === len && text.startsWith(a, start + 1)) return a;
  const b = keys[s + 1]!;
  if (b.length === len && text.startsWith(b, start + 1)) return b;
  const key = decodeJsonString(text, start, end);
  // Only a key written without escapes has its decoded length: a cached key so never holds a backslash or a
  // quote, and a span with an escape in it can never match one.
  if (key.length === len) {
    keys[s + 1] = a;
    keys[s] = key;
  }
  return key;
}

/** A set from the length and three characters: enough to spread an API's few dozen keys. */
function setOf(text: string, at: number, len: number): number {
  if (len === 0) return 0;
  let h = Math.imul(len ^ (text.charCodeAt(at) << 8) ^ (text.charCodeAt(at + (len >> 1)) << 16), 0x9e3779b1);
  h = Math.imul(h ^ text.charCodeAt(at + len - 1), 0x85ebca6b);
  return (h >>> 23) & (SETS - 1);
}
