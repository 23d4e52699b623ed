/**
 * The small value grammars inside HTTP messages that steps read and rewrite:
 * `a=1&b=2` (query strings and form bodies) and `a=1; b=2` (Cookie), plus the
 * first pair of a Set-Cookie. Rewrites keep everything else byte for byte:
 * order, duplicates, encoding of untouched parameters.
 */

export interface Param {
  /** Decoded name and value. */
  name: string;
  value: string;
  rawName: string;
  /** null when the parameter had no `=`. */
  rawValue: string | null;
}

export function parseParams(raw: string): Param[] {
  if (raw === '') return [];
  return raw.split('&').map((part) => {
    const eq = part.indexOf('=');
    const rawName = eq === -1 ? part : part.slice(0, eq);
    const rawValue = eq === -1 ? null : part.slice(eq + 1);
    return { name: decodeParam(rawName), value: rawValue === null ? '' : decodeParam(rawValue), rawName, rawValue };
  });
}

export function formatParams(params: readonly Param[]): string {
  return params.map((p) => (p.rawValue === null ? p.rawName : `${p.rawName}=${p.rawValue}`)).join('&');
}

export function decodeParam(s: string): string {
  if (s.indexOf('%') === -1 && s.indexOf('+') === -1) return s;
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** Percent-encode a value for a query or form body, leaving `${…}` templates as they are. */
export function encodeParam(s: string): string {
  if (s.indexOf('${') === -1) return encodeURIComponent(s);
  let out = '';
  let pos = 0;
  for (const m of s.matchAll(/\$\{[^{}]*\}/g)) {
    out += encodeURIComponent(s.slice(pos, m.index)) + m[0];
    pos = m.index + m[0].length;
  }
  return out + encodeURIComponent(s.slice(pos));
}

export interface CookiePair {
  name: string;
  value: string;
  /** Span of the value inside the header string. */
  start: number;
  end: number;
}

/** The pairs of a Cookie header (`a=1; b=2`). */
export function parseCookieHeader(header: string): CookiePair[] {
  const out: CookiePair[] = [];
  let pos = 0;
  while (pos <= header.length) {
    let semi = header.indexOf(';', pos);
    if (semi === -1) semi = header.length;
    const eq = header.indexOf('=', pos);
    if (eq !== -1 && eq < semi) {
      out.push({ name: header.slice(pos, eq).trim(), value: header.slice(eq + 1, semi), start: eq + 1, end: semi });
    }
    pos = semi + 1;
  }
  return out;
}

/** The name=value pair that opens a Set-Cookie header. */
export function parseSetCookie(header: string): CookiePair | null {
  const semi = header.indexOf(';');
  const end = semi === -1 ? header.length : semi;
  const eq = header.indexOf('=');
  if (eq === -1 || eq > end) return null;
  return { name: header.slice(0, eq).trim(), value: header.slice(eq + 1, end), start: eq + 1, end };
}

/** Replace spans of a string (non-overlapping, any order); `mapGap` rewrites the text between them. */
export function spliceAll(s: string, spans: Array<{ start: number; end: number; text: string }>, mapGap: (gap: string) => string = (g) => g): string {
  if (spans.length === 0) return mapGap(s);
  spans.sort((a, b) => a.start - b.start);
  let out = '';
  let pos = 0;
  for (const sp of spans) {
    if (sp.start < pos) continue;
    out += mapGap(s.slice(pos, sp.start)) + sp.text;
    pos = sp.end;
  }
  return out + mapGap(s.slice(pos));
}

/** Index of the space after an auth scheme (`Bearer x` → 6) in an Authorization value, or -1. */
export function authSchemeEnd(v: string): number {
  const sp = v.indexOf(' ');
  if (sp <= 0 || sp === v.length - 1) return -1;
  for (let i = 0; i < sp; i++) {
    const c = v.charCodeAt(i) | 0x20;
    if (!((c >= 0x61 && c <= 0x7a) || (i > 0 && (c === 0x2d || (c >= 0x30 && c <= 0x39))))) return -1;
  }
  return sp;
}
