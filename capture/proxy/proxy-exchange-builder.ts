import { channel } from 'node:diagnostics_channel';
import { copyExchange, copyRequest, copyResponse } from '../../store/exchange-copy.js';
import { bodyFromBuffer } from '../../store/body.js';
import { EXCHANGE_VERSION, type Body, type Exchange, type ExchangeError } from '../../store/exchange.js';
import { newExchangeId } from '../../store/exchange-id.js';
import { decodeBody } from '../pcap/http-body-decode.js';
import type { BodyTap } from './body-tap.js';
import type { ExchangeRecorder } from './exchange-recorder.js';
import { contentCodings, headerPairs } from './hop-by-hop.js';

/**
 * What a proxy saw of one request/response while relaying it, and the
 * Exchange record made from that once it ended. Shared by the reverse and
 * forward proxies: they fill an ObservedExchange on the hot path (cheap field
 * writes, body taps) and call `recordObserved` when the response is done.
 *
 * The record is built in two steps so the recorder's sampling sees a light
 * record (method, path, status) and the costly part — header pairs, body
 * concatenation, Content-Encoding decoding, base64 — runs only for records
 * that are kept.
 */

export interface ObservedExchange {
  captureId: string;
  /** Client connection id, unique within the capture. */
  connection: string;
  /** 0-based order of this request on its connection. */
  seq: number;
  /** 'ip:port' of the client and of the server that answered. */
  client: string;
  server: string;
  tls?: boolean;
  /** Request start: µs since the epoch, and performance.now() for durations. */
  startUs: number;
  startMs: number;
  scheme: 'http' | 'https';
  authority: string;
  method: string;
  /** Request target as received (origin-form, or absolute-form at a forward proxy). */
  target: string;
  httpVersion: string;
  /** Flat [name, value, …] lists as on the wire (original case, order, duplicates). */
  requestHeaders: string[];
  requestBody: BodyTap | null;
  /** Set once the response head arrived. */
  status?: number;
  statusText?: string;
  responseHttpVersion?: string;
  responseHeaders?: string[];
  responseBody: BodyTap | null;
  headersAtMs?: number;
  endMs?: number;
  error?: ExchangeError;
  incomplete?: string;
  meta?: Record<string, unknown>;
}

const exchangeChannel = channel('reprise:capture:exchange');

/** Clock for ObservedExchange.startUs: wall time with sub-millisecond resolution. */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * Hand a finished observation to the recorder (and to `reprise:capture:exchange`
 * subscribers). Never throws: recording must not break the relay.
 *
 * @example
 * res.on('finish', () => { obs.endMs = performance.now(); recordObserved(recorder, obs, 1 << 20); });
 */
export function recordObserved(recorder: ExchangeRecorder, obs: ObservedExchange, bodyCap: number): void {
  const head = buildExchangeHead(obs);
  recorder.offer(head, (ex) => {
    const full = completeExchange(ex, obs, bodyCap);
    if (exchangeChannel.hasSubscribers) exchangeChannel.publish(full);
    return full;
  });
}

/** The light record: everything but headers and bodies. */
export function buildExchangeHead(obs: ObservedExchange): Exchange {
  const { path, query } = splitTarget(obs.target);
  const end = obs.endMs ?? performance.now();
  const ex: Exchange = {
    v: EXCHANGE_VERSION,
    id: newExchangeId(obs.startUs / 1000),
    start: obs.startUs,
    duration: Math.max(0, Math.round((end - obs.startMs) * 1000)),
    source: { kind: 'proxy', captureId: obs.captureId, connection: obs.connection, seq: obs.seq },
    request: { method: obs.method, scheme: obs.scheme, authority: obs.authority, path, query, httpVersion: obs.httpVersion, headers: [], body: null },
    response: obs.status === undefined ? null : {
      status: obs.status,
      ...(obs.statusText ? { statusText: obs.statusText } : {}),
      httpVersion: obs.responseHttpVersion ?? '1.1',
      headers: [],
      body: null,
    },
    network: obs.tls === undefined ? { client: obs.client, server: obs.server } : { client: obs.client, server: obs.server, tls: obs.tls },
  };
  if (obs.headersAtMs !== undefined) {
    ex.timings = { wait: round3(obs.headersAtMs - obs.startMs), receive: round3(end - obs.headersAtMs) };
  }
  if (obs.error) ex.error = obs.error;
  if (obs.incomplete) ex.incomplete = obs.incomplete;
  return ex;
}

/** The full record: header pairs and stored bodies (decoded, capped). */
export function completeExchange(head: Exchange, obs: ObservedExchange, bodyCap: number): Exchange {
  const notes: string[] = [];
  // Field-by-field copies, not spreads: this runs for every recorded exchange (see store/exchange-copy.ts).
  const request = copyRequest(head.request);
  request.headers = headerPairs(obs.requestHeaders);
  request.body = storedBody(obs.requestBody, obs.requestHeaders, bodyCap, notes);
  const ex = copyExchange(head);
  ex.request = request;
  if (head.response && obs.responseHeaders) {
    const response = copyResponse(head.response);
    response.headers = headerPairs(obs.responseHeaders);
    response.body = storedBody(obs.responseBody, obs.responseHeaders, bodyCap, notes);
    ex.response = response;
  }
  if (notes.length > 0 || obs.meta) ex.meta = { ...obs.meta, ...(notes.length > 0 ? { notes } : {}) };
  return ex;
}

/** The stored form of a tapped body: Content-Encoding undone, cut at the cap, true size kept. */
function storedBody(tap: BodyTap | null, rawHeaders: readonly string[], cap: number, notes: string[]): Body | null {
  if (!tap || tap.size === 0) return null;
  const wire = tap.bytes();
  const codings = contentCodings(rawHeaders);
  if (codings.length === 0) return bodyFromBuffer(wire, { size: tap.size });
  const decoded = decodeBody(wire, { codings, wireComplete: tap.complete, wireSize: tap.size, cap });
  notes.push(...decoded.notes);
  const body = bodyFromBuffer(decoded.bytes, { size: decoded.size, ...(decoded.contentEncoding ? { contentEncoding: decoded.contentEncoding } : {}) });
  if (body && decoded.truncated) body.truncated = true;
  return body;
}

/** Path and raw query of a request target (origin-form or absolute-form). */
export function splitTarget(target: string): { path: string; query: string } {
  let t = target;
  if (!t.startsWith('/') && t !== '*') {
    const scheme = t.indexOf('://');
    const slash = scheme === -1 ? -1 : t.indexOf('/', scheme + 3);
    const q = scheme === -1 ? -1 : t.indexOf('?', scheme + 3);
    t = slash !== -1 && (q === -1 || slash < q) ? t.slice(slash) : q !== -1 ? `/${t.slice(q)}` : '/';
  }
  const hash = t.indexOf('#');
  if (hash !== -1) t = t.slice(0, hash);
  const q = t.indexOf('?');
  return q === -1 ? { path: t, query: '' } : { path: t.slice(0, q), query: t.slice(q + 1) };
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
