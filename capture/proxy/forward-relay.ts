import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { BodyTap, tapStream } from './body-tap.js';
import type { ExchangeRecorder } from './exchange-recorder.js';
import { forwardableHeaders } from './hop-by-hop.js';
import { nowMicros, recordObserved, type ObservedExchange } from './proxy-exchange-builder.js';
import type { ProxyCounters } from './proxy-stats.js';
import { classifyUpstreamError, exchangeErrorOf, type UpstreamFailure, sendGatewayError } from './upstream-errors.js';

/**
 * One request through the forward proxy — plain HTTP in absolute-form, or a
 * request decrypted from an intercepted CONNECT tunnel — to whatever origin
 * it names, through a shared undici Agent (one keep-alive pool per origin).
 *
 * The response is relayed with undici's dispatch handler API: raw headers in
 * wire order, each body chunk written to the client as it arrives, and the
 * upstream socket paused (`controller.pause()`) while the client's socket is
 * full, so a slow client never makes the proxy buffer a body. The request
 * body is piped through a tap with the same effect the other way. The record
 * is offered after the response ended, so no client waits on the store.
 */

/** Where a request goes, and whether it is recorded. */
export interface ForwardTarget {
  scheme: 'http' | 'https';
  /** undici origin: `http://host:port` or `https://host:port`. */
  origin: string;
  /** Recorded authority: the absolute-form URI's, else Host, else the CONNECT target. */
  authority: string;
  /** Path and query sent upstream, raw. */
  path: string;
  /** `host:port` of the upstream, for messages and the record's `network.server`. */
  upstream: string;
  /** Rewrite Host to `authority` (absolute-form: RFC 9112 §3.2.2 says the URI wins). */
  rewriteHost: boolean;
  /** False for pass-through hosts: relayed, never recorded. */
  record: boolean;
}

export interface ForwardConnection {
  /** Unique within the capture: `c1`, `c2`, … (an intercepted tunnel keeps its CONNECT's id). */
  id: string;
  client: string;
  seq: number;
  /** The proxy terminated TLS on this connection. */
  tls: boolean;
}

export interface ForwardRelayContext {
  readonly agent: Dispatcher;
  readonly counters: ProxyCounters;
  readonly recorder: ExchangeRecorder;
  readonly bodyCap: number;
  readonly captureId: string;
  /** True once close() began: responses then close their client connection. */
  readonly closing: boolean;
  /** Called after each request settled (inFlight already decremented). */
  settled(): void;
}

const CLIENT_GONE = 'client closed the connection';

/**
 * Relay `req` to `target` and the answer back to `res`; records when done.
 *
 * @example
 * relayForward(req, res, conn, { scheme: 'http', origin: 'http://127.0.0.1:3000', authority: '127.0.0.1:3000', path: '/a', upstream: '127.0.0.1:3000', rewriteHost: true, record: true }, ctx);
 */
