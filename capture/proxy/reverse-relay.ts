import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable, type Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { BodyTap, tapStream } from './body-tap.js';
import { forwardableHeaders } from './hop-by-hop.js';
import { nowMicros, recordObserved, splitTarget, type ObservedExchange } from './proxy-exchange-builder.js';
import type { ProxyCounters } from './proxy-stats.js';
import type { ResolvedReverseProxyOptions } from './reverse-proxy-options.js';
import { UpstreamAbort } from './upstream-abort.js';
import { classifyUpstreamError, exchangeErrorOf, type UpstreamFailure, sendGatewayError } from './upstream-errors.js';

/**
 * One request through the reverse proxy: client → undici pool → upstream,
 * and the response streamed back, with both bodies tapped for the record.
 *
 * Backpressure runs end to end: the request body is piped (the client is
 * paused when the upstream socket is full), and the response goes through
 * undici's `stream()` into a Writable whose callback waits for the client
 * socket's 'drain'. No body is ever held whole; the taps keep at most the cap.
 *
 * The record is offered after the response ended (or failed), so the client
 * never waits on the store.
 */

export interface ClientConnection {
  /** Unique within the capture: `c1`, `c2`, … */
  id: string;
  /** 'ip:port' of the client. */
  client: string;
  /** Requests seen on this connection so far (the next one's seq). */
  seq: number;
}

export interface RelayContext {
  readonly options: ResolvedReverseProxyOptions;
  readonly dispatcher: Dispatcher;
  readonly counters: ProxyCounters;
  /** True once close() began: responses then close their client connection. */
  readonly closing: boolean;
  /** Called after each request settled (inFlight already decremented). */
  settled(): void;
}

/**
 * One request's state, reachable from undici (the stream handler's `opaque`),
 * from the client response's 'close' listener and from the ResponseRelay.
 *
 * `req`, `res` and `obs` are dropped the moment the request settled (see
 * `release`). Why: some of the objects that reach this state outlive the
 * request in V8's old generation — anything still in flight when a minor GC
 * (scavenge) ran was promoted — and a scavenge treats every old→young pointer
 * as a root until the next full GC, dead or not. Left in place, those links
 * kept each request's young graph (IncomingMessage, ServerResponse, header
 * arrays, body chunks, the observation) alive through the next scavenge,
 * which then copied and promoted ~2 MB every time at 1k req/s: 6–14 ms pauses
 * instead of ~1 ms (docs/benchmarks.md, proxy). Cutting them leaves an
 * unreachable state holding nothing young.
 */
interface RelayState {
  req: IncomingMessage | null;
  res: ServerResponse | null;
  obs: ObservedExchange | null;
  readonly ctx: RelayContext;
  readonly abort: UpstreamAbort;
  clientGone: boolean;
  upstreamFailed: boolean;
  settled: boolean;
}

const CLIENT_GONE = new Error('client closed the connection');

/** Start relaying; everything after this is driven by stream events. */
export function relayRequest(req: IncomingMessage, res: ServerResponse, conn: ClientConnection, ctx: RelayContext): void {
  const o = ctx.options;
  ctx.counters.requests++;
  ctx.counters.inFlight++;
  if (ctx.closing) res.shouldKeepAlive = false;
  const obs = observeRequest(req, conn, o);
  const state: RelayState = { req, res, obs, ctx, abort: new UpstreamAbort(), clientGone: false, upstreamFailed: false, settled: false };
  res.on('close', () => onClientClose(state));

  let body: Readable | null = null;
  if (hasBody(req)) {
    obs.requestBody = new BodyTap(o.bodyCap);
    const tap = tapStream(obs.requestBody);
    // pipe, not pipeline: when the upstream fails, pipeline would destroy
    // `req` and with it the client socket, before the 502 could be sent.
    req.on('error', (err) => tap.destroy(err));
    body = req.pipe(tap);
  }
  const path = upstreamPath(obs.target);
  ctx.dispatcher.stream<RelayState>(
    { path, method: req.method ?? 'GET', headers: forwardableHeaders(req.rawHeaders, 'request'), body, responseHeaders: 'raw', opaque: state, signal: state.abort },
    startResponse,
    (err) => settle(state, err),
  );
}

/** The observation of a request as it arrived (before any upstream byte). */
export function observeRequest(req: IncomingMessage, conn: ClientConnection, o: ResolvedReverseProxyOptions): ObservedExchange {
  return {
    captureId: o.captureId,
    connection: conn.id,
    seq: conn.seq++,
    client: conn.client,
    server: o.upstream.hostPort,
    startUs: nowMicros(),
    startMs: performance.now(),
    scheme: 'http',
    authority: req.headers.host ?? o.upstream.hostPort,
    method: req.method ?? 'GET',
    target: req.url ?? '/',
    httpVersion: req.httpVersion,
    requestHeaders: req.rawHeaders,
    requestBody: null,
    responseBody: null,
  };
}

