// Why this file exists: it turns one parsed HAR entry into an Exchange, keeping what was on the
// wire (header order and case, raw query, body bytes) and reading back the `_reprise` field that
// our own exporter writes, so that a HAR round trip loses nothing.
import { bodyFromBuffer } from '../../store/body.js';
import { getHeader, type Body, type Exchange, type ExchangeError, type Header, type Provenance } from '../../store/exchange.js';
import { newExchangeId } from '../../store/exchange-id.js';
import type { HarBodyFacts, RepriseHarExtension } from '../../store/export/har-format.js';
import { HTTP_TOKEN } from '../../store/http-token.js';
import {
  HarFieldProblem, isObject, normalizeHttpVersion, parseIsoMicros, readNameValues, readObject, readOptionalNumber,
  readOptionalString, readString, splitUrl, type Json,
} from './har-fields.js';

export interface MapContext {
  captureId: string;
  /** True when the caller named the capture: it then replaces any captureId carried in `_reprise`. */
  captureIdGiven: boolean;
  /** Next seq per connection id, shared across the entries of one file. */
  seqs: Map<string, number>;
}

export type MapResult = { exchange: Exchange } | { skipped: string };

/**
 * One HAR entry → one Exchange, or a reason to skip it (non-HTTP URLs such as
 * data: or chrome-extension:). Throws HarFieldProblem for a malformed entry.
 *
 * @example
 * const r = mapHarEntry(JSON.parse(text), { captureId: 'a.har', captureIdGiven: false, seqs: new Map() });
 * if ('exchange' in r) await writer.write(r.exchange);
 */
export function mapHarEntry(value: unknown, ctx: MapContext): MapResult {
  if (!isObject(value)) throw new HarFieldProblem([], 'must be an object');
  const e = value;
  const ext = readExtension(e._reprise);
  const started = readString(e, 'startedDateTime', []);
  const parsedStart = parseIsoMicros(started);
  if (parsedStart === null) throw new HarFieldProblem(['startedDateTime'], `not an ISO 8601 date-time: ${JSON.stringify(started.slice(0, 40))}`);
  // `_reprise.start` adds the microseconds; it is ignored if someone edited startedDateTime.
  const start = ext?.start !== undefined && Math.floor(ext.start / 1000) === Math.floor(parsedStart / 1000) ? ext.start : parsedStart;
  const time = readOptionalNumber(e, 'time', []);
  const duration = time === undefined || time < 0 || (ext?.duration === null && time === 0) ? null : Math.round(time * 1000);
  if (duration !== null && !Number.isSafeInteger(duration)) throw new HarFieldProblem(['time'], `out of range: ${time}`);

  const req = readObject(e, 'request', []);
  const method = readString(req, 'method', ['request'], true);
  if (!HTTP_TOKEN.test(method)) throw new HarFieldProblem(['request', 'method'], `is not an HTTP method: ${JSON.stringify(method.slice(0, 40))}`);
  const url = readString(req, 'url', ['request'], true);
  // CR, LF or NUL in the request target would split or cut the request line on replay.
  if (/[\r\n\0]/.test(url)) throw new HarFieldProblem(['request', 'url'], 'contains CR, LF or NUL');
  const allRequestHeaders = readNameValues(req, 'headers', ['request']);
  const pseudo = new Map(allRequestHeaders.filter(([n]) => n.startsWith(':')).map(([n, v]) => [n.toLowerCase(), v]));
  const requestHeaders = allRequestHeaders.filter(([n]) => !n.startsWith(':'));
  const parts = splitUrl(url);
  const otherScheme = parts ? null : /^([a-z][a-z0-9+.-]*):/i.exec(url);
  if (otherScheme) return { skipped: `${otherScheme[1]}: URL ${url.slice(0, 60)} is not HTTP` };
  if (!parts) throw new HarFieldProblem(['request', 'url'], `not a URL: ${JSON.stringify(url.slice(0, 80))}`);
  const scheme = schemeOf(parts.scheme || (pseudo.get(':scheme') ?? 'https'));
  if (!scheme) return { skipped: `${parts.scheme}: URL ${url.slice(0, 60)} is not HTTP` };
  const authority = parts.authority || pseudo.get(':authority') || getHeader(requestHeaders, 'host');
  if (!authority) throw new HarFieldProblem(['request', 'url'], 'has no host, and there is no Host or :authority header');

  const resValue = e.response;
  const res = resValue === undefined || resValue === null ? null : readObject(e, 'response', []);
  const reqVersion = normalizeHttpVersion(readOptionalString(req, 'httpVersion', ['request']))
    ?? normalizeHttpVersion(res ? readOptionalString(res, 'httpVersion', ['response']) : undefined)
    ?? (pseudo.size > 0 ? '2' : '1.1');

  const exchange: Exchange = {
    v: 1,
    id: ext?.id ?? newExchangeId(start / 1000),
    start,
    duration,
    source: sourceOf(e, ext, ctx),
    request: {
      method,
      scheme,
      authority,
      path: parts.path,
      query: parts.query,
      httpVersion: reqVersion,
      headers: requestHeaders,
      body: readRequestBody(req, requestHeaders, ext?.requestBody),
    },
    response: null,
  };
  const status = res ? readStatus(res) : 0;
  if (res && status !== 0) {
    const headers = readNameValues(res, 'headers', ['response']).filter(([n]) => !n.startsWith(':'));
    const statusText = readOptionalString(res, 'statusText', ['response']);
    exchange.response = {
      status,
      ...(statusText ? { statusText } : {}),
      httpVersion: normalizeHttpVersion(readOptionalString(res, 'httpVersion', ['response'])) ?? reqVersion,
      headers,
      body: readResponseBody(res, headers, ext?.responseBody),
    };
  }
  // With a `_reprise` field (our own export), the facts HAR cannot hold come from it alone.
  const error = ext ? ext.error : exchange.response ? undefined : errorOf(readOptionalString(e, '_error', []));
  if (error) exchange.error = error;
  if (ext?.incomplete !== undefined) exchange.incomplete = ext.incomplete;
  const server = readOptionalString(e, 'serverIPAddress', []);
  const network = ext ? ext.network : server ? { server } : undefined;
  if (network) exchange.network = network;
  const timings = ext && 'timings' in ext ? (ext.timings ?? undefined) : readTimings(e);
  if (timings) exchange.timings = timings;
  if (ext?.redactions) exchange.redactions = ext.redactions;
  if (ext?.meta) exchange.meta = ext.meta;
  return { exchange };
}