export function relayForward(req: IncomingMessage, res: ServerResponse, conn: ForwardConnection, target: ForwardTarget, ctx: ForwardRelayContext): void {
  ctx.counters.requests++;
  ctx.counters.inFlight++;
  if (ctx.closing) res.shouldKeepAlive = false;
  const obs: ObservedExchange = {
    captureId: ctx.captureId,
    connection: conn.id,
    seq: conn.seq++,
    client: conn.client,
    server: target.upstream,
    tls: conn.tls,
    startUs: nowMicros(),
    startMs: performance.now(),
    scheme: target.scheme,
    authority: target.authority,
    method: req.method ?? 'GET',
    target: target.path,
    httpVersion: req.httpVersion,
    // The record keeps what the client sent (Proxy-Authorization included: the recorder redacts it).
    requestHeaders: req.rawHeaders,
    requestBody: null,
    responseBody: null,
  };
  let body: Readable | null = null;
  if (hasBody(req)) {
    obs.requestBody = new BodyTap(ctx.bodyCap);
    const tap = tapStream(obs.requestBody);
    // pipe, not pipeline: an upstream failure must not destroy `req` (and the
    // client socket with it) before the 502 is written.
    req.on('error', (err) => tap.destroy(err));
    tap.on('error', () => {}); // undici reports it through onResponseError
    body = req.pipe(tap);
  }

  let controller: Dispatcher.DispatchController | null = null;
  let clientGone = false;
  let upstreamEnded = false;
  let done = false;
  let paused = false;

  const settle = (failure?: UpstreamFailure): void => {
    if (done) return;
    done = true;
    obs.endMs = performance.now();
    if (clientGone) {
      ctx.counters.clientAborts++;
      obs.error = obs.status === undefined
        ? { kind: 'no-response', message: `${CLIENT_GONE} before the response` }
        : { kind: 'reset', message: `${CLIENT_GONE} mid-response` };
      obs.meta = { clientAborted: true };
    } else if (failure) {
      ctx.counters.upstreamErrors[failure.kind]++;
      obs.error = exchangeErrorOf(failure);
      if (obs.status !== undefined) obs.incomplete = `response body cut short: ${failure.message}`;
    }
    ctx.counters.inFlight--;
    ctx.settled();
    if (target.record) recordObserved(ctx.recorder, obs, ctx.bodyCap);
  };

  res.once('close', () => {
    if (done || res.writableFinished) return;
    clientGone = true;
    // After the upstream ended nothing is left to abort: the client left while its last bytes were queued.
    if (upstreamEnded) settle();
    else controller?.abort(new Error(CLIENT_GONE));
  });

  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(c) {
      controller = c;
      if (clientGone) c.abort(new Error(CLIENT_GONE));
    },
    onResponseStart(c, status, _parsed, statusText) {
      if (status < 200) return; // interim: node:http answers 100-continue itself
      // Without interceptors undici hands the raw list; latin1 keeps every byte of a value.
      const raw = (c.rawHeaders as Buffer[] | null ?? []).map((b) => (typeof b === 'string' ? b : b.toString('latin1')));
      obs.status = status;
      if (statusText) obs.statusText = statusText;
      obs.responseHeaders = raw;
      obs.headersAtMs = performance.now();
      obs.responseBody = new BodyTap(ctx.bodyCap);
      res.sendDate = false; // relay the upstream's Date (or its absence) unchanged
      try {
        res.writeHead(status, statusText || undefined, forwardableHeaders(raw, 'response'));
      } catch (err) {
        obs.status = undefined; // node refused a header (bad characters): answer 502 instead
        c.abort(err as Error);
      }
    },
    onResponseData(c, chunk) {
      obs.responseBody!.push(chunk);
      if (res.write(chunk) || paused) return;
      paused = true;
      c.pause();
      res.once('drain', () => {
        paused = false;
        c.resume();
      });
    },
    onResponseEnd() {
      upstreamEnded = true;
      // Settled when the client's socket has taken the last byte: the end of the exchange.
      res.end(() => settle());
    },
    onResponseError(_c, err) {
      fail(err);
    },
  };

  function fail(err: unknown): void {
    if (clientGone) return settle();
    const failure = classifyUpstreamError(err);
    sendGatewayError(req, res, failure, `${target.upstream} `);
    settle(failure);
  }

  try {
    const headers = upstreamHeaders(req.rawHeaders, target);
    ctx.agent.dispatch({ origin: target.origin, path: target.path, method: req.method ?? 'GET', headers, body }, handler);
  } catch (err) {
    fail(err);
  }
}

/** End-to-end request headers, without Proxy-* (the client's business with this proxy), Host per the URI when asked. */
function upstreamHeaders(raw: readonly string[], target: ForwardTarget): string[] {
  const fwd = forwardableHeaders(raw, 'request');
  const out: string[] = [];
  let host = false;
  for (let i = 0; i + 1 < fwd.length; i += 2) {
    const lower = fwd[i]!.toLowerCase();
    if (lower.startsWith('proxy-')) continue;
    if (lower === 'host') {
      if (host) continue; // one Host only (RFC 9112 §3.2)
      host = true;
      out.push(fwd[i]!, target.rewriteHost ? target.authority : fwd[i + 1]!);
      continue;
    }
    out.push(fwd[i]!, fwd[i + 1]!);
  }
  if (!host) out.unshift('Host', target.authority);
  return out;
}

/** A body follows the head (RFC 9112 §6.3): chunked, or a non-zero Content-Length. */
function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const len = req.headers['content-length'];
  return len !== undefined && len !== '0';
}
