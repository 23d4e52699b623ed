import type { DetectorName } from '../step-definitions.js';

/**
 * Secret and personal-data detectors for text (header values, query values,
 * body strings). Each is a regular expression written so that it can only
 * start at the beginning of a token (a lookbehind) and has bounded repeats
 * (the card run, taken whole, has one way to match each step): a megabyte of
 * base64 or digits costs one linear pass, never a quadratic backtrack. Matches that need more than a shape (card numbers) are checked
 * after matching (issuer prefix and length, then Luhn); a run of card digits
 * is searched for the card inside it (`cardSpans`).
 */

export const DETECTOR_NAMES: readonly DetectorName[] = ['jwt', 'aws-key', 'bearer', 'card', 'email', 'phone'];

interface Detector {
  name: DetectorName;
  re: RegExp;
  /** Capture group holding the secret (the rest of the match is kept), 0 for the whole match. */
  group: number;
  valid?: (secret: string) => boolean;
  /** The secrets inside a match, as [start, end) offsets in it, where a match may hold none or several. */
  spans?: (match: string) => Array<[number, number]>;
}

const DETECTORS: Record<DetectorName, Detector> = {
  // Header and payload are base64url JSON, so both start with `eyJ` ('{"').
  jwt: { name: 'jwt', re: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,4096}\.eyJ[A-Za-z0-9_-]{2,16384}\.[A-Za-z0-9_-]{0,4096}/g, group: 0 },
  // AWS access key ids: long-term (AKIA) and temporary (ASIA).
  'aws-key': { name: 'aws-key', re: /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g, group: 0 },
  bearer: { name: 'bearer', re: /(?<![A-Za-z0-9])[Bb]earer\s{1,8}([A-Za-z0-9._~+/-]{8,8192}=*)/g, group: 1 },
  // A whole run of 13 or more digits, optionally grouped by spaces or dashes, also URL-encoded ones
  // (`+`, `%20`) in text that was never decoded (a text/plain body, a URL inside JSON); `cardSpans` finds
  // the card in it. The run is taken whole, not capped at 19 digits: a capped match that failed the
  // check hid a card with an expiry or CVV after it. The two separator forms start with different
  // characters, so each step has one way to match. Not after a digit, unless that digit ends a `%20`
  // (`Card:%204111…`), nor inside a `%20` itself.
  card: { name: 'card', re: /(?<!(?<!%2)\d|[.,%-])\d(?:(?:[ +-]|%20)?\d){12,}/g, group: 0, spans: cardSpans },
  // Local part ≤ 64 (RFC 5321); `%40` catches addresses inside URLs.
  email: { name: 'email', re: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}(?:@|%40)(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])/g, group: 0 },
  // E.164 (+14155552671) or grouped numbers with separators ((415) 555-2671, +44 20 7946 0958); 9–15
  // digits; dotted IPv4 addresses are not phone numbers. Not right after a word, a dot, a slash or a
  // colon (times, versions, URL parts) — except a `tel:` URI's (`tel:+14155552671`).
  phone: {
    name: 'phone',
    re: /(?<![\w+./-])(?<!(?<![Tt][Ee][Ll]):)(?!\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?!\d))(?:\+[1-9]\d{7,14}(?![\d])|(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{2,4}[ .-]\d{3,4}(?:[ .-]\d{2,4})?)(?![\w-])/g,
    group: 0,
    valid: (s) => {
      const digits = s.replace(/\D/g, '').length;
      return digits >= 9 && digits <= 15;
    },
  },
};

/**
 * A cheap look before the real detectors run: most strings have nothing any
 * detector could match. Every detector's match contains one of these: an @,
 * a JWT or AWS key prefix, "Bearer" and a token character, or nine digits
 * with at most two separators between them (cards have one, a phone like
 * `+1 (415) 555-2671` two: ` (` and `) `; an ISO date has eight digits).
 *
 * Two expressions, because together they cost more than apart: the literal
 * prefixes are rare, while a JSON body has digits everywhere (dates, prices)
 * and the digit run is tried at each one. The digit run is written out, not
 * as `\d(?:[ ().-]{0,2}\d){8}`: V8 runs the unrolled form several times
 * faster (measured on 1 KB API bodies: 2.3 µs against 8.8 µs for the loop
 * with one separator).
 */
const MAYBE_PREFIX = /@|%40|eyJ|AKIA|ASIA|[Bb]earer\s+[A-Za-z0-9._~+/-]|\+[1-9]\d{7}/g;
const MAYBE_DIGITS = /\d[ ().-]{0,2}\d[ ().-]{0,2}\d[ ().-]{0,2}\d[ ().-]{0,2}\d[ ().-]{0,2}\d[ ().-]{0,2}\d[ ().-]{0,2}\d[ ().-]{0,2}\d/g;