/** undici's stream() factory: the upstream's response head is here. */
function startResponse(data: Dispatcher.StreamFactoryData<RelayState>): Writable {
  const state = data.opaque;
  const { res, obs } = state;
  // undici calls the factory before the final callback, so the request cannot have settled yet.
  if (res === null || obs === null) throw new Error('response head for a request that already settled');
  const raw = data.headers as unknown as string[]; // responseHeaders: 'raw' gives the flat list
  res.sendDate = false; // keep the upstream's Date (or its absence) as it was
  res.writeHead(data.statusCode, forwardableHeaders(raw, 'response'));
  obs.status = data.statusCode;
  obs.responseHeaders = raw;
  obs.headersAtMs = performance.now();
  obs.responseBody = new BodyTap(state.ctx.options.bodyCap);
  const relay = new ResponseRelay(state, res, obs.responseBody);
  if (state.clientGone) relay.destroy(CLIENT_GONE);
  return relay;
}

/**
 * Writes upstream body chunks to the client response, tapping them. Its own
 * buffer is Node's default 16 KiB: undici pauses the upstream socket as soon
 * as the client socket reports it is full, so at most one read is in flight.
 */
class ResponseRelay extends Writable {
  private readonly state: RelayState;
  /** Its own reference: the state lets go of `res` when the request settles. */
  private readonly res: ServerResponse;
  private readonly tap: BodyTap;
  private waiting: (() => void) | null = null;
  private ending: ((err?: Error | null) => void) | null = null;

  constructor(state: RelayState, res: ServerResponse, tap: BodyTap) {
    super();
    this.state = state;
    this.res = res;
    this.tap = tap;
    res.on('drain', () => {
      const cb = this.waiting;
      this.waiting = null;
      cb?.();
    });
    res.on('finish', () => this.ending?.());
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.tap.push(chunk);
    if (this.res.write(chunk)) callback();
    else this.waiting = callback;
  }

  override _final(callback: (err?: Error | null) => void): void {
    // Done only once the client's socket has taken the last byte: that is the
    // end of the exchange (duration) and the moment to record it.
    this.ending = callback;
    this.res.end();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (err && err !== CLIENT_GONE) this.state.upstreamFailed = true;
    if (err && !this.res.writableFinished) this.res.destroy();
    callback(err);
  }
}

function onClientClose(state: RelayState): void {
  if (state.settled || state.upstreamFailed || state.res === null || state.res.writableFinished) return;
  state.clientGone = true;
  state.abort.abort(CLIENT_GONE);
}

function settle(state: RelayState, err: Error | null): void {
  if (state.settled) return;
  state.settled = true;
  const { obs, ctx, res, req } = state;
  if (obs === null || res === null || req === null) return; // released: cannot happen before settled is set
  obs.endMs = performance.now();
  if (err !== null) {
    const clientGone = state.clientGone || (!state.upstreamFailed && (res.destroyed || req.socket.destroyed));
    if (clientGone) {
      ctx.counters.clientAborts++;
      obs.error = obs.status === undefined
        ? { kind: 'no-response', message: 'client closed the connection before the response' }
        : { kind: 'reset', message: 'client closed the connection mid-response' };
      obs.meta = { clientAborted: true };
    } else {
      const failure = classifyUpstreamError(err);
      ctx.counters.upstreamErrors[failure.kind]++;
      obs.error = exchangeErrorOf(failure);
      if (obs.status === undefined) sendGatewayError(req, res, failure);
      else {
        // The status line is gone already: the only honest signal left is to
        // cut the client's connection, so it sees an incomplete body.
        res.destroy();
        obs.incomplete = `response body cut short: ${failure.message}`;
      }
    }
  }
  ctx.counters.inFlight--;
  ctx.settled();
  recordObserved(ctx.options.recorder, obs, ctx.options.bodyCap);
  release(state);
}

/** Let go of the request's objects (see RelayState for why this matters). */
function release(state: RelayState): void {
  state.req = null;
  state.res = null;
  state.obs = null;
}

/** A body follows the head (RFC 9112 §6.3): chunked, or a non-zero Content-Length. */
function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const len = req.headers['content-length'];
  return len !== undefined && len !== '0';
}

/**
 * The target as sent upstream: origin-form unchanged; an absolute-form target
 * (a client that took us for a forward proxy) reduced to its path and query.
 * `*` (OPTIONS *) passes and undici refuses it, which answers 502.
 */
function upstreamPath(target: string): string {
  if (target.startsWith('/') || target === '*') return target;
  const { path, query } = splitTarget(target);
  return query === '' ? path : `${path}?${query}`;
}
