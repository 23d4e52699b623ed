// Why this file exists: it is the contract between a team's API Gateway forwarder and the store.
// One forwarder payload (one request and its response, as the proxy Lambda saw them) becomes one
// Exchange; anything wrong with the payload comes back as a list of `path: problem` lines.
import type { Exchange, Header } from '../../store/exchange.js';
import { newExchangeId } from '../../store/exchange-id.js';
import { DEFAULT_SECRET_HEADERS, REDACTED, redactSecretHeaders } from '../../transform/redact-headers.js';
import { isObject, LIMITS, nestsDeeperThan, parseTimestampMicros, ProblemList, readAlias, typeName, type Json } from './apigw-fields.js';
import { readBody, readFlag, readHeaders, readQuery, refuseLoneSurrogate } from './apigw-parts.js';
import { withoutUserinfo } from '../har/har-fields.js';
import { TCHAR_CLASS } from '../../store/http-token.js';

export interface ApigwMapOptions {
  /** Names the capture in `source.captureId` (an ingest run, an imported file or prefix). */
  captureId: string;
  /** When the payload arrived, µs since the epoch: the start time of payloads without a timestamp. */
  receivedAt: number;
  /** Bytes of each body stored (default 10 MiB, API Gateway's own payload limit, so nothing real is cut). */
  bodyCap?: number;
  /** Secret headers redacted on top of what the forwarder redacted; false stores them in clear (default DEFAULT_SECRET_HEADERS). */
  redactHeaders?: readonly string[] | false;
}

export type ApigwMapResult =
  | { ok: true; exchange: Exchange; /** The forwarder's request id, the dedupe key when present. */ requestId?: string }
  | { ok: false; problems: string[] };

export const DEFAULT_APIGW_BODY_CAP = 10 * 1024 * 1024;

// A method is a token (RFC 9110 §9.1); 32 characters is far beyond any real one.
const METHOD = new RegExp(`^${TCHAR_CLASS}{1,32}$`);
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(:\d{1,5})?$/;
// Characters that cannot appear in a request target are percent-encoded (API Gateway hands
// the proxy Lambda a decoded path); '%' itself is kept, so an already-encoded path is unchanged.
// By code point (`u`): a character beyond U+FFFF is one match, not two halves encodeURIComponent refuses.
const NOT_IN_TARGET = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/gu;

/**
 * One forwarder payload → one Exchange, or every problem with its JSON path. Headers the
 * forwarder already replaced with "[REDACTED]" (any case) are kept as `[REDACTED]` and marked
 * in `redactions`; default capture redaction then applies on top.
 *
 * @example
 * const r = mapApigwPayload({ from: 'abc.execute-api.eu-west-1.amazonaws.com', endpoint: '/users', method: 'GET', status: 200 },
 *   { captureId: 'ingest', receivedAt: Date.now() * 1000 });
 * if (r.ok) await writer.write(r.exchange); else console.error(r.problems.join('\n'));
 */
