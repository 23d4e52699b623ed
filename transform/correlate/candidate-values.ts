import { decodeJsonString } from '../json/json-scanner.js';

/**
 * Which produced values correlate learns: the candidate test, and the
 * verdict on the key a value sits under (`orderId` names an id, `currency`
 * a member of a fixed set). Both run for every leaf of every response, so
 * they have forms that work on spans of the body's text (`keyKindAt`,
 * `isPlainNumberAt`) and spare the hot loop slicing out what it can reject.
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

// Keys by their raw span: a small direct-mapped cache of keys written without escapes, checked in place
// (`startsWith` at the span), so the learning loop neither slices a key out nor hashes it. JSON APIs
// repeat the same few dozen keys on every record; a miss only costs the slow path below.
const SPAN_SLOTS = 512;
const spanKeys: string[] = new Array<string>(SPAN_SLOTS).fill('\u0000');
const spanKinds: KeyKind[] = new Array<KeyKind>(SPAN_SLOTS).fill('other');

/**
 * `keyKind` of the key whose raw text (quotes included) spans `start`–`end`
 * of `text`; `start` -1 is no key (a value at the top or in a top-level array).
 */
export function keyKindAt(text: string, start: number, end: number): KeyKind {
  if (start < 0) return keyKind('');
  const len = end - start - 2;
  const slot = (len * 31 + text.charCodeAt(start + 1) * 7 + text.charCodeAt(end - 2)) & (SPAN_SLOTS - 1);
  const cached = spanKeys[slot]!;
  if (cached.length === len && text.startsWith(cached, start + 1)) return spanKinds[slot]!;
  const key = decodeJsonString(text, start, end);
  const kind = keyKind(key);
  // Only a key written without escapes has its decoded length: a cached key never holds a backslash
  // or a quote, so a raw span with an escape in it can never match one.
  if (key.length === len) {
    spanKeys[slot] = key;
    spanKinds[slot] = kind;
  }
  return kind;
}

const NUMBER_AT = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Is `text` from `start` to `end` exactly a number as `NUMBER` reads one (and so, under a key that is not id-like, no candidate)? */
export function isPlainNumberAt(text: string, start: number, end: number): boolean {
  NUMBER_AT.lastIndex = start;
  return NUMBER_AT.test(text) && NUMBER_AT.lastIndex === end;
}
