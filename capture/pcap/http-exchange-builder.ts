import { bodyFromBuffer } from '../../store/body.js';
import { newExchangeId } from '../../store/exchange-id.js';
import { getHeader, type Body, type Exchange, type ExchangeError, type Header, type SourceKind } from '../../store/exchange.js';
import { decodeBody } from './http-body-decode.js';
import { fieldTokens, type RequestHead } from './http-head.js';
import type { ParsedMessage } from './http-parser.js';
import { countDrop, type DropCounts } from './tcp-segment.js';

/**
 * Turns a request and its response, as parsed off the wire, into an Exchange
 * record: URL pieces, decoded bodies, and the notes that say what was odd
 * about the capture. `meta` keys (each only when there is something to say):
 *   interimResponses  [{ status, statusText, headers }] — 1xx before the final response
 *   requestTrailers / responseTrailers  Header[] — trailer fields of chunked bodies
 *   tunnel  true — the response switched protocols (101) or opened a CONNECT tunnel
 *   notes   string[] — TE+CL conflicts, Content-Encoding trouble, bodies cut by the budget
 */

export interface InterimResponse {
  status: number;
  statusText: string;
  headers: Header[];
}

/** One request of a connection and what became of it. */
export interface PairedMessages {
  /** 0-based order of the request within its connection. */
  seq: number;
  request: ParsedMessage;
  response: ParsedMessage | null;
  interim: InterimResponse[];
  error?: ExchangeError;
  /** Reasons from the pairing layer (e.g. the response was lost in a gap). */
  incomplete: string[];
}

export interface ExchangeContext {
  captureId: string;
  sourceKind: SourceKind;
  /** 'clientIp:port-serverIp:port#n'. */
  connection: string;
  client: string;
  server: string;
  bodyCap: number;
  drops: DropCounts;
}

/**
 * Build the Exchange for a paired request/response. The messages' stored
 * bodies are taken (and their memory budget given back).
 *
 * @example
 * const ex = buildExchange({ seq: 0, request, response, interim: [], incomplete: [] }, ctx);
 */
export function buildExchange(p: PairedMessages, ctx: ExchangeContext): Exchange {
  const req = p.request;
  const head = req.head as RequestHead;
  const notes = [...req.notes];
  const start = req.startTs;
  const url = splitTarget(head, ctx.server);
  const ex: Exchange = {
    v: 1,
    id: newExchangeId(Math.floor(start / 1000)),
    start,
    duration: p.response ? Math.max(0, p.response.endTs - start) : null,
    source: { kind: ctx.sourceKind, captureId: ctx.captureId, connection: ctx.connection, seq: p.seq },
    request: {
      method: head.method,
      scheme: 'http',
      authority: url.authority,
      path: url.path,
      query: url.query,
      httpVersion: head.version,
      headers: head.headers,
      body: bodyOf(req, 'request', ctx, notes),
    },
    response: null,
    network: { client: ctx.client, server: ctx.server },
  };
  const res = p.response;
  if (res && res.head.kind === 'response') {
    notes.push(...res.notes);
    ex.response = {
      status: res.head.status,
      httpVersion: res.head.version,
      headers: res.head.headers,
      body: bodyOf(res, 'response', ctx, notes),
    };
    if (res.head.statusText !== '') ex.response.statusText = res.head.statusText;
  }
  if (p.error) ex.error = p.error;
  const incomplete = [req.incomplete, res?.incomplete, ...p.incomplete].filter((r): r is string => !!r);
  if (incomplete.length > 0) ex.incomplete = incomplete.join('; ');
  const meta: Record<string, unknown> = {};
  if (p.interim.length > 0) meta.interimResponses = p.interim;
  if (req.trailers) meta.requestTrailers = req.trailers;
  if (res?.trailers) meta.responseTrailers = res.trailers;
  if (res?.framing === 'tunnel') meta.tunnel = true;
  if (notes.length > 0) meta.notes = notes;
  if (Object.keys(meta).length > 0) ex.meta = meta;
  return ex;
}

function bodyOf(msg: ParsedMessage, label: string, ctx: ExchangeContext, notes: string[]): Body | null {
  const store = msg.body;
  if (store.refused) countDrop(ctx.drops, 'stream-memory');
  if (store.size === 0) {
    store.release();
    return null;
  }
  const wireComplete = store.complete;
  const wireSize = store.size;
  const wire = store.take();
  const codings = fieldTokens(msg.head.headers, 'content-encoding');
  const decoded = decodeBody(wire, { codings, wireComplete, wireSize, cap: ctx.bodyCap });
  for (const n of decoded.notes) notes.push(`${label} body: ${n}`);
  if (store.refused) notes.push(`${label} body: memory budget exhausted; stored prefix only`);
  const body = bodyFromBuffer(decoded.bytes, { cap: ctx.bodyCap, size: decoded.size, contentEncoding: decoded.contentEncoding });
  if (body && decoded.truncated) body.truncated = true;
  return body;
}

/**
 * Authority, path and raw query of a request target. The authority of an
 * absolute-form target wins (RFC 9112 §3.2.2), then the Host header, then the
 * server address. CONNECT's authority-form target is the authority; its path is ''.
 *
 * @example
 * splitTarget({ kind: 'request', method: 'GET', target: '/a?b=1', version: '1.1', headers: [['Host', 'x']] }, '10.0.0.2:80')
 * // { authority: 'x', path: '/a', query: 'b=1' }
 */
export function splitTarget(head: RequestHead, server: string): { authority: string; path: string; query: string } {
  const host = getHeader(head.headers, 'host')?.trim() || undefined;
  const target = head.target;
  if (head.method === 'CONNECT') return { authority: target, path: '', query: '' };
  let rest = target;
  let authority = host ?? server;
  const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.exec(target);
  if (abs) {
    const after = target.slice(abs[0].length);
    const cut = after.search(/[/?]/);
    const targetAuthority = cut === -1 ? after : after.slice(0, cut);
    rest = cut === -1 ? '/' : after.slice(cut);
    if (rest.startsWith('?')) rest = `/${rest}`;
    if (targetAuthority !== '') authority = targetAuthority.replace(/^[^@]*@/, '');
  }
  const q = rest.indexOf('?');
  return q === -1 ? { authority, path: rest, query: '' } : { authority, path: rest.slice(0, q), query: rest.slice(q + 1) };
}
