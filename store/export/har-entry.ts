// Why this file exists: it turns one Exchange into one HAR 1.2 entry with every field HAR tools
// expect (cookies, queryString, content, timings), plus a `_reprise` field for what HAR cannot hold
// exactly, so that capture/har/har-import.ts reads back the very same Exchange.
import { getHeader, requestUrl, type Body, type Exchange, type Header } from '../exchange.js';
import type { HarBodyFacts, HarCookie, HarEntry, HarNameValue, HarResponse, RepriseHarExtension } from './har-format.js';

const UNKNOWN_MIME = 'x-unknown'; // what Chrome writes when there is no Content-Type

/**
 * One Exchange as a HAR entry. Bodies go in `text` as stored: UTF-8 text as
 * is, binary as base64 with `encoding: 'base64'` (also on postData, where it
 * is a common extension). An exchange without a response gets status 0 and
 * Chrome's `_error` field.
 *
 * @example
 * const entry = buildHarEntry(ex);
 * entry.request.url // 'https://api.example.test/users/123?x=1'
 */
export function buildHarEntry(ex: Exchange): HarEntry {
  const req = ex.request;
  const timings = harTimings(ex);
  const entry: HarEntry = {
    startedDateTime: new Date(Math.floor(ex.start / 1000)).toISOString(),
    time: ex.duration === null ? 0 : ex.duration / 1000,
    request: {
      method: req.method,
      url: requestUrl(req),
      httpVersion: harVersion(req.httpVersion),
      cookies: cookiesFromHeader(req.headers),
      headers: toNameValues(req.headers),
      queryString: parseQueryString(req.query),
      ...(req.body ? { postData: { mimeType: getHeader(req.headers, 'content-type') ?? UNKNOWN_MIME, ...bodyText(req.body) } } : {}),
      headersSize: -1,
      bodySize: wireBodySize(req.body, req.headers),
    },
    response: harResponse(ex),
    cache: {},
    timings: timings.har,
    _reprise: extensionOf(ex, timings.synthesized),
  };
  const server = ex.network?.server;
  if (server) entry.serverIPAddress = hostPart(server);
  if (ex.source.connection !== undefined) entry.connection = ex.source.connection;
  if (!ex.response) entry._error = ex.error?.message ?? 'no response';
  return entry;
}

function harResponse(ex: Exchange): HarResponse {
  const res = ex.response;
  if (!res) {
    const content = { size: 0, mimeType: UNKNOWN_MIME };
    return { status: 0, statusText: '', httpVersion: '', cookies: [], headers: [], content, redirectURL: '', headersSize: -1, bodySize: -1 };
  }
  const body = res.body;
  const wire = wireBodySize(body, res.headers);
  const content: HarResponse['content'] = { size: body?.size ?? 0, mimeType: getHeader(res.headers, 'content-type') ?? UNKNOWN_MIME };
  // `compression` is bytes saved, known only when Content-Length gave the encoded size.
  if (body?.contentEncoding && wire >= 0 && !body.truncated) content.compression = body.size - wire;
  if (body) Object.assign(content, bodyText(body));
  return {
    status: res.status,
    statusText: res.statusText ?? '',
    httpVersion: harVersion(res.httpVersion),
    cookies: res.headers.filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]) => parseSetCookie(v)),
    headers: toNameValues(res.headers),
    content,
    redirectURL: getHeader(res.headers, 'location') ?? '',
    headersSize: -1,
    bodySize: wire,
  };
}

function bodyText(body: Body): { text: string; encoding?: 'base64' } {
  return body.encoding === 'base64' ? { text: body.data, encoding: 'base64' } : { text: body.data };
}

/** Bytes on the wire: the stored size, unless a Content-Encoding hid it (then Content-Length, or -1). */
function wireBodySize(body: Body | null, headers: readonly Header[]): number {
  if (!body) return 0;
  if (!body.contentEncoding) return body.size;
  const cl = Number(getHeader(headers, 'content-length'));
  return Number.isSafeInteger(cl) && cl >= 0 ? cl : -1;
}

/**
 * HAR requires send, wait and receive. Stored timings that have them (all
 * ≥ 0) are written as they are; otherwise the whole duration counts as wait
 * and the stored timings ride along in `_reprise` to be restored on import.
 */
