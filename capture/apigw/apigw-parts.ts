// Why this file exists: the three parts of a payload whose shape varies most between forwarders
// — headers (plain object, multi-value object, or pair list), the query (raw string or decoded
// parameter objects) and bodies (JSON value, text, or base64) — each read into the Exchange form,
// with every problem reported by path rather than thrown.
import { bodyFromBuffer } from '../../store/body.js';
import type { Body, Header } from '../../store/exchange.js';
import { childPath, isObject, LIMITS, nestsDeeperThan, typeName, type ProblemList } from './apigw-fields.js';
import { loneSurrogateAt, loneSurrogateProblem } from './utf8-text.js';
import { HTTP_TOKEN } from '../../store/http-token.js';

const BAD_VALUE = /[\r\n\0]/;

/** What to send instead of an unpaired surrogate, by where it was. */
const SURROGATE_FIX = {
  // Header values are stored one character per byte (ISO-8859-1), as the proxy and pcap store the
  // bytes they see, and replayed so: \u00e9 goes out as the byte e9.
  header: 'send a byte that is not UTF-8 as its ISO-8859-1 character (surrogateescape\'s \\udce9 as \\u00e9: é), which is stored and replayed as that byte',
  target: 'percent-encode the byte it stands for (surrogateescape\'s \\udce9 is %E9)',
} as const;

/** An unpaired surrogate in `text`, reported at `path` with what to send instead; true when there was one. */
export function refuseLoneSurrogate(text: string, path: string, fix: keyof typeof SURROGATE_FIX, problems: ProblemList): boolean {
  const at = loneSurrogateAt(text);
  if (at === -1) return false;
  problems.add(path, `${loneSurrogateProblem(text, at)}; ${SURROGATE_FIX[fix]}`);
  return true;
}

/**
 * Headers from a plain object (`{"Accept": "a"}`, a list value meaning repeats), optionally
 * overridden by an API-Gateway-style multi-value object: a name present there replaces the
 * single value at its position (API Gateway sends both, and the multi form is the superset).
 * A list of `[name, value]` pairs is accepted too. Order is the payload's key order.
 *
 * @example
 * readHeaders({ A: 'x', B: ['1', '2'] }, undefined, 'request_headers', '', problems) // [['A','x'],['B','1'],['B','2']]
 */
export function readHeaders(single: unknown, multi: { key: string; value: unknown } | undefined, path: string, problems: ProblemList): Header[] {
  const out: Header[] = [];
  const multiMap = new Map<string, Header[]>();
  if (multi) {
    if (!isObject(multi.value)) problems.add(multi.key, `must be an object of header lists, not ${typeName(multi.value)}`);
    else for (const [name, v] of Object.entries(multi.value)) addHeader(multiMap, name, v, childPath(multi.key, name), problems);
  }
  const used = new Set<string>();
  const emit = (name: string, v: unknown, p: string): void => {
    const lower = name.toLowerCase();
    const fromMulti = multiMap.get(lower);
    if (fromMulti) {
      if (!used.has(lower)) out.push(...fromMulti);
      used.add(lower);
      return;
    }
    const one = new Map<string, Header[]>();
    addHeader(one, name, v, p, problems);
    for (const hs of one.values()) out.push(...hs);
  };
  if (Array.isArray(single)) {
    single.forEach((pair: unknown, i) => {
      const p = childPath(path, i);
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') problems.add(p, 'must be a [name, value] pair');
      else emit(pair[0], pair[1], p);
    });
  } else if (isObject(single)) {
    for (const [name, v] of Object.entries(single)) emit(name, v, childPath(path, name));
  } else if (single !== undefined && single !== null) {
    problems.add(path, `must be an object of header values, not ${typeName(single)}`);
  }
  for (const [lower, hs] of multiMap) if (!used.has(lower)) out.push(...hs);
  if (out.length > LIMITS.headers) problems.add(path, `has ${out.length} headers, more than ${LIMITS.headers}`);
  return out;
}

function addHeader(into: Map<string, Header[]>, name: string, v: unknown, p: string, problems: ProblemList): void {
  if (name.length === 0 || name.length > LIMITS.shortString || !HTTP_TOKEN.test(name)) {
    problems.add(p, 'is not a valid header name');
    return;
  }
  const values = Array.isArray(v) ? v : [v];
  const list = into.get(name.toLowerCase()) ?? [];
  values.forEach((one: unknown, i) => {
    const vp = Array.isArray(v) ? childPath(p, i) : p;
    // Numbers and booleans are what a JSON encoder makes of Content-Length or a flag; keep them as text.
    const text = typeof one === 'string' ? one : typeof one === 'number' || typeof one === 'boolean' ? String(one) : null;
    if (text === null) problems.add(vp, `must be a string${Array.isArray(v) ? '' : ' or a list of strings'}, not ${typeName(one)}`);
    else if (text.length > LIMITS.headerValue) problems.add(vp, `is ${text.length} characters, more than ${LIMITS.headerValue}`);
    else if (BAD_VALUE.test(text)) problems.add(vp, 'contains CR, LF or NUL (not allowed in a header value)');
    else if (!refuseLoneSurrogate(text, vp, 'header', problems)) list.push([name, text]);
  });
  into.set(name.toLowerCase(), list);
}

