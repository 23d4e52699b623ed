import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { BodyTap } from './body-tap.js';
import { forwardableHeaders, upgradeRequestHeaders } from './hop-by-hop.js';
import { recordObserved, type ObservedExchange } from './proxy-exchange-builder.js';
import type { ProxyCounters } from './proxy-stats.js';
import type { ResolvedReverseProxyOptions } from './reverse-proxy-options.js';
import { observeRequest, type ClientConnection } from './reverse-relay.js';
import { classifyUpstreamError, exchangeErrorOf } from './upstream-errors.js';

/**
 * Upgrade requests (WebSocket, h2c): the handshake is forwarded with
 * node:http — undici's upgrade() cannot relay a refused handshake — and
 * after a 101 the two sockets are piped to each other byte for byte.
 *
 * The record is the handshake only: request head, the 101 and its headers,
 * no body, `meta.upgrade` naming the protocol and a note saying the frames
 * after it were relayed but not recorded. It is offered when the 101 arrives,
 * not when the tunnel closes (which may be hours later).
 *
 * A refused handshake (any status but 101) is relayed as an ordinary
 * response with `Connection: close` — its body is delimited by the close, so
 * it needs no re-framing — and recorded like one.
 */

export interface UpgradeContext {
  readonly options: ResolvedReverseProxyOptions;
  readonly counters: ProxyCounters;
  /** Client sockets of handshakes and tunnels, destroyed on close(). */
  readonly tunnels: Set<Duplex>;
}

export function relayUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, conn: ClientConnection, ctx: UpgradeContext): void {
  const o = ctx.options;
  ctx.counters.upgrades++;
  ctx.tunnels.add(client);
  const obs = observeRequest(req, conn, o);
  const protocol = req.headers.upgrade ?? 'unknown';
  obs.meta = { upgrade: protocol };
  let recorded = false;
  const record = (): void => {
    if (recorded) return;
    recorded = true;
    obs.endMs ??= performance.now();
    recordObserved(o.recorder, obs, o.bodyCap);
  };

  const upReq = (o.upstream.tls ? https : http).request({
    host: o.upstream.host,
    port: o.upstream.port,
    method: req.method,
    path: req.url,
    headers: upgradeRequestHeaders(req.rawHeaders),
    setHost: false, // the client's Host travels in the header list, as received
    agent: false, // an upgraded socket leaves any pool; a fresh one per handshake
    timeout: o.upstreamTimeoutMs,
  });
  client.on('error', () => upReq.destroy());
  client.on('close', () => {
    ctx.tunnels.delete(client);
    upReq.destroy();
  });
  upReq.on('timeout', () => upReq.destroy(Object.assign(new Error(`no response head within ${o.upstreamTimeoutMs} ms`), { code: 'ETIMEDOUT' })));

  upReq.on('upgrade', (res: IncomingMessage, upstream: Socket, upHead: Buffer) => {
    upstream.setTimeout(0);
    noteResponse(obs, res);
    obs.meta = { upgrade: protocol, notes: [`connection upgraded (${protocol}); bytes after the 101 were relayed, not recorded`] };
    client.write(responseHead(res, res.rawHeaders));
    if (upHead.length > 0) client.write(upHead);
    if (head.length > 0) upstream.write(head);
    ctx.counters.tunnelsOpen++;
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', closeBoth);
    client.on('error', closeBoth);
    client.once('close', () => {
      ctx.counters.tunnelsOpen--;
      upstream.destroy();
    });
    upstream.once('close', () => client.destroy());
    // pipe() ends each side when the other ends, and pauses on backpressure.
    upstream.pipe(client);
    client.pipe(upstream);
    record();
  });

  upReq.on('response', (res: IncomingMessage) => {
    noteResponse(obs, res);
    obs.responseBody = new BodyTap(o.bodyCap);
    const tap = obs.responseBody;
    const headers = forwardableHeaders(res.rawHeaders, 'response');
    client.write(responseHead(res, [...headers, 'Connection', 'close']));
    res.on('data', (chunk: Buffer) => tap.push(chunk));
    res.pipe(client);
    res.on('end', record);
    res.on('error', () => client.destroy());
  });

  upReq.on('error', (err) => {
    if (recorded) return;
    if (client.destroyed) {
      ctx.counters.clientAborts++;
      obs.error = { kind: 'no-response', message: 'client closed the connection before the response' };
    } else {
      const failure = classifyUpstreamError(err);
      ctx.counters.upstreamErrors[failure.kind]++;
      obs.error = exchangeErrorOf(failure);
      if (obs.status === undefined) {
        const text = `reprise proxy: upstream ${failure.kind}: ${failure.message}\n`;
        client.end(`HTTP/1.1 ${failure.status} ${http.STATUS_CODES[failure.status]}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nX-Reprise-Upstream-Error: ${failure.kind}\r\nConnection: close\r\n\r\n${text}`);
      } else {
        client.destroy();
        obs.incomplete = `response body cut short: ${failure.message}`;
      }
    }
    record();
  });
  upReq.end();
}

function noteResponse(obs: ObservedExchange, res: IncomingMessage): void {
  obs.headersAtMs = performance.now();
  obs.status = res.statusCode ?? 0;
  if (res.statusMessage) obs.statusText = res.statusMessage;
  obs.responseHttpVersion = res.httpVersion;
  obs.responseHeaders = res.rawHeaders;
  if (res.statusCode === 101) obs.endMs = obs.headersAtMs;
}

/** Status line and header block, written to the client socket as the upstream sent them. */
function responseHead(res: IncomingMessage, raw: readonly string[]): string {
  let head = `HTTP/${res.httpVersion} ${res.statusCode} ${res.statusMessage ?? ''}\r\n`;
  for (let i = 0; i + 1 < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return `${head}\r\n`;
}
