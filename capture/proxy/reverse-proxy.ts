import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOrFail } from './proxy-listen.js';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Pool } from 'undici';
import { RepriseError } from '../../errors.js';
import { ProxyCounters, writeStatsResponse, type ProxyStats } from './proxy-stats.js';
import { resolveReverseProxyOptions, type ResolvedReverseProxyOptions, type ReverseProxyOptions } from './reverse-proxy-options.js';
import { relayRequest, type ClientConnection, type RelayContext } from './reverse-relay.js';
import { relayUpgrade } from './upgrade-tunnel.js';

/**
 * The recording reverse proxy: an HTTP/1.1 server in front of one upstream.
 * Requests go through an undici keep-alive pool and responses stream back
 * unchanged but for hop-by-hop headers (see reverse-relay.ts); each finished
 * exchange is offered to the recorder, which samples, redacts and writes it
 * off the hot path.
 *
 * Lifecycle of close(): stop accepting → idle client connections closed →
 * in-flight requests finish (their responses ask the client to close) up to
 * `shutdownTimeoutMs` → remaining connections and tunnels destroyed → the
 * upstream pool closed → the recorder flushed and the store sealed.
 */

export type { ReverseProxyOptions } from './reverse-proxy-options.js';
export type { ProxyStats } from './proxy-stats.js';

export interface ReverseProxy {
  /** Where the proxy listens (the real port when 0 was asked for). */
  readonly address: { host: string; port: number; url: string };
  readonly captureId: string;
  /** A snapshot: proxy counters plus the recorder's. */
  readonly stats: ProxyStats;
  /** Graceful stop; resolves with the final stats once the store is flushed. Idempotent. */
  close(): Promise<ProxyStats>;
}

// Longer than the 60 s idle timeout of common load balancers (AWS ALB, GCP),
// so the balancer — not the proxy — closes idle connections and never sends a
// request on a socket the proxy is closing at that moment. Node requires
// headersTimeout above keepAliveTimeout for the same race.
const CLIENT_KEEP_ALIVE_MS = 65_000;
const CLIENT_HEADERS_TIMEOUT_MS = 66_000;

/**
 * Start a recording reverse proxy.
 *
 * @example
 * const recorder = await openRecorder('./store');
 * const proxy = await startReverseProxy({ listen: { host: '127.0.0.1', port: 8080 }, upstream: 'http://127.0.0.1:3000', recorder });
 * // … traffic …
 * const stats = await proxy.close(); // store flushed
 */
export async function startReverseProxy(options: ReverseProxyOptions): Promise<ReverseProxy> {
  const server = new ReverseProxyServer(resolveReverseProxyOptions(options));
  await server.listen();
  return server;
}

class ReverseProxyServer implements ReverseProxy, RelayContext {
  readonly options: ResolvedReverseProxyOptions;
  readonly dispatcher: Pool;
  readonly counters = new ProxyCounters();
  readonly tunnels = new Set<Duplex>();
  closing = false;
  private readonly server: http.Server;
  private readonly connections = new WeakMap<Socket, ClientConnection>();
  private nextConnection = 1;
  private closed: Promise<ProxyStats> | null = null;
  private onIdle: (() => void) | null = null;
  private bound: AddressInfo | null = null;

  constructor(options: ResolvedReverseProxyOptions) {
    this.options = options;
    const timeout = options.upstreamTimeoutMs;
    this.dispatcher = new Pool(options.upstream.origin, {
      connections: options.upstreamConnections,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      connectTimeout: Math.min(timeout, 10_000),
    });
    this.server = http.createServer({ keepAliveTimeout: CLIENT_KEEP_ALIVE_MS, headersTimeout: CLIENT_HEADERS_TIMEOUT_MS });
    this.server.on('connection', (socket: Socket) => {
      const client = socket.remoteAddress?.includes(':') ? `[${socket.remoteAddress}]:${socket.remotePort}` : `${socket.remoteAddress}:${socket.remotePort}`;
      this.connections.set(socket, { id: `c${this.nextConnection++}`, client, seq: 0 });
    });
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.closing) return void socket.destroy();
      relayUpgrade(req, socket, head, this.connectionOf(req), this);
    });
  }

  get captureId(): string {
    return this.options.captureId;
  }

  get address(): ReverseProxy['address'] {
    const a = this.bound!;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return { host: a.address, port: a.port, url: `http://${host}:${a.port}` };
  }

  get stats(): ProxyStats {
    return this.counters.snapshot(this.options.recorder.stats);
  }

  settled(): void {
    if (this.counters.inFlight === 0) this.onIdle?.();
  }

  async listen(): Promise<void> {
    this.bound = await listenOrFail(this.server, this.options.listen, () => this.dispatcher.destroy());
  }

  close(): Promise<ProxyStats> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.options.adminPath !== null && req.url === this.options.adminPath && req.method === 'GET') {
      writeStatsResponse(res, this.stats);
      return;
    }
    relayRequest(req, res, this.connectionOf(req), this);
  }

  private connectionOf(req: IncomingMessage): ClientConnection {
    let conn = this.connections.get(req.socket);
    if (!conn) {
      // Not seen by 'connection' (cannot happen with node:http, but never crash on it).
      conn = { id: `c${this.nextConnection++}`, client: `${req.socket.remoteAddress}:${req.socket.remotePort}`, seq: 0 };
      this.connections.set(req.socket, conn);
    }
    return conn;
  }

  private async shutdown(): Promise<ProxyStats> {
    this.closing = true;
    const grace = this.options.shutdownTimeoutMs;
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const drained = await this.waitForIdle(grace);
    this.server.closeAllConnections();
    for (const socket of this.tunnels) socket.destroy();
    await serverClosed;
    if (drained) await this.dispatcher.close();
    else await this.dispatcher.destroy();
    const recorder = await this.options.recorder.close({ timeoutMs: grace });
    return this.counters.snapshot(recorder);
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
