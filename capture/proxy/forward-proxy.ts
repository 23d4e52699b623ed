import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOrFail } from './proxy-listen.js';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { Agent } from 'undici';
import { RepriseError } from '../../errors.js';
import type { ExchangeRecorder } from './exchange-recorder.js';
import { handleConnect, type ConnectContext, type InterceptedConnection } from './forward-connect.js';
import { resolveForwardProxyOptions, type ForwardProxyOptions, type ResolvedForwardProxyOptions } from './forward-proxy-options.js';
import { relayForward, type ForwardConnection, type ForwardRelayContext } from './forward-relay.js';
import { absoluteFormTarget, tunnelRequestTarget } from './forward-targets.js';
import { relayRawUpgrade } from './forward-upgrade.js';
import { ProxyCounters, writeStatsResponse, type ProxyStats } from './proxy-stats.js';
import { LeafCertCache } from './tls-leaf-cache.js';

/**
 * The recording forward proxy (HTTP_PROXY / HTTPS_PROXY): absolute-form HTTP
 * requests are relayed to the origin they name; CONNECT tunnels are either
 * piped unread or, with a CA, intercepted and their requests relayed and
 * recorded too (see forward-connect.ts). One undici Agent serves every
 * origin with keep-alive pools; upstream TLS is verified against Node's
 * roots plus `upstreamCa`.
 *
 * Two node:http servers share the work: the public one parses what clients
 * send to the proxy itself, the internal one (never listening) parses what
 * arrives inside intercepted tunnels. close() mirrors the reverse proxy:
 * stop accepting → idle connections closed → in-flight requests finish up to
 * `shutdownTimeoutMs` → everything left destroyed → Agent closed → recorder
 * flushed.
 */

export type { ForwardProxyOptions } from './forward-proxy-options.js';

export interface ForwardProxyStats extends ProxyStats {
  /** CONNECTs whose traffic was decrypted and recorded. */
  intercepted: number;
  /** CONNECTs piped unread (pass-through hosts, or no CA). */
  tunnelled: number;
  /** Clients that failed the TLS handshake with the proxy (most often: the reprise CA is not trusted). */
  clientTlsErrors: number;
  /** Leaf certificates signed (one per intercepted host while it stays cached). */
  certsIssued: number;
}

export interface ForwardProxy {
  readonly address: { host: string; port: number; url: string };
  readonly captureId: string;
  /** A snapshot: proxy counters plus the recorder's. */
  readonly stats: ForwardProxyStats;
  /** Graceful stop; resolves with the final stats once the store is flushed. Idempotent. */
  close(): Promise<ForwardProxyStats>;
}

/**
 * Start a recording forward proxy.
 *
 * @example
 * const recorder = await openRecorder('./store');
 * const proxy = await startForwardProxy({ listen: { host: '127.0.0.1', port: 8888 }, recorder, ca: await loadCa() });
 * // HTTPS_PROXY=http://127.0.0.1:8888 curl --cacert ~/.reprise/ca/ca.crt https://example.com/
 * await proxy.close();
 */
export async function startForwardProxy(options: ForwardProxyOptions): Promise<ForwardProxy> {
  const o = resolveForwardProxyOptions(options);
  const leaves = o.ca ? await LeafCertCache.open(o.ca, { maxHosts: o.maxLeafCerts, where: 'ca' }) : null;
  const server = new ForwardProxyServer(o, leaves);
  await server.listen();
  return server;
}

class ForwardCounters extends ProxyCounters {
  intercepted = 0;
  tunnelled = 0;
  clientTlsErrors = 0;
}

// As in the reverse proxy: idle clients are closed by them (or their load
// balancer, typically at 60 s) rather than by us mid-request.
const CLIENT_KEEP_ALIVE_MS = 65_000;
const CLIENT_HEADERS_TIMEOUT_MS = 66_000;

class ForwardProxyServer implements ForwardProxy, ForwardRelayContext, ConnectContext {
  readonly agent: Agent;
  readonly counters = new ForwardCounters();
  readonly tunnels = new Set<Duplex>();
  readonly recorder: ExchangeRecorder;
  readonly bodyCap: number;
  readonly captureId: string;
  readonly passThrough: (host: string) => boolean;
  readonly connectTimeoutMs: number;
  /** Trust for upstream TLS when `upstreamCa` is set; null: Node's defaults. */
  private readonly upstreamTls: SecureContext | null;
  closing = false;
  private readonly server: http.Server;
  private readonly inner: http.Server;
  private readonly connections = new WeakMap<Duplex, ForwardConnection | InterceptedConnection>();
  private nextConnection = 1;
  private bound: AddressInfo | null = null;
  private closed: Promise<ForwardProxyStats> | null = null;
  private onIdle: (() => void) | null = null;