/**
 * Card numbers URL-encoded in text nobody decoded (`4111+1111+…`,
 * `4111%201111%20…`) have no nine-digit run with those separators. The digit
 * run with `+` and `%` added (`%20` then reads as a separator and two digits)
 * finds them, but costs ~50 % more on every body than the run above, so it
 * only runs where a digit, `+` or `%20`, and a digit follow each other — which
 * every encoded card has. That look is written with indexOf: ~60 ns on a 1 KB
 * JSON body, where a regex for it (with a lookbehind, or starting at `\d`)
 * costs 400–700 ns.
 */
const MAYBE_DIGITS_ENCODED = /\d[ ().+%-]{0,2}\d[ ().+%-]{0,2}\d[ ().+%-]{0,2}\d[ ().+%-]{0,2}\d[ ().+%-]{0,2}\d[ ().+%-]{0,2}\d[ ().+%-]{0,2}\d[ ().+%-]{0,2}\d/g;

/** A JSON escape of an ASCII character (`\u0040`); non-ASCII ones (`\u00e9`) cannot spell a secret here. */
const ASCII_ESCAPE = /\\u00[0-7][0-9a-fA-F]/g;

function hasAsciiEscape(text: string): boolean {
  return text.indexOf('\\u00') !== -1 && test(ASCII_ESCAPE, text);
}

function digitRun(text: string): RegExp {
  return hasEncodedSeparator(text, '+') || hasEncodedSeparator(text, '%20') ? MAYBE_DIGITS_ENCODED : MAYBE_DIGITS;
}

function hasEncodedSeparator(text: string, sep: string): boolean {
  for (let i = text.indexOf(sep, 1); i !== -1; i = text.indexOf(sep, i + 1)) {
    if (isDigit(text.charCodeAt(i - 1)) && isDigit(text.charCodeAt(i + sep.length))) return true;
  }
  return false;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57; // NaN past the end is not
}

function test(re: RegExp, text: string): boolean {
  re.lastIndex = 0;
  return re.test(text);
}

/** Start offsets of every match of `re`, overlapping ones included (each start is tried). */
function starts(re: RegExp, text: string): number[] {
  const out: number[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out.push(m.index);
    re.lastIndex = m.index + 1;
  }
  return out;
}

export interface SecretMatch {
  kind: DetectorName;
  /** Span of the secret itself inside the text. */
  start: number;
  end: number;
}

export class DetectorSet {
  readonly names: readonly DetectorName[];
  private readonly list: Detector[];

  constructor(names: readonly DetectorName[]) {
    // Priority order: when two detectors match the same span, the earlier one names it.
    this.names = DETECTOR_NAMES.filter((n) => names.includes(n));
    this.list = this.names.map((n) => DETECTORS[n]);
  }

  /** Could any detector match in this text? A cheap test to skip whole bodies. */
  maybe(text: string): boolean {
    return text.length >= 6 && (test(MAYBE_PREFIX, text) || test(digitRun(text), text) || hasAsciiEscape(text));
  }

  /**
   * Start offsets of everything in `text` a detector might match, in order:
   * one regex pass over a body tells which of its values are worth a closer
   * look, without slicing out every value.
   */
  hints(text: string): number[] {
    const prefixes = starts(MAYBE_PREFIX, text);
    const digits = starts(digitRun(text), text);
    // JSON can write any character as an escape (`user\u0040example.com`): the raw text then shows
    // no @ nor digit run, and only the decoded value can tell. Such escapes of ASCII characters are
    // rare in real bodies (Go's \u003c for `<`, control characters), so each one is a hint too.
    if (hasAsciiEscape(text)) return [...prefixes, ...digits, ...starts(ASCII_ESCAPE, text)].sort((a, b) => a - b);
    if (digits.length === 0) return prefixes;
    if (prefixes.length === 0) return digits;
    // Merge: the two never start at the same offset (a prefix never starts with a digit).
    const out: number[] = [];
    let a = 0;
    let b = 0;
    while (a < prefixes.length || b < digits.length) {
      if (b === digits.length || (a < prefixes.length && prefixes[a]! < digits[b]!)) out.push(prefixes[a++]!);
      else out.push(digits[b++]!);
    }
    return out;
  }

  /** Non-overlapping matches, in text order; `isToken` excludes values that are already redaction output. */
  find(text: string, isToken?: (s: string) => boolean): SecretMatch[] {
    if (!this.maybe(text)) return [];
    let found: SecretMatch[] | null = null;
    for (const d of this.list) {
      d.re.lastIndex = 0;
      for (let m = d.re.exec(text); m !== null; m = d.re.exec(text)) {
        if (d.spans) {
          for (const [s, e] of d.spans(m[0])) {
            if (isToken?.(m[0].slice(s, e))) continue;
            (found ??= []).push({ kind: d.name, start: m.index + s, end: m.index + e });
          }
          continue;
        }
        const secret = m[d.group]!;
        const start = d.group === 0 ? m.index : m.index + m[0].lastIndexOf(secret);
        if (d.valid && !d.valid(secret)) continue;
        if (isToken?.(secret)) continue;
        (found ??= []).push({ kind: d.name, start, end: start + secret.length });
      }
    }
    if (!found) return [];
    if (found.length === 1) return found;
    found.sort((a, b) => a.start - b.start || b.end - a.end);
    const out: SecretMatch[] = [];
    let pos = -1;
    for (const f of found) {
      if (f.start >= pos) {
        out.push(f);
        pos = f.end;
      }
    }
    return out;
  }
}

