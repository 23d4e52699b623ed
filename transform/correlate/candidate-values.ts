import { decodeJsonString } from '../json/json-tokens.js';

/**
 * Which produced values correlate learns: the candidate test, and the
 * verdict on the key a value sits under (`orderId` names an id, `currency`
 * a member of a fixed set). Both run for every leaf of every response, so
 * they have forms that work on spans of the body's text (`keyKindAt`,
 * `candidateHashAt`): learning from a response slices nothing out of it and
 * remembers each value as a number (`valueHash`), so it allocates nothing
 * per value that would outlive the record in the garbage collector's eyes.
 */

const TRIVIAL = /^(?:true|false|null|undefined|none|ok|yes|no|\[redacted\])$/i;
const ID_KEY = /(?:^|[._-])(?:id|uuid|guid|key|token|code|ref|session|csrf|xsrf|nonce|cursor)$|[a-z](?:Id|Uuid|Key|Token|Code|Ref)$/;
// Keys whose values come from a small fixed set: ISO and postal codes, states, kinds. The same value recurs
// in unrelated exchanges (every order of a shop says "currencyCode": "EUR"), so a later request repeating
// it is a coincidence, not a data flow. `code` alone and other `…Code` keys (`code` of an OAuth redirect,
// `sessionCode`, `confirmationCode`, `inviteCode`, `promoCode`) stay id-like: those are issued per user or
// session and sent back, which is exactly what correlation is for.
const ENUM_KEY = /(?:^|[._-])(?:status|state|type|kind|locale|lang|language|currency|country|region|timezone|tz|role|object|mode|format|unit|gender)$/i;
const ENUM_CAMEL_KEY = /[a-z](?:Status|State|Type|Kind|Locale|Lang|Language|Currency|Country|Region|Timezone|Role|Mode|Format|Unit)$/;
const ENUM_CODE_KEY = /(?:^|[._-]|[a-z])(?:country|currency|postal|post|zip|language|lang|locale|region|state|province|area|dial|phone|status|error|err|reason|response|http|result|return|exit|color|colour|tax|unit|iso|iata|icao|airport|timezone|tz|mcc)[_-]?code$/i;
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}|$)/;
const WORD = /^[A-Za-z]+$/;
const SPACE = /\s/;

/**
 * Is a produced value specific enough to correlate on? Short values and
 * numbers only as ids (`"id": 42`), and never a single character; never
 * booleans, times, plain words or prose: those recur by coincidence and
 * would wire unrelated requests together.
 */
export function isCandidate(value: string, key: string): boolean {
  return isCandidateOfKind(value, keyKind(key));
}

/** `isCandidate` with the key's verdict already known (`keyKind`, `keyKindAt`). */
export function isCandidateOfKind(value: string, kind: KeyKind): boolean {
  const n = value.length;
  // One character is never specific enough, whatever the key: `"lineId": 1` would wire itself to every
  // `page=1` and `"qty": 1` that follows.
  if (n < 2 || n > 4096) return false;
  // Under an enumeration key only a value no fixed set would hold is specific: an OAuth `state`
  // (`location.state`) is a random token, a `status` of "pending_payment" is not.
  if (kind === 'enum') return looksRandom(value);
  const c = value.charCodeAt(0);
  // TRIVIAL's words start with one of t f n u o y [ (either case): test only those.
  if (n <= 11 && TRIVIAL_FIRST.has(c | 0x20) && TRIVIAL.test(value)) return false;
  if ((c >= 0x30 && c <= 0x39) || c === 0x2d) {
    // Numbers are ids only under an id-like key (counts, amounts, sizes recur by chance); times never are.
    if (NUMBER.test(value)) return value !== '0' && value !== '-1' && kind === 'id';
    if (n >= 10 && ISO_TIME.test(value)) return false;
  }
  if (n >= 6 && n < 16 && WORD.test(value)) return kind === 'id'; // a plain word
  if (SPACE.test(value)) return false; // prose: tokens and ids have no spaces
  return n >= 6 || kind === 'id';
}

const TRIVIAL_FIRST = new Set([...'tfnuoy['].map((ch) => ch.charCodeAt(0) | 0x20));