function schemeOf(s: string): 'http' | 'https' | null {
  const lower = s.toLowerCase();
  if (lower === 'http' || lower === 'ws') return 'http'; // a WebSocket starts as an HTTP GET
  if (lower === 'https' || lower === 'wss') return 'https';
  return null;
}

function readStatus(res: Json): number {
  const status = readOptionalNumber(res, 'status', ['response']);
  if (status === undefined) throw new HarFieldProblem(['response', 'status'], 'missing');
  if (!Number.isInteger(status) || status < 0 || status > 999) throw new HarFieldProblem(['response', 'status'], `must be an integer 0–999, not ${status}`);
  return status;
}

function sourceOf(e: Json, ext: Partial<RepriseHarExtension> | null, ctx: MapContext): Provenance {
  if (ext?.source) return ctx.captureIdGiven ? { ...ext.source, captureId: ctx.captureId } : ext.source;
  const raw = e.connection;
  const connection = typeof raw === 'string' && raw !== '' ? raw : typeof raw === 'number' ? String(raw) : undefined;
  if (connection === undefined) return { kind: 'har', captureId: ctx.captureId };
  const seq = ctx.seqs.get(connection) ?? 0;
  ctx.seqs.set(connection, seq + 1);
  return { kind: 'har', captureId: ctx.captureId, connection, seq };
}

function readRequestBody(req: Json, headers: Header[], facts: HarBodyFacts | undefined): Body | null {
  const pd = req.postData;
  if (pd === undefined || pd === null) return null;
  if (!isObject(pd)) throw new HarFieldProblem(['request', 'postData'], 'must be an object');
  const bytes = readBodyBytes(pd, ['request', 'postData']);
  return buildBody(bytes, readOptionalNumber(req, 'bodySize', ['request']), headers, facts);
}

function readResponseBody(res: Json, headers: Header[], facts: HarBodyFacts | undefined): Body | null {
  if (res.content === undefined || res.content === null) return null;
  const content = readObject(res, 'content', ['response']);
  const bytes = readBodyBytes(content, ['response', 'content']);
  return buildBody(bytes, readOptionalNumber(content, 'size', ['response', 'content']), headers, facts);
}