// `%20` before the single characters: its `2` and `0` are not digits of the number.
const CARD_SEPARATORS = /%20|[ +-]/g;

/** Most digits written right after a card that still leave it a card: an MMYY expiry or a CVV. */
const GLUED_AFTER = 4;

/**
 * The cards in a run of digits (the card detector's match), as spans in it.
 * The whole run first, grouped any way; a number of 13–19 digits with no
 * separator is a card or not as a whole. Otherwise a card is whole groups
 * (a separator is where a writer splits a number: `4111 1111 1111 1111 123`,
 * `12 4111111111111111`) written as cards are, four or more digits to a
 * group but the last, the longest from each group on; or a group too long
 * to be a card (20–23 digits) that starts with one and has an expiry or CVV
 * glued on after (`41111111111111111225`), masked whole so none of its
 * digits is left. Bounded so ids are not shredded: a list of short numbers
 * never reads as a card, a number of 24 or more digits is never looked into,
 * and digits glued on before a card are not looked through (a number's tail
 * is as random as an id; its start has to look like an issuer's). Each
 * group starts at most 19 windows: linear in the run.
 */
function cardSpans(run: string): Array<[number, number]> {
  const digits = run.replace(CARD_SEPARATORS, '');
  if (digits.length <= 19 && isCardDigits(digits, 0, digits.length)) return [[0, run.length]];
  if (digits.length === run.length && digits.length <= 19) return []; // one group (an id, a timestamp): no more to try
  // Each group's [start, end) in the run, and where its digits start in `digits` (one more closes the last).
  const starts: number[] = [];
  const ends: number[] = [];
  const from: number[] = [];
  for (let i = 0, n = 0; i < run.length; i += run.charCodeAt(i) === 37 ? 3 : 1) { // over `%20` or one of ` +-`
    starts.push(i);
    from.push(n);
    for (; isDigit(run.charCodeAt(i)); i++) n++;
    ends.push(i);
  }
  from.push(digits.length);
  const out: Array<[number, number]> = [];
  for (let g = 0; g < starts.length; g++) {
    const at = from[g]!;
    const len = from[g + 1]! - at;
    if (len < 4 || !mayStartCard(digits.charCodeAt(at))) continue;
    let last = g; // the last group a window from g reaches: within 19 digits, over groups of four or more
    while (last + 1 < starts.length && from[last + 2]! - at <= 19 && from[last + 1]! - from[last]! >= 4) last++;
    let hit = last;
    while (hit >= g && !isCardDigits(digits, at, from[hit + 1]!)) hit--;
    if (hit >= g) {
      out.push([starts[g]!, ends[hit]!]);
      g = hit;
    } else if (len > 19 && len <= 19 + GLUED_AFTER) {
      for (let l = 19; l >= len - GLUED_AFTER; l--) {
        if (isCardDigits(digits, at, at + l)) {
          out.push([starts[g]!, ends[g]!]);
          break;
        }
      }
    }
  }
  return out;
}

/** Every issuer below starts with 2–6: other digits skip the window search at once. */
function mayStartCard(code: number): boolean {
  return code >= 50 && code <= 54;
}

/**
 * Card number check: 13–19 digits, a known issuer prefix with a length it
 * issues (so 16-digit µs timestamps and ids do not count), and the Luhn sum.
 */
export function isCardNumber(s: string): boolean {
  const d = s.replace(CARD_SEPARATORS, '');
  return isCardDigits(d, 0, d.length);
}

/** `isCardNumber` on `digits[start, end)`, without slicing: a run is tried at many places. */
function isCardDigits(digits: string, start: number, end: number): boolean {
  const len = end - start;
  if (len < 13 || len > 19) return false;
  let p4 = 0;
  for (let i = start; i < start + 4; i++) p4 = p4 * 10 + digits.charCodeAt(i) - 48;
  const p3 = Math.trunc(p4 / 10);
  const p2 = Math.trunc(p4 / 100);
  const issuer =
    (p2 >= 40 && p2 <= 49 && (len === 13 || len === 16 || len === 19)) || // Visa
    (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && len === 16) || // Mastercard
    ((p2 === 34 || p2 === 37) && len === 15) || // Amex
    ((p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649)) && len >= 16) || // Discover
    (p4 >= 3528 && p4 <= 3589 && len >= 16) || // JCB
    (((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) && len >= 14) || // Diners
    (p2 === 62 && len >= 16); // UnionPay
  return issuer && luhnRange(digits, start, end);
}

export function luhn(digits: string): boolean {
  return luhnRange(digits, 0, digits.length);
}

function luhnRange(digits: string, start: number, end: number): boolean {
  let sum = 0;
  let double = false;
  for (let i = end - 1; i >= start; i--) {
    let v = digits.charCodeAt(i) - 48;
    if (double) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    double = !double;
  }
  return sum % 10 === 0;
}