function harTimings(ex: Exchange): { har: Record<string, number>; synthesized: boolean } {
  const t = ex.timings;
  const complete = t !== undefined && ['send', 'wait', 'receive'].every((k) => t[k] !== undefined)
    && Object.values(t).every((v) => Number.isFinite(v) && v >= 0);
  if (complete) return { har: t, synthesized: false };
  const kept = Object.fromEntries(Object.entries(t ?? {}).filter(([, v]) => Number.isFinite(v) && v >= 0));
  const send = kept.send ?? 0;
  const receive = kept.receive ?? 0;
  const wait = kept.wait ?? Math.max(0, (ex.duration ?? 0) / 1000 - send - receive);
  return { har: { ...kept, send, wait, receive }, synthesized: true };
}

function extensionOf(ex: Exchange, timingsSynthesized: boolean): RepriseHarExtension {
  const x: RepriseHarExtension = { v: 1, id: ex.id, start: ex.start, duration: ex.duration, source: ex.source };
  if (timingsSynthesized) x.timings = ex.timings ?? null;
  if (ex.request.body) x.requestBody = bodyFacts(ex.request.body);
  if (ex.response?.body) x.responseBody = bodyFacts(ex.response.body);
  if (ex.error) x.error = ex.error;
  if (ex.incomplete !== undefined) x.incomplete = ex.incomplete;
  if (ex.redactions) x.redactions = ex.redactions;
  if (ex.network) x.network = ex.network;
  if (ex.meta) x.meta = ex.meta;
  return x;
}

function bodyFacts(body: Body): HarBodyFacts {
  return body.contentEncoding ? { size: body.size, contentEncoding: body.contentEncoding } : { size: body.size };
}

/** '1.1' → 'HTTP/1.1', '2' → 'HTTP/2'. */
function harVersion(v: string): string {
  return v === '' ? '' : `HTTP/${v}`;
}

function toNameValues(headers: readonly Header[]): HarNameValue[] {
  return headers.map(([name, value]) => ({ name, value }));
}

/** 'a=1&b=x%20y&c' → [{a,1},{b,'x y'},{c,''}]; values are decoded, the URL keeps the raw form. */
function parseQueryString(query: string): HarNameValue[] {
  if (query === '') return [];
  return query.split('&').filter((p) => p !== '').map((pair) => {
    const eq = pair.indexOf('=');
    return eq === -1 ? { name: decodeQueryPart(pair), value: '' } : { name: decodeQueryPart(pair.slice(0, eq)), value: decodeQueryPart(pair.slice(eq + 1)) };
  });
}

function decodeQueryPart(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s; // malformed %-escapes stay as written
  }
}

/** Cookies from every Cookie header ('a=1; b=2'). */
function cookiesFromHeader(headers: readonly Header[]): HarCookie[] {
  const out: HarCookie[] = [];
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== 'cookie') continue;
    for (const part of value.split(';')) {
      const p = part.trim();
      if (p === '') continue;
      const eq = p.indexOf('=');
      out.push(eq === -1 ? { name: p, value: '' } : { name: p.slice(0, eq), value: p.slice(eq + 1) });
    }
  }
  return out;
}

/** One Set-Cookie value ('sid=abc; Path=/; HttpOnly') as a HAR cookie. */
function parseSetCookie(value: string): HarCookie {
  const [first = '', ...attrs] = value.split(';');
  const eq = first.indexOf('=');
  const cookie: HarCookie = eq === -1 ? { name: first.trim(), value: '' } : { name: first.slice(0, eq).trim(), value: first.slice(eq + 1).trim() };
  for (const attr of attrs) {
    const [rawKey = '', ...rest] = attr.split('=');
    const key = rawKey.trim().toLowerCase();
    const v = rest.join('=').trim();
    if (key === 'path') cookie.path = v;
    else if (key === 'domain') cookie.domain = v;
    else if (key === 'expires') {
      const t = Date.parse(v);
      if (Number.isFinite(t)) cookie.expires = new Date(t).toISOString();
    } else if (key === 'httponly') cookie.httpOnly = true;
    else if (key === 'secure') cookie.secure = true;
    else if (key === 'samesite') cookie.sameSite = v;
  }
  return cookie;
}

/** '10.0.0.1:443' → '10.0.0.1', '[::1]:443' → '[::1]'; an address without a port stays whole. */
function hostPart(address: string): string {
  if (address.startsWith('[')) return address.slice(0, address.indexOf(']') + 1) || address;
  const colons = address.split(':').length - 1;
  return colons === 1 ? address.slice(0, address.indexOf(':')) : address;
}