/** Long enough, letters and digits mixed, no spaces: a generated token rather than a member of a set. */
function looksRandom(value: string): boolean {
  return value.length >= 16 && !SPACE.test(value) && /\d/.test(value) && /[A-Za-z]/.test(value);
}

export type KeyKind = 'id' | 'enum' | 'other';

// Keys repeat on every record (`id`, `email`, `orderId`): remember the verdict. Bounded by clearing.
const keyKinds = new Map<string, KeyKind>();

/**
 * What a key says about its value: an identifier (`id`, `orderId`, `user_token`), a member of a fixed
 * set (`status`, `countryCode`, `postal_code`), or neither. Enumerations win over ids: `postalCode`
 * ends in `Code` but is not issued to anyone.
 *
 * @example
 * keyKind('orderId') // 'id'
 * keyKind('currencyCode') // 'enum'
 * keyKind('email') // 'other'
 */
export function keyKind(key: string): KeyKind {
  let v = keyKinds.get(key);
  if (v === undefined) {
    v = ENUM_CODE_KEY.test(key) || ENUM_KEY.test(key) || ENUM_CAMEL_KEY.test(key) ? 'enum' : ID_KEY.test(key) ? 'id' : 'other';
    if (keyKinds.size >= 4096) keyKinds.clear();
    keyKinds.set(key, v);
  }
  return v;
}

// Verdicts by the key's raw text, for `keyKindAt`: a table of two-entry sets, the set chosen by the
// key's length and four of its characters. A key sliced out of the body is a fresh string, and looking
// it up in `keyKinds` makes V8 compute its hash first: that, not the slice, was most of the cost. Two
// entries per set because a body's few dozen keys would otherwise share a slot now and then (`tier`
// and `qty` did, in a 512-slot direct-mapped table), and two keys taking turns in one slot miss on
// every leaf.
const SPAN_SETS = 2048;
// An unused entry holds the empty key, with its verdict. Entry 2s is the set's most recent, 2s+1 the other.
const spanKeys: string[] = new Array<string>(SPAN_SETS * 2).fill('');
const spanKinds: KeyKind[] = new Array<KeyKind>(SPAN_SETS * 2).fill(keyKind(''));

/**
 * `keyKind` of the key whose raw text (quotes included) spans `start`–`end`
 * of `text`; `start` -1 is no key (a value at the top or in a top-level array).
 * A key seen before is recognized in place, character by character (an
 * earlier cache that returned the key string, compared with `startsWith` and
 * still looked the verdict up by it profiled slower than slicing).
 */
export function keyKindAt(text: string, start: number, end: number): KeyKind {
  if (start < 0) return keyKind('');
  const len = end - start - 2;
  let at = 0;
  if (len > 0) {
    const h = Math.imul(len ^ (text.charCodeAt(start + 1) << 8) ^ (text.charCodeAt(end - 2) << 16), 0x9e3779b1);
    at = (Math.imul(h ^ text.charCodeAt(start + 1 + (len >> 1)) ^ (text.charCodeAt(end - 3) << 8), 0x85ebca6b) >>> 21) << 1;
  }
  if (sameText(spanKeys[at]!, text, start + 1, len)) return spanKinds[at]!;
  if (sameText(spanKeys[at + 1]!, text, start + 1, len)) {
    // Swap, so that the entry a miss replaces is the one used less recently.
    const k = spanKeys[at + 1]!;
    const v = spanKinds[at + 1]!;
    spanKeys[at + 1] = spanKeys[at]!;
    spanKinds[at + 1] = spanKinds[at]!;
    spanKeys[at] = k;
    spanKinds[at] = v;
    return v;
  }
  const kind = keyKind(decodeJsonString(text, start, end));
  // Only the raw text is compared: a key with an escape is remembered as written (`"k\u0065y"`), so
  // the same raw text always gets the verdict of the same decoded key.
  spanKeys[at + 1] = spanKeys[at]!;
  spanKinds[at + 1] = spanKinds[at]!;
  spanKeys[at] = text.slice(start + 1, end - 1);
  spanKinds[at] = kind;
  return kind;
}

