import type { Header } from '../../store/exchange.js';
import { HTTP_TOKEN, TCHAR, TCHAR_CLASS } from '../../store/http-token.js';

/**
 * HTTP/1.x message heads: start lines, header fields and the framing rules of
 * RFC 9112 §6. Pure functions over complete head blocks; the incremental work
 * (finding where a head ends) is in http-parser.ts.
 */

/** '0.9': a request line without a version (see LOOSE_REQUEST_LINE). */
export type HttpVersion = '0.9' | '1.0' | '1.1';

export interface RequestHead {
  kind: 'request';
  method: string;
  /** As sent; '' when the request line had none. */
  target: string;
  version: HttpVersion;
  headers: Header[];
  /** Set when the request line was malformed but read anyway: what was wrong, in words. */
  malformed?: string;
}

export interface ResponseHead {
  kind: 'response';
  status: number;
  statusText: string;
  version: HttpVersion;
  headers: Header[];
}

export type MessageHead = RequestHead | ResponseHead;
export type MessageKind = MessageHead['kind'];

export type Framing =
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  | { kind: 'close' }
  | { kind: 'tunnel' };

/** Node's default is 2,000; a head with more fields than this is a flood, not a message. */
export const MAX_HEADERS = 1000;

const REQUEST_LINE = new RegExp(String.raw`^(${TCHAR_CLASS}+) ([^\s\x00-\x1f\x7f]+) HTTP\/1\.([01])$`);
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?$/;
/**
 * Request lines servers receive and answer (with a 4xx) although they break
 * the grammar: "OPTIONS", "OPTIONS HTTP/1.1" and "GET /HTTP/1.1" (no version:
 * the HTTP/0.9 form, so the lone word is the target), "OPTIONS  HTTP/1.1"
 * (empty target), "GET / HTTP/1." (a 1.x version cut short). The method must
 * be a token; anything else after it is refused.
 */
const LOOSE_REQUEST_LINE = new RegExp(String.raw`^(${TCHAR_CLASS}+)(?: ([^\s\x00-\x1f\x7f]*))?(?: HTTP\/1(?:\.(\d*))?)?$`);
// While resynchronising inside arbitrary bytes, only a conventional method and
// target count as a message start, to keep false positives out.
const RESYNC_REQUEST = /^[A-Z][A-Z-]{2,19} (?:\/|\*|https?:\/\/|[A-Za-z0-9.-]+:\d+ )/;

/**
 * Whether `prefix` (the first bytes of a line) could begin a start line of
 * `kind`. Cheap enough to run on every partial line, so binary data is
 * rejected after a few bytes instead of after a 64 KiB head.
 */
export function couldStartLine(prefix: Buffer, kind: MessageKind): boolean {
  if (kind === 'response') {
    const n = Math.min(prefix.length, STATUS_PREFIX.length);
    for (let i = 0; i < n; i++) if (prefix[i] !== STATUS_PREFIX[i]) return false;
    return true;
  }
  const n = Math.min(prefix.length, 21);
  for (let i = 0; i < n; i++) {
    const b = prefix[i]!;
    // A method, then a space — or the end of the line (a malformed line: a method alone).
    if (b === 0x20 || b === 0x0d || b === 0x0a) return i > 0;
    if (TCHAR[b] !== 1) return false;
  }
  return n < 21;
}
const STATUS_PREFIX = Buffer.from('HTTP/1.');

/** A complete line (no CR/LF) that is a plausible start line; stricter when resynchronising. */
export function isStartLine(line: string, kind: MessageKind, resync: boolean): boolean {
  if (kind === 'response') return STATUS_LINE.test(line);
  if (!REQUEST_LINE.test(line)) return false;
  return !resync || RESYNC_REQUEST.test(line);
}

/**
 * Parse a head block (start line and fields, the final empty line optional), read as latin1.
 * A malformed request line (LOOSE_REQUEST_LINE) is read when at least one
 * header field follows it — the sign that the client speaks HTTP and merely
 * got its first line wrong — and says so in `malformed`.
 *
 * @example
 * parseHead('GET /a HTTP/1.1\r\nHost: x\r\n', 'request')
 * // { kind: 'request', method: 'GET', target: '/a', version: '1.1', headers: [['Host', 'x']] }
 * parseHead('GET /a\r\nHost: x\r\n', 'request')
 * // { kind: 'request', method: 'GET', target: '/a', version: '0.9', headers: [['Host', 'x']], malformed: 'no HTTP version (read as HTTP/0.9)' }
 */
export function parseHead(block: string, kind: MessageKind): MessageHead | string {
  const lines = splitLines(block);
  const first = lines[0] ?? '';
  const headers = parseFields(lines, 1);
  if (typeof headers === 'string') return headers;
  if (kind === 'request') {
    const m = REQUEST_LINE.exec(first);
    if (m) return { kind, method: m[1]!, target: m[2]!, version: m[3] === '0' ? '1.0' : '1.1', headers };
    const loose = headers.length > 0 ? parseLooseRequestLine(first) : null;
    if (!loose) return `bad request line ${JSON.stringify(first.slice(0, 60))}`;
    return { kind, ...loose, headers };
  }
  const m = STATUS_LINE.exec(first);
  if (!m) return `bad status line ${JSON.stringify(first.slice(0, 60))}`;
  return { kind, status: Number(m[2]), statusText: m[3] ?? '', version: m[1] === '0' ? '1.0' : '1.1', headers };
}

/**
 * A request line that LOOSE_REQUEST_LINE accepts. Versions: none → '0.9'
 * (the form is HTTP/0.9's, and no later version was claimed; framing is the
 * same as for any request — a body only with Content-Length or chunked);
 * "HTTP/1" or "HTTP/1." → '1.0', the least a 1.x client speaks; "HTTP/1.x"
 * with x ≥ 2 → '1.1' (RFC 9112 §2.3: the highest minor version known).
 */