  constructor(
    private readonly o: ResolvedForwardProxyOptions,
    readonly leaves: LeafCertCache | null,
  ) {
    this.recorder = o.recorder;
    this.bodyCap = o.bodyCap;
    this.captureId = o.captureId;
    this.passThrough = o.passThrough;
    this.connectTimeoutMs = Math.min(o.upstreamTimeoutMs, 10_000);
    // A `ca` option replaces Node's trust store, so the bundled roots go with
    // the extra CA; parsed once into one context, since a `ca` list passed to
    // each tls.connect() costs ~25 ms of parsing per new upstream connection.
    this.upstreamTls = o.upstreamCa ? createSecureContext({ ca: [...rootCertificates, o.upstreamCa] }) : null;
    this.agent = new Agent({
      connections: o.upstreamConnections,
      headersTimeout: o.upstreamTimeoutMs,
      bodyTimeout: o.upstreamTimeoutMs,
      connect: { timeout: this.connectTimeoutMs, ...(this.upstreamTls ? { secureContext: this.upstreamTls } : {}) },
    });
    const serverOptions = { keepAliveTimeout: CLIENT_KEEP_ALIVE_MS, headersTimeout: CLIENT_HEADERS_TIMEOUT_MS };
    this.server = http.createServer(serverOptions);
    this.server.on('connection', (socket: Socket) => {
      const client = socket.remoteAddress?.includes(':') ? `[${socket.remoteAddress}]:${socket.remotePort}` : `${socket.remoteAddress}:${socket.remotePort}`;
      this.connections.set(socket, { id: `c${this.nextConnection++}`, client, seq: 0, tls: false });
    });
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => this.handlePlain(req, res));
    this.server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.closing) return void socket.destroy();
      handleConnect(req, socket, head, this.connectionOf(req.socket), this);
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.handleUpgrade(req, socket, head, null));
    this.inner = http.createServer(serverOptions);
    this.inner.on('request', (req: IncomingMessage, res: ServerResponse) => this.handleIntercepted(req, res));
    this.inner.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.handleUpgrade(req, socket, head, this.connections.get(req.socket) as InterceptedConnection | undefined ?? null);
    });
  }

  get address(): ForwardProxy['address'] {
    const a = this.bound!;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return { host: a.address, port: a.port, url: `http://${host}:${a.port}` };
  }

  get stats(): ForwardProxyStats {
    return this.snapshot();
  }

  intercept(socket: Duplex, conn: InterceptedConnection, first?: Buffer): void {
    this.connections.set(socket, conn);
    this.inner.emit('connection', socket);
    // node:http reads a plain socket's handle directly, past anything unshift()ed
    // into its JS buffer; its 'data' listener feeds the parser, so the bytes
    // already read are handed over that way, before any further read.
    if (first) socket.emit('data', first);
  }

  settled(): void {
    if (this.counters.inFlight === 0) this.onIdle?.();
  }

  async listen(): Promise<void> {
    this.bound = await listenOrFail(this.server, this.o.listen, () => this.agent.destroy());
  }

  close(): Promise<ForwardProxyStats> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  /** A request to the proxy itself: absolute-form to relay, or the admin path. */
  private handlePlain(req: IncomingMessage, res: ServerResponse): void {
    let url = req.url ?? '';
    const target = absoluteFormTarget(url, this.passThrough);
    // A request for the proxy's own address would loop back in forever: it is answered here.
    if (target && !this.isSelf(target.upstream)) return relayForward(req, res, this.connectionOf(req.socket), target, this);
    if (target) url = target.path;
    if (this.o.adminPath !== null && url === this.o.adminPath && req.method === 'GET') return writeStatsResponse(res, this.stats);
    const text = 'reprise forward proxy: send absolute-form requests (http://host/path), e.g. set HTTP_PROXY to this address\n';
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  /** A request decrypted from (or sent plain inside) an intercepted tunnel. */
  private handleIntercepted(req: IncomingMessage, res: ServerResponse): void {
    const conn = this.connections.get(req.socket) as InterceptedConnection | undefined;
    if (!conn) return void res.destroy(); // only intercept() feeds this server
    relayForward(req, res, conn, tunnelRequestTarget(req, conn), this);
  }

  private handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, conn: InterceptedConnection | null): void {
    if (this.closing) return void socket.destroy();
    this.counters.upgrades++;
    relayRawUpgrade(req, socket, head, conn?.target ?? null, { tunnels: this.tunnels, secureContext: this.upstreamTls, timeoutMs: this.connectTimeoutMs, tls: conn?.tls ?? false });
  }

  private isSelf(hostPort: string): boolean {
    const port = this.bound?.port;
    const host = hostPort.slice(0, hostPort.lastIndexOf(':')).replace(/^\[|\]$/g, '').toLowerCase();
    return hostPort.endsWith(`:${port}`) && (host === this.bound?.address || host === 'localhost' || host === '127.0.0.1' || host === '::1');
  }

  private connectionOf(socket: Duplex): ForwardConnection {
    let conn = this.connections.get(socket);
    if (!conn) {
      conn = { id: `c${this.nextConnection++}`, client: 'unknown', seq: 0, tls: false };
      this.connections.set(socket, conn);
    }
    return conn;
  }

  private snapshot(recorder = this.o.recorder.stats): ForwardProxyStats {
    const c = this.counters;
    return { ...c.snapshot(recorder), intercepted: c.intercepted, tunnelled: c.tunnelled, clientTlsErrors: c.clientTlsErrors, certsIssued: this.leaves?.stats.issued ?? 0 };
  }

  private async shutdown(): Promise<ForwardProxyStats> {
    this.closing = true;
    const grace = this.o.shutdownTimeoutMs;
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    this.inner.closeIdleConnections();
    const drained = await this.waitForIdle(grace);
    this.server.closeAllConnections();
    this.inner.closeAllConnections();
    for (const socket of this.tunnels) socket.destroy();
    await serverClosed;
    if (drained) await this.agent.close();
    else await this.agent.destroy();
    const recorder = await this.o.recorder.close({ timeoutMs: grace });
    return this.snapshot(recorder);
  }

  /** Resolves true when no request is in flight, false if `ms` passed first. */
  private waitForIdle(ms: number): Promise<boolean> {
    if (this.counters.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.onIdle = null;
        resolve(false);
      }, ms);
      this.onIdle = () => {
        clearTimeout(timer);
        this.onIdle = null;
        resolve(true);
      };
    });
  }
}