/**
 * The raw query string: a raw string field as given (without '?'), else the decoded
 * parameter objects re-encoded in key order (the multi-value form when both are sent).
 *
 * @example
 * readQuery(undefined, { key: 'queryStringParameters', value: { q: 'a b' } }, undefined, problems) // 'q=a%20b'
 */
export function readQuery(
  raw: { key: string; value: unknown } | undefined,
  single: { key: string; value: unknown } | undefined,
  multi: { key: string; value: unknown } | undefined,
  problems: ProblemList,
): string {
  if (raw) {
    if (typeof raw.value !== 'string') problems.add(raw.key, `must be a string, not ${typeName(raw.value)}`);
    else if (raw.value.length > LIMITS.headerValue) problems.add(raw.key, `is longer than ${LIMITS.headerValue} characters`);
    else if (/[\r\n\0 #]/.test(raw.value)) problems.add(raw.key, 'contains a space, #, CR, LF or NUL; send it percent-encoded');
    else if (!refuseLoneSurrogate(raw.value, raw.key, 'target', problems)) return raw.value.startsWith('?') ? raw.value.slice(1) : raw.value;
    return '';
  }
  const params = multi ?? single;
  if (!params) return '';
  if (!isObject(params.value)) {
    problems.add(params.key, `must be an object, not ${typeName(params.value)}`);
    return '';
  }
  const parts: string[] = [];
  for (const [name, v] of Object.entries(params.value)) {
    const p = childPath(params.key, name);
    // encodeURIComponent throws on an unpaired surrogate: said as a problem, once per name.
    if (refuseLoneSurrogate(name, p, 'target', problems)) continue;
    (Array.isArray(v) ? v : [v]).forEach((one: unknown, i) => {
      const vp = Array.isArray(v) ? childPath(p, i) : p;
      if (one === null) parts.push(encodeURIComponent(name)); // `?flag` without a value
      else if (typeof one === 'string' && refuseLoneSurrogate(one, vp, 'target', problems)) return;
      else if (typeof one === 'string' || typeof one === 'number' || typeof one === 'boolean') parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(one))}`);
      else problems.add(p, `must be a string or a list of strings, not ${typeName(one)}`);
    });
  }
  const query = parts.join('&');
  if (query.length > LIMITS.headerValue) problems.add(params.key, `encodes to more than ${LIMITS.headerValue} characters`);
  return query;
}

/**
 * A body: absent/null → none; a string → its text, or its bytes when `base64` is set; any other
 * JSON value → its JSON text (what the proxy Lambda parsed, serialized back compactly). A text
 * body with an unpaired surrogate (`"\udce9"`) is a problem: it stands for no UTF-8 bytes, and
 * storing it would store U+FFFD instead; binary bodies come base64 with the flag.
 *
 * @example
 * readBody({ name: 'morpheus' }, false, 'body', 10 << 20, problems) // { encoding: 'utf8', data: '{"name":"morpheus"}', size: 19 }
 */
export function readBody(value: unknown, base64: boolean, path: string, cap: number, problems: ProblemList): Body | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') {
    if (!base64) {
      const lone = loneSurrogateAt(value);
      if (lone === -1) return bodyFromBuffer(Buffer.from(value, 'utf8'), { cap });
      problems.add(path, `${loneSurrogateProblem(value, lone)}; send a binary body base64-encoded with its isBase64Encoded flag`);
      return null;
    }
    const compact = value.replace(/\s+/g, ''); // MIME-style line breaks are legal in base64 bodies
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
      problems.add(path, 'is flagged base64 but is not base64 text');
      return null;
    }
    return bodyFromBuffer(Buffer.from(compact, 'base64'), { cap });
  }
  if (base64) {
    problems.add(path, `is flagged base64 but is ${typeName(value)}, not a string`);
    return null;
  }
  if (nestsDeeperThan(value, LIMITS.depth)) {
    problems.add(path, `nests deeper than ${LIMITS.depth} levels`);
    return null;
  }
  return bodyFromBuffer(Buffer.from(JSON.stringify(value), 'utf8'), { cap });
}

/** A base64 flag: a boolean, or the strings "true"/"false" some encoders produce. */
export function readFlag(field: { key: string; value: unknown } | undefined, problems: ProblemList): boolean {
  if (!field) return false;
  const v = field.value;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  problems.add(field.key, `must be true or false, not ${typeName(v)}`);
  return false;
}