export function mapApigwPayload(value: unknown, options: ApigwMapOptions): ApigwMapResult {
  const problems = new ProblemList();
  if (!isObject(value)) return { ok: false, problems: [`(payload): must be a JSON object, not ${typeName(value)}`] };
  const p = value;
  // Unknown fields are tolerated, but not unbounded nesting in them: hashing a payload for
  // dedupe serializes it, and JSON.stringify recurses.
  if (nestsDeeperThan(p, LIMITS.depth + 4)) return { ok: false, problems: [`(payload): nests deeper than ${LIMITS.depth + 4} levels`] };
  const target = readTarget(p, problems);
  const method = readMethod(p.method, problems);
  const status = readStatus(p.status, problems);
  const httpVersion = readProtocol(p, problems);

  const requestHeaders = readHeaders(p.request_headers, readAlias(p, 'requestMultiHeaders'), 'request_headers', problems);
  const responseHeaders = readHeaders(p.response_headers, readAlias(p, 'responseMultiHeaders'), 'response_headers', problems);
  const cap = options.bodyCap ?? DEFAULT_APIGW_BODY_CAP;
  const requestBody = readBody(p.body, readFlag(readAlias(p, 'requestBase64'), problems), 'body', cap, problems);
  const responseBody = readBody(p.response, readFlag(readAlias(p, 'responseBase64'), problems), 'response', cap, problems);
  const query = target.query ?? readQuery(readAlias(p, 'query'), readAlias(p, 'queryParams'), readAlias(p, 'multiQueryParams'), problems);

  const start = readStart(p, problems) ?? options.receivedAt;
  const duration = readLatency(p, problems);
  const meta: Record<string, unknown> = {};
  const requestId = readShortText(p, 'requestId', problems);
  if (requestId !== undefined) meta.requestId = requestId;
  const stage = readShortText(p, 'stage', problems);
  if (stage !== undefined) meta.stage = stage;
  const sourceIp = readShortText(p, 'sourceIp', problems);
  if (sourceIp !== undefined) meta.sourceIp = sourceIp;
  if (!problems.empty) return { ok: false, problems: problems.items };

  const redactions = new Set<string>();
  markRedacted(requestHeaders, 'request', redactions);
  markRedacted(responseHeaders, 'response', redactions);
  let exchange: Exchange = {
    v: 1,
    id: newExchangeId(start / 1000),
    start,
    duration,
    source: { kind: 'apigw', captureId: options.captureId },
    request: { method: method!, scheme: target.scheme, authority: target.authority!, path: target.path!, query, httpVersion, headers: requestHeaders, body: requestBody },
    response: { status: status!, httpVersion, headers: responseHeaders, body: responseBody },
    ...(redactions.size > 0 ? { redactions: [...redactions] } : {}),
    ...(Object.keys(meta).length > 0 ? { meta } : {}),
  };
  const secret = options.redactHeaders === undefined ? DEFAULT_SECRET_HEADERS : options.redactHeaders;
  if (secret !== false) exchange = redactSecretHeaders(exchange, secret);
  return requestId === undefined ? { ok: true, exchange } : { ok: true, exchange, requestId };
}