function parseLooseRequestLine(line: string): Pick<RequestHead, 'method' | 'target' | 'version' | 'malformed'> | null {
  const m = LOOSE_REQUEST_LINE.exec(line);
  if (!m) return null;
  const target = m[2] ?? '';
  const versioned = line.length > m[1]!.length + 1 + target.length;
  const minor = m[3];
  const problems: string[] = [];
  if (target === '') problems.push('no request target');
  let version: HttpVersion;
  if (!versioned) {
    version = '0.9';
    problems.push('no HTTP version (read as HTTP/0.9)');
  } else if (minor === '0' || minor === '1') {
    version = minor === '0' ? '1.0' : '1.1';
  } else {
    version = minor === undefined || minor === '' ? '1.0' : '1.1';
    problems.push(`HTTP version "${line.slice(m[1]!.length + 2 + target.length)}" (read as ${version})`);
  }
  return { method: m[1]!, target, version, malformed: problems.join('; ') };
}

/** Parse a trailer section (fields only). */
export function parseTrailers(block: string): Header[] | string {
  return parseFields(splitLines(block), 0);
}

function splitLines(block: string): string[] {
  const lines = block.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.endsWith('\r')) lines[i] = l.slice(0, -1);
  }
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function parseFields(lines: string[], from: number): Header[] | string {
  const headers: Header[] = [];
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    if (line[0] === ' ' || line[0] === '\t') {
      // obs-fold (RFC 9112 §5.2): a continuation line joins the previous value with one space.
      const last = headers[headers.length - 1];
      if (!last) return 'header block starts with a continuation line';
      last[1] = `${last[1]} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return `bad header line ${JSON.stringify(line.slice(0, 60))}`;
    const name = line.slice(0, colon);
    if (!HTTP_TOKEN.test(name)) return `bad header name ${JSON.stringify(name.slice(0, 60))}`;
    if (headers.length >= MAX_HEADERS) return `more than ${MAX_HEADERS} header fields`;
    headers.push([name, line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '')]);
  }
  return headers;
}

/** All values of a field, comma-split, trimmed, lower-cased. */
export function fieldTokens(headers: readonly Header[], name: string): string[] {
  const out: string[] = [];
  for (const [n, v] of headers) {
    if (n.length !== name.length || n.toLowerCase() !== name) continue;
    for (const part of v.split(',')) {
      const t = part.trim().toLowerCase();
      if (t !== '') out.push(t);
    }
  }
  return out;
}

/** Content-Length: null when absent, a number, or an error string (RFC 9112 §6.3 rule 5). */
export function contentLength(headers: readonly Header[]): number | null | string {
  const values = fieldTokens(headers, 'content-length');
  if (values.length === 0) return null;
  const first = values[0]!;
  if (!/^\d{1,16}$/.test(first) || values.some((v) => v !== first)) return `bad content-length ${JSON.stringify(values.join(', ').slice(0, 60))}`;
  const n = Number(first);
  return Number.isSafeInteger(n) ? n : `content-length ${first} is too large`;
}

/** Body framing of a request (RFC 9112 §6.3 rules 4–6). */
export function requestFraming(head: RequestHead, notes: string[]): Framing | string {
  const te = fieldTokens(head.headers, 'transfer-encoding');
  const cl = contentLength(head.headers);
  if (te.length > 0) {
    if (cl !== null) notes.push('request has both Transfer-Encoding and Content-Length; Transfer-Encoding wins');
    if (te[te.length - 1] !== 'chunked') return 'request Transfer-Encoding does not end in chunked';
    return { kind: 'chunked' };
  }
  if (typeof cl === 'string') return cl;
  return cl === null || cl === 0 ? { kind: 'none' } : { kind: 'length', length: cl };
}

/** Body framing of a final response to a request made with `method` (RFC 9112 §6.3 rules 1–7). */
export function responseFraming(head: ResponseHead, method: string, notes: string[]): Framing | string {
  const s = head.status;
  if (s === 101) return { kind: 'tunnel' };
  if (method === 'CONNECT' && s >= 200 && s < 300) return { kind: 'tunnel' };
  if (method === 'HEAD' || (s >= 100 && s < 200) || s === 204 || s === 304) return { kind: 'none' };
  const te = fieldTokens(head.headers, 'transfer-encoding');
  const cl = contentLength(head.headers);
  if (te.length > 0) {
    if (cl !== null) notes.push('response has both Transfer-Encoding and Content-Length; Transfer-Encoding wins');
    return te[te.length - 1] === 'chunked' ? { kind: 'chunked' } : { kind: 'close' };
  }
  if (typeof cl === 'string') return cl;
  return cl === null ? { kind: 'close' } : cl === 0 ? { kind: 'none' } : { kind: 'length', length: cl };
}

/** The request asks to leave HTTP on success: CONNECT, or an Upgrade field. */
export function mayLeaveHttp(head: RequestHead): boolean {
  return head.method === 'CONNECT' || fieldTokens(head.headers, 'upgrade').length > 0;
}

/** Parse a chunk-size line (no CR/LF): the size, or an error string. Extensions are ignored. */
export function parseChunkSize(line: string): number | string {
  const semi = line.indexOf(';');
  const hex = (semi === -1 ? line : line.slice(0, semi)).trim();
  if (!/^[0-9a-fA-F]{1,13}$/.test(hex)) return `bad chunk size ${JSON.stringify(line.slice(0, 40))}`;
  return parseInt(hex, 16);
}
