import { connect as netConnect, isIP, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { ForwardConnection } from './forward-relay.js';
import type { LeafCertCache } from './tls-leaf-cache.js';

/**
 * CONNECT host:port — the two ways a tunnel can go.
 *
 * Tunnel: connect to host:port, answer 200, pipe bytes both ways unread. For
 * pass-through hosts and when no CA was given. Nothing is recorded.
 *
 * Intercept: answer 200 at once, then look at the client's first byte. A TLS
 * handshake (0x16) is terminated here with a leaf certificate for the SNI
 * name (the CONNECT host when the client sends none, as for IP literals) and
 * the decrypted socket is handed to an internal node:http server; anything
 * else is taken as plain HTTP inside the tunnel. Either way each request is
 * then relayed to host:port like any other, and recorded.
 */

export interface ConnectTarget {
  /** Lower-cased host without brackets. */
  host: string;
  port: number;
  /** host:port, IPv6 bracketed. */
  authority: string;
}

/** A connection accepted by the internal server, and where its tunnel leads. */
export interface InterceptedConnection extends ForwardConnection {
  target: ConnectTarget;
}

export interface ConnectCounters {
  intercepted: number;
  tunnelled: number;
  tunnelsOpen: number;
  clientTlsErrors: number;
  upstreamErrors: Record<'refused' | 'reset' | 'timeout' | 'protocol' | 'other', number>;
}

export interface ConnectContext {
  readonly counters: ConnectCounters;
  /** null: no CA, so nothing is intercepted. */
  readonly leaves: LeafCertCache | null;
  readonly passThrough: (host: string) => boolean;
  /** Client and upstream sockets of open tunnels, destroyed on close(). */
  readonly tunnels: Set<Duplex>;
  readonly connectTimeoutMs: number;
  /** Hand a (decrypted) socket to the internal HTTP server; `first` is data already read from it. */
  intercept(socket: Duplex, conn: InterceptedConnection, first?: Buffer): void;
}

const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';
const TLS_HANDSHAKE = 0x16;

/** Handle one CONNECT request; `conn` is the client connection it came on. */
export function handleConnect(req: IncomingMessage, socket: Duplex, head: Buffer, conn: ForwardConnection, ctx: ConnectContext): void {
  const target = parseConnectTarget(req.url ?? '');
  if (!target) return refuse(socket, '400 Bad Request', `CONNECT target "${req.url ?? ''}" is not host:port`);
  socket.on('error', () => socket.destroy());
  if (ctx.leaves === null || ctx.passThrough(target.host)) tunnel(socket, head, target, ctx);
  else intercept(socket, head, target, conn, ctx.leaves, ctx);
}

/** `host:port` or `[v6]:port` → target; null when malformed (a name with odd characters included). */
export function parseConnectTarget(raw: string): ConnectTarget | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(raw);
  if (!m) return null;
  const host = (m[1] ?? m[2]!).toLowerCase();
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  if (m[1] !== undefined ? isIP(host) !== 6 : !isHostName(host)) return null;
  return { host, port, authority: m[1] !== undefined ? `[${host}]:${port}` : `${host}:${port}` };
}

/** A DNS name (letters, digits, - and _, dot-separated, ≤ 253) or an IPv4 literal: safe to put in a certificate. */
export function isHostName(host: string): boolean {
  return host.length <= 253 && /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i.test(host);
}

function tunnel(socket: Duplex, head: Buffer, target: ConnectTarget, ctx: ConnectContext): void {
  const upstream = netConnect({ host: target.host, port: target.port });
  ctx.tunnels.add(socket);
  ctx.tunnels.add(upstream);
  let open = false;
  upstream.setTimeout(ctx.connectTimeoutMs);
  upstream.once('timeout', () => upstream.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })));
  upstream.once('connect', () => {
    upstream.setTimeout(0); // a tunnel may idle for long; its ends decide when it is over
    open = true;
    ctx.counters.tunnelled++;
    ctx.counters.tunnelsOpen++;
    socket.write(ESTABLISHED);
    if (head.length > 0) upstream.write(head);
    socket.pipe(upstream);
    upstream.pipe(socket);
  });
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (open) return void socket.destroy();
    const kind = err.code === 'ECONNREFUSED' ? 'refused' : err.code === 'ETIMEDOUT' ? 'timeout' : 'other';
    ctx.counters.upstreamErrors[kind]++;
    refuse(socket, kind === 'timeout' ? '504 Gateway Timeout' : '502 Bad Gateway', `cannot reach ${target.authority}: ${err.message}`);
  });
  const closeBoth = (): void => {
    if (ctx.tunnels.delete(socket) && open) ctx.counters.tunnelsOpen--;
    ctx.tunnels.delete(upstream);
    if (open) socket.destroy(); // else the 502 is still being written; end() closes it
    upstream.destroy();
  };
  socket.once('close', closeBoth);
  upstream.once('close', closeBoth);
}

function intercept(socket: Duplex, head: Buffer, target: ConnectTarget, conn: ForwardConnection, leaves: LeafCertCache, ctx: ConnectContext): void {
  ctx.counters.intercepted++;
  // Tracked so close() can end it: node:http only knows the TLS socket on top.
  ctx.tunnels.add(socket);
  socket.once('close', () => ctx.tunnels.delete(socket));
  socket.write(ESTABLISHED);
  const start = (first: Buffer): void => {
    if (first[0] !== TLS_HANDSHAKE) {
      // Plain HTTP inside the tunnel (ws://, or undici's ProxyAgent, which tunnels http:// too).
      ctx.intercept(socket, { ...conn, seq: 0, tls: false, target }, first);
      return;
    }
    // Back into the socket's buffer: a new TLSSocket hands buffered bytes to TLS before its first read.
    socket.unshift(first);
    leaves.contextFor(target.host).then((secureContext) => {
      if (socket.destroyed) return;
      const tls = new TLSSocket(socket as Socket, {
        isServer: true,
        secureContext,
        // node:http parses the decrypted bytes, so only HTTP/1.1 is offered.
        ALPNProtocols: ['http/1.1'],
        SNICallback: (servername, cb) => {
          const name = servername.toLowerCase();
          if (name === target.host || !isHostName(name)) return cb(null, secureContext);
          leaves.contextFor(name).then((c) => cb(null, c), (err: Error) => cb(err));
        },
      });
      let secured = false;
      tls.once('secure', () => (secured = true));
      tls.on('error', () => {
        // Before 'secure' this is a failed handshake, usually a client that does not trust the CA.
        if (!secured) ctx.counters.clientTlsErrors++;
        tls.destroy();
      });
      ctx.intercept(tls, { ...conn, seq: 0, tls: true, target });
    }, () => socket.destroy());
  };
  if (head.length > 0) return start(head);
  socket.once('data', (chunk: Buffer) => {
    socket.pause();
    start(chunk);
  });
}

function refuse(socket: Duplex, status: string, message: string): void {
  const body = `reprise proxy: ${message}\n`;
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