/** `from` → scheme + authority; `endpoint` → path (+ query when the endpoint carries one). */
function readTarget(p: Json, problems: ProblemList): { scheme: 'http' | 'https'; authority?: string; path?: string; query?: string } {
  let scheme: 'http' | 'https' = 'https'; // API Gateway endpoints are HTTPS-only
  let authority: string | undefined;
  const from = p.from;
  if (typeof from !== 'string' || from === '') problems.add('from', from === undefined || from === null ? 'missing (the API host, e.g. abc123.execute-api.eu-west-1.amazonaws.com)' : `must be a host name, not ${typeName(from)}`);
  else if (from.length > LIMITS.shortString) problems.add('from', `is longer than ${LIMITS.shortString} characters`);
  else {
    // Tolerate a URL where a host is expected: `https://host/stage` → host. Credentials in it
    // (`user:password@`) never go on the wire, and are kept out of the record and of any message.
    const m = /^(https?):\/\/([^/?#]*)/i.exec(from);
    if (m) scheme = m[1]!.toLowerCase() as 'http' | 'https';
    const host = m ? withoutUserinfo(m[2]!) : from;
    if (HOST.test(host)) authority = host;
    else problems.add('from', `is not a host[:port]: ${JSON.stringify(from.replace(/^([^/?#]*\/\/)?[^/?#]*@/, '$1[REDACTED]@').slice(0, 80))}`);
  }
  const endpoint = p.endpoint;
  if (typeof endpoint !== 'string' || endpoint === '') {
    problems.add('endpoint', endpoint === undefined || endpoint === null ? 'missing (the request path, e.g. /api/v1/users)' : `must be a path, not ${typeName(endpoint)}`);
    return { scheme, ...(authority ? { authority } : {}) };
  }
  if (endpoint.length > LIMITS.headerValue) {
    problems.add('endpoint', `is longer than ${LIMITS.headerValue} characters`);
    return { scheme };
  }
  const absolute = /^https?:\/\/[^/?#]*/i.exec(endpoint);
  const target = absolute ? endpoint.slice(absolute[0].length) || '/' : endpoint;
  if (!target.startsWith('/') && target !== '*') {
    problems.add('endpoint', `must start with "/": ${JSON.stringify(endpoint.slice(0, 80))}`);
    return { scheme };
  }
  if (/[\r\n\0]/.test(target)) problems.add('endpoint', 'contains CR, LF or NUL');
  if (refuseLoneSurrogate(endpoint, 'endpoint', 'target', problems)) return { scheme }; // (encodeURIComponent would throw on it)
  const q = target.indexOf('?');
  const rawPath = (q === -1 ? target : target.slice(0, q)).replace(/#.*$/s, '');
  const path = rawPath.replace(NOT_IN_TARGET, (c) => encodeURIComponent(c));
  const out: { scheme: 'http' | 'https'; authority?: string; path: string; query?: string } = { scheme, path };
  if (authority) out.authority = authority;
  if (q !== -1) out.query = target.slice(q + 1).replace(/#.*$/s, '');
  return out;
}

function readMethod(v: unknown, problems: ProblemList): string | undefined {
  if (v === undefined || v === null) problems.add('method', 'missing');
  else if (typeof v !== 'string') problems.add('method', `must be a string, not ${typeName(v)}`);
  else if (!METHOD.test(v)) problems.add('method', `is not an HTTP method: ${JSON.stringify(v.slice(0, 40))}`);
  else return v;
  return undefined;
}

function readStatus(v: unknown, problems: ProblemList): number | undefined {
  // A digit string is what some encoders make of a status; accept it.
  const n = typeof v === 'string' && /^\d{3}$/.test(v) ? Number(v) : v;
  if (n === undefined || n === null) problems.add('status', 'missing (the response status code)');
  else if (typeof n !== 'number' || !Number.isInteger(n) || n < 100 || n > 599) problems.add('status', `must be an integer 100–599, not ${typeof n === 'number' ? n : typeName(n)}`);
  else return n;
  return undefined;
}

function readProtocol(p: Json, problems: ProblemList): string {
  const f = readAlias(p, 'protocol');
  if (!f) return '1.1';
  if (typeof f.value !== 'string') {
    problems.add(f.key, `must be a string like "HTTP/1.1", not ${typeName(f.value)}`);
    return '1.1';
  }
  const m = /^(?:HTTP\/)?(1\.0|1\.1|2(?:\.0)?|3(?:\.0)?)$/i.exec(f.value.trim());
  return m ? m[1]!.replace(/^([23])\.0$/, '$1') : '1.1';
}

/** Start: requestTimeEpoch (ms) first, then any other timestamp field. */
function readStart(p: Json, problems: ProblemList): number | undefined {
  for (const field of ['requestTimeEpoch', 'time'] as const) {
    const f = readAlias(p, field);
    if (!f) continue;
    const us = field === 'requestTimeEpoch' && typeof f.value === 'number' ? parseTimestampMicros(f.value >= 1e11 ? f.value : NaN) : parseTimestampMicros(f.value);
    if (us === null) problems.add(f.key, field === 'requestTimeEpoch' ? 'must be epoch milliseconds' : 'must be an ISO 8601 time, API Gateway requestTime, or epoch seconds/ms/µs');
    else return us;
  }
  return undefined;
}

function readLatency(p: Json, problems: ProblemList): number | null {
  const f = readAlias(p, 'latency');
  if (!f) return null;
  if (typeof f.value !== 'number' || !Number.isFinite(f.value) || f.value < 0 || f.value > 864e5) {
    problems.add(f.key, 'must be milliseconds (a number from 0 to 86400000)');
    return null;
  }
  return Math.round(f.value * 1000);
}

function readShortText(p: Json, field: 'requestId' | 'stage' | 'sourceIp', problems: ProblemList): string | undefined {
  const f = readAlias(p, field);
  if (!f) return undefined;
  const text = typeof f.value === 'string' ? f.value : typeof f.value === 'number' ? String(f.value) : null;
  if (text === null || text === '' || text.length > 256) problems.add(f.key, `must be a non-empty string of at most 256 characters, not ${text === null ? typeName(f.value) : `${text.length} characters`}`);
  else return text;
  return undefined;
}

function markRedacted(headers: Header[], side: 'request' | 'response', marks: Set<string>): void {
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    if (value.length !== REDACTED.length || value.toUpperCase() !== REDACTED) continue;
    headers[i] = [name, REDACTED];
    marks.add(`${side}.headers.${name.toLowerCase()}`);
  }
}