/** `text` as bytes: base64-decoded when `encoding` says so (content.encoding, or postData.encoding, a reprise extension). */
function readBodyBytes(holder: Json, path: string[]): Buffer {
  const text = readOptionalString(holder, 'text', path) ?? '';
  const encoding = readOptionalString(holder, 'encoding', path);
  if (encoding === 'base64' && !/^[A-Za-z0-9+/_\-\s]*={0,2}\s*$/.test(text)) throw new HarFieldProblem([...path, 'text'], 'is not valid base64');
  return Buffer.from(text, encoding === 'base64' ? 'base64' : 'utf8');
}

/**
 * HAR text is the decoded body, so a Content-Encoding header means it was
 * compressed on the wire. A declared size above the text's length means the
 * tool kept only part of the body (or none): the body is marked truncated.
 */
function buildBody(bytes: Buffer, declared: number | undefined, headers: Header[], facts: HarBodyFacts | undefined): Body | null {
  const declaredSize = facts?.size ?? (declared !== undefined && Number.isSafeInteger(declared) && declared > 0 ? declared : 0);
  const size = Math.max(bytes.length, declaredSize);
  const wire = getHeader(headers, 'content-encoding')?.trim();
  const contentEncoding = facts ? facts.contentEncoding : wire && wire.toLowerCase() !== 'identity' ? wire : undefined;
  return bodyFromBuffer(bytes, contentEncoding ? { size, contentEncoding } : { size });
}

/** HAR timings in ms, without the -1 "not applicable" values. */
function readTimings(e: Json): Record<string, number> | undefined {
  if (e.timings === undefined || e.timings === null) return undefined;
  const t = readObject(e, 'timings', []);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(t)) if (typeof v === 'number' && Number.isFinite(v) && v >= 0) out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Chrome's `_error` (net::ERR_…) as an ExchangeError. */
function errorOf(message: string | undefined): ExchangeError {
  const m = message || 'no response recorded in the HAR';
  const kind = /TIMED_OUT|timeout/i.test(m) ? 'timeout' : /RESET|ABORTED/i.test(m) ? 'reset' : /REFUSED/i.test(m) ? 'refused' : 'no-response';
  return { kind, message: m };
}

/** The `_reprise` field, each part kept only when it has the right shape. */
function readExtension(v: unknown): Partial<RepriseHarExtension> | null {
  if (!isObject(v) || v.v !== 1) return null;
  const x: Partial<RepriseHarExtension> = {};
  if (typeof v.id === 'string' && v.id !== '') x.id = v.id;
  if (Number.isSafeInteger(v.start)) x.start = v.start as number;
  if (v.duration === null || Number.isSafeInteger(v.duration)) x.duration = v.duration as number | null;
  const s = v.source;
  if (isObject(s) && typeof s.kind === 'string' && typeof s.captureId === 'string'
    && (s.connection === undefined || typeof s.connection === 'string') && (s.seq === undefined || Number.isSafeInteger(s.seq))) {
    x.source = s as unknown as Provenance;
  }
  if (v.timings === null || isNumberRecord(v.timings)) x.timings = v.timings as Record<string, number> | null;
  if (isBodyFacts(v.requestBody)) x.requestBody = v.requestBody;
  if (isBodyFacts(v.responseBody)) x.responseBody = v.responseBody;
  if (isObject(v.error) && typeof v.error.kind === 'string' && typeof v.error.message === 'string') x.error = v.error as unknown as ExchangeError;
  if (typeof v.incomplete === 'string') x.incomplete = v.incomplete;
  if (Array.isArray(v.redactions) && v.redactions.every((r) => typeof r === 'string')) x.redactions = v.redactions as string[];
  if (isObject(v.network)) x.network = v.network;
  if (isObject(v.meta)) x.meta = v.meta;
  return x;
}

function isNumberRecord(v: unknown): v is Record<string, number> {
  return isObject(v) && Object.values(v).every((n) => typeof n === 'number');
}

function isBodyFacts(v: unknown): v is HarBodyFacts {
  return isObject(v) && Number.isSafeInteger(v.size) && (v.contentEncoding === undefined || typeof v.contentEncoding === 'string');
}
