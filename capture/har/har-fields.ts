// Why this file exists: HAR files come from many tools (browsers, proxies, hand edits), so every
// field is read as `unknown` and checked. These readers name the exact field path that is wrong,
// and the small parsers (dates, URLs, HTTP versions) keep the wire values unchanged.
import { TCHAR_CLASS } from '../../store/http-token.js';

/** A field of one entry that is missing or has the wrong type; `path` is relative to the entry. */
export class HarFieldProblem extends Error {
  constructor(readonly path: (string | number)[], message: string) {
    super(message);
  }
}

export type Json = Record<string, unknown>;

/**
 * The field `key` of `parent` must be an object; returns it. `path` leads to
 * `parent` and names the field in the problem.
 *
 * @example
 * const req = readObject(entry, 'request', []); // throws HarFieldProblem(['request'], 'missing')
 */
export function readObject(parent: Json, key: string, path: (string | number)[]): Json {
  const v = parent[key];
  if (v === undefined) throw new HarFieldProblem([...path, key], 'missing');
  if (!isObject(v)) throw new HarFieldProblem([...path, key], `must be an object, not ${typeName(v)}`);
  return v;
}

/**
 * A required string field (empty allowed unless `nonEmpty`).
 *
 * @example
 * const method = readString(req, 'method', ['request'], true);
 */
export function readString(parent: Json, key: string, path: (string | number)[], nonEmpty = false): string {
  const v = parent[key];
  if (v === undefined || v === null) throw new HarFieldProblem([...path, key], 'missing');
  if (typeof v !== 'string') throw new HarFieldProblem([...path, key], `must be a string, not ${typeName(v)}`);
  if (nonEmpty && v === '') throw new HarFieldProblem([...path, key], 'must not be empty');
  return v;
}

/**
 * An optional string field: undefined when absent or null.
 *
 * @example
 * readOptionalString(entry, 'serverIPAddress', []) // '203.0.113.10' or undefined
 */
export function readOptionalString(parent: Json, key: string, path: (string | number)[]): string | undefined {
  const v = parent[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new HarFieldProblem([...path, key], `must be a string, not ${typeName(v)}`);
  return v;
}

/**
 * An optional finite number: undefined when absent or null.
 *
 * @example
 * readOptionalNumber(entry, 'time', []) // 12.5 or undefined
 */
export function readOptionalNumber(parent: Json, key: string, path: (string | number)[]): number | undefined {
  const v = parent[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new HarFieldProblem([...path, key], `must be a number, not ${typeName(v)}`);
  return v;
}

/**
 * HAR `[{name, value}]` headers as ordered pairs, pseudo-headers (':authority') left in.
 *
 * @example
 * readNameValues(req, 'headers', ['request']) // [['Host', 'a.test'], ['Accept', 'application/json']]
 */
export function readNameValues(parent: Json, key: string, path: (string | number)[]): [string, string][] {
  const v = parent[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new HarFieldProblem([...path, key], `must be a list, not ${typeName(v)}`);
  return v.flatMap((item: unknown, i): [string, string][] => {
    if (!isObject(item)) throw new HarFieldProblem([...path, key, i], `must be an object {name, value}, not ${typeName(item)}`);
    const name = readString(item, 'name', [...path, key, i], true);
    // A name with spaces, colons or CR/LF would write a different request on replay (header injection).
    if (!HEADER_NAME.test(name)) throw new HarFieldProblem([...path, key, i, 'name'], `is not a valid header name: ${JSON.stringify(name.slice(0, 40))}`);
    const value = readString(item, 'value', [...path, key, i]);
    if (!LINE_BREAK.test(value)) return [[name, value]];
    // Chrome's devtools export joins repeated headers (several Set-Cookie) into one value with "\n". A line
    // break is never part of a header value on the wire, so each line is a header of its own.
    return value.split(LINE_BREAK).filter((line) => line !== '').map((line): [string, string] => [name, line]);
  });
}

const LINE_BREAK = /\r?\n|\r/;

/** An RFC 9110 token, optionally after the ':' of an HTTP/2 pseudo-header (devtools list those). */
const HEADER_NAME = new RegExp(`^:?${TCHAR_CLASS}+$`);


/**
 * ISO 8601 date-time to integer microseconds since the epoch, keeping up to
 * six fraction digits and any offset; a time without an offset is read as UTC.
 *
 * @example
 * parseIsoMicros('2026-03-14T11:00:00.123456+01:00') // 1773482400123456
 */
export function parseIsoMicros(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0));
  if (!Number.isFinite(ms) || Number(mo) > 12 || Number(d) > 31 || Number(h) > 24 || Number(mi) > 59 || Number(s ?? 0) > 60) return null;
  const micros = Number((frac ?? '').slice(0, 6).padEnd(6, '0'));
  let offsetMin = 0;
  if (tz && tz.toUpperCase() !== 'Z') {
    const digits = tz.slice(1).replace(':', '');
    offsetMin = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0)) * (tz[0] === '-' ? -1 : 1);
  }
  return (ms - offsetMin * 60_000) * 1000 + micros;
}

export interface UrlParts {
  scheme: string;
  authority: string;
  path: string;
  query: string;
}

/**
 * Split a URL without normalizing it: path and query stay exactly as written
 * (no percent re-encoding, no dot-segment removal); the fragment and any
 * `user:password@` are dropped because they never go on the wire. Path-only
 * URLs get an empty scheme and authority. Returns null when the text is not a URL of either form.
 *
 * @example
 * splitUrl('https://a.test/x%20y?b=1&a=2#f') // { scheme: 'https', authority: 'a.test', path: '/x%20y', query: 'b=1&a=2' }
 */
export function splitUrl(url: string): UrlParts | null {
  const m = /^(?:([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#.*)?$/s.exec(url);
  if (!m || (m[1] === undefined && !(m[3] ?? '').startsWith('/'))) return null;
  return { scheme: (m[1] ?? '').toLowerCase(), authority: withoutUserinfo(m[2] ?? ''), path: m[3] || '/', query: m[4] ?? '' };
}

/**
 * `user:password@host` → `host`. Userinfo never goes on the wire (a client turns it into an
 * Authorization header, which the HAR lists anyway), and kept in the authority it would put a
 * password on disk in clear and into the Host header of every replayed request.
 */
export function withoutUserinfo(authority: string): string {
  const at = authority.lastIndexOf('@');
  return at < 0 ? authority : authority.slice(at + 1);
}

/**
 * The HTTP version as the Exchange record writes it; '' or 'unknown' → null.
 *
 * @example
 * normalizeHttpVersion('HTTP/1.1') // '1.1'
 * normalizeHttpVersion('h2')       // '2'
 * normalizeHttpVersion('h3-29')    // '3'
 */
export function normalizeHttpVersion(value: string | undefined): string | null {
  const v = (value ?? '').trim().toLowerCase().replace(/^https?\//, '');
  if (v === '' || v === 'unknown') return null;
  if (v === 'h2' || v === 'h2c' || v === '2' || v === '2.0') return '2';
  if (/^h3(-\d+)?$/.test(v) || v === '3' || v === '3.0') return '3';
  if (v === '1.0' || v === '1.1' || v === '0.9') return v;
  return v;
}

/**
 * A plain JSON object (not null, not a list).
 *
 * @example
 * isObject({}) // true; isObject([]) // false
 */
export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v;
}