/** Is `text` from `at` (`len` code units) the same as `s`? */
function sameText(s: string, text: string, at: number, len: number): boolean {
  if (s.length !== len) return false;
  for (let i = 0; i < len; i++) if (s.charCodeAt(i) !== text.charCodeAt(at + i)) return false;
  return true;
}

const NUMBER_AT = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Is `text` from `start` to `end` exactly a number as `NUMBER` reads one (and so, under a key that is not id-like, no candidate)? */
export function isPlainNumberAt(text: string, start: number, end: number): boolean {
  NUMBER_AT.lastIndex = start;
  return NUMBER_AT.test(text) && NUMBER_AT.lastIndex === end;
}

const ISO_TIME_AT = /\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2})?/y;

/**
 * `isCandidateOfKind` of the unescaped text between `start` and `end` (a JSON
 * string's contents, or a number), without slicing it out: -1 when it is no
 * candidate, `ESCAPED` when the text holds an escape (decode it and use
 * `isCandidateOfKind`), else its `valueHash`. The rare shapes that need a regex on the
 * whole value (a short word that may be `true`, `none`, `ok`…) are sliced and
 * go through `isCandidateOfKind`; a test holds the two equal.
 */
export function candidateHashAt(text: string, start: number, end: number, kind: KeyKind): number {
  const n = end - start;
  if (n < 2) return -1; // escapes only make the raw text longer than the value
  if (n > 4096) return hasBackslash(text, start, end) ? ESCAPED : -1;
  // Decided by the length and the key alone, before the value is read (escapes only make the raw
  // text longer, so a raw text too short is a value too short): under an enumeration key only a
  // 16-character token is specific, under any other key nothing shorter than 6.
  if (kind === 'enum' ? n < 16 : kind === 'other' && n < 6) return -1;
  let h = HASH_SEED;
  let letters = true;
  let digit = false;
  let letter = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) return ESCAPED;
    h = Math.imul(h ^ c, HASH_PRIME);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) letter = true;
    else {
      letters = false;
      if (c >= 0x30 && c <= 0x39) digit = true;
      // Whitespace rules a value out under every key (prose, a date with a time), escapes or not.
      else if (isSpaceCode(c)) return -1;
    }
  }
  const hash = h & HASH_MASK;
  if (kind === 'enum') return digit && letter ? hash : -1;
  const c0 = text.charCodeAt(start);
  if (n <= 11 && TRIVIAL_FIRST.has(c0 | 0x20)) return isCandidateOfKind(text.slice(start, end), kind) ? hash : -1;
  if ((c0 >= 0x30 && c0 <= 0x39) || c0 === 0x2d) {
    if (isPlainNumberAt(text, start, end)) return kind === 'id' && !(n === 2 && c0 === 0x2d && text.charCodeAt(start + 1) === 0x31) ? hash : -1;
    if (n >= 10) {
      ISO_TIME_AT.lastIndex = start;
      if (ISO_TIME_AT.test(text) && (ISO_TIME_AT.lastIndex === start + 16 || n === 10)) return -1;
    }
  }
  if (n >= 6 && n < 16 && letters) return kind === 'id' ? hash : -1;
  return hash; // 6 or more characters, or an id-like key (shorter ones under other keys went above)
}

export const ESCAPED = -2;

function hasBackslash(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (text.charCodeAt(i) === 0x5c) return true;
  return false;
}

// FNV-1a over UTF-16 code units, cut to 30 bits so that it stays a small integer (no heap number).
const HASH_SEED = 0x811c9dc5 | 0;
const HASH_PRIME = 0x01000193;
const HASH_MASK = 0x3fffffff;

/**
 * The number correlate remembers a value by. Two values can share one (about
 * one in a million lookups at the per-session caps): a shared number can at
 * worst skip learning a value or count a miss, never template a wrong value,
 * because a use is checked against the producing response's actual values.
 */
export function valueHash(value: string): number {
  let h = HASH_SEED;
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), HASH_PRIME);
  return h & HASH_MASK;
}

/** What `\s` matches, by code unit. */
function isSpaceCode(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}
