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
    body = tapRequestBody(req, obs.requestBody);
  }
  const relay = new ForwardRelay(req, res, obs, target, ctx);
  res.once('close', () => relay.onClientClose());
  try {
    const headers = upstreamHeaders(req.rawHeaders, target);
    ctx.agent.dispatch({ origin: target.origin, path: target.path, method: req.method ?? 'GET', headers, body }, relay);
  } catch (err) {
    relay.fail(err);
  }
}

/**
 * Pipe the request body through a tap. A function of its own so the listener
 * closures here capture only `tap`, never the relay's req/res/observation.
 */
function tapRequestBody(req: IncomingMessage, into: BodyTap): Readable {
  const tap = tapStream(into);
  // pipe, not pipeline: an upstream failure must not destroy `req` (and the
  // client socket with it) before the 502 is written.
  req.on('error', (err) => tap.destroy(err));
  tap.on('error', () => {}); // undici reports it through onResponseError
  return req.pipe(tap);
}

/**
 * One request's state and its undici dispatch handler in one object, reachable
 * from undici (the handler, kept past the response), from the client
 * response's 'close' listener and from its 'drain' listener.
 *
 * `req`, `res` and `obs` are dropped the moment the request settled (see
 * `release`), for the reason the reverse relay's RelayState gives: whatever
 * of this object got promoted to V8's old generation while the request was in
 * flight is an old→young root for every scavenge until the next full GC, dead
 * or not, so left in place these links kept each request's young graph
 * (IncomingMessage, ServerResponse, header arrays, body chunks, the
 * observation) alive and copied through the next scavenge. A class with
 * fields rather than closures over relayForward's locals: closures share one
 * context object, so one long-lived closure would keep every captured local.
 */
class ForwardRelay implements Dispatcher.DispatchHandler {
  req: IncomingMessage | null;
  res: ServerResponse | null;
  obs: ObservedExchange | null;
  private readonly target: ForwardTarget;
  private readonly ctx: ForwardRelayContext;
  private controller: Dispatcher.DispatchController | null = null;
  private clientGone = false;
  private upstreamEnded = false;
  settled = false;
  private paused = false;

  constructor(req: IncomingMessage, res: ServerResponse, obs: ObservedExchange, target: ForwardTarget, ctx: ForwardRelayContext) {
    this.req = req;
    this.res = res;
    this.obs = obs;
    this.target = target;
    this.ctx = ctx;
  }

  onClientClose(): void {
    if (this.settled || this.res === null || this.res.writableFinished) return;
    this.clientGone = true;
    // After the upstream ended nothing is left to abort: the client left while its last bytes were queued.
    if (this.upstreamEnded) this.settle();
    else this.controller?.abort(new Error(CLIENT_GONE));
  }

  onRequestStart(c: Dispatcher.DispatchController): void {
    this.controller = c;
    if (this.clientGone) c.abort(new Error(CLIENT_GONE));
  }

  onResponseStart(c: Dispatcher.DispatchController, status: number, _parsed: unknown, statusText: string): void {
    const { res, obs } = this;
    // undici starts the response before it can end or fail, so the request cannot have settled yet.
    if (res === null || obs === null) return;
    if (status < 200) return; // interim: node:http answers 100-continue itself
    // Without interceptors undici hands the raw list; latin1 keeps every byte of a value.
    const raw = (c.rawHeaders as Buffer[] | null ?? []).map((b) => (typeof b === 'string' ? b : b.toString('latin1')));
    obs.status = status;
    if (statusText) obs.statusText = statusText;
    obs.responseHeaders = raw;
    obs.headersAtMs = performance.now();
    obs.responseBody = new BodyTap(this.ctx.bodyCap);
    res.sendDate = false; // relay the upstream's Date (or its absence) unchanged
    try {
      res.writeHead(status, statusText || undefined, forwardableHeaders(raw, 'response'));
    } catch (err) {
      obs.status = undefined; // node refused a header (bad characters): answer 502 instead
      c.abort(err as Error);
    }
  }

  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    const { res, obs } = this;
    if (res === null || obs === null) return;
    obs.responseBody!.push(chunk);
    if (res.write(chunk) || this.paused) return;
    this.paused = true;
    c.pause();
    res.once('drain', () => {
      this.paused = false;
      c.resume();
    });
  }

  onResponseEnd(): void {
    this.upstreamEnded = true;
    // Settled when the client's socket has taken the last byte: the end of the exchange.
    this.res?.end(() => this.settle());
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.fail(err);
  }

  fail(err: unknown): void {
    if (this.clientGone) return this.settle();
    const { req, res } = this;
    if (this.settled || req === null || res === null) return;
    const failure = classifyUpstreamError(err);
    sendGatewayError(req, res, failure, `${this.target.upstream} `);
    this.settle(failure);
  }

  private settle(failure?: UpstreamFailure): void {
    if (this.settled) return;
    this.settled = true;
    const { obs, ctx } = this;
    if (obs === null) return; // released: cannot happen before settled is set
    obs.endMs = performance.now();
    if (this.clientGone) {
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
    if (this.target.record) recordObserved(ctx.recorder, obs, ctx.bodyCap);
    this.release();
  }

  /** Let go of the request's objects (see the class comment for why this matters). */
  private release(): void {
    this.req = null;
    this.res = null;
    this.obs = null;
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
