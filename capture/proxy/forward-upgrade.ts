import type { IncomingMessage } from 'node:http';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type SecureContext } from 'node:tls';
import type { ConnectTarget } from './forward-connect.js';

/**
 * Upgrade requests (WebSocket) at the forward proxy: the handshake is written
 * to a fresh upstream connection as received (Proxy-* fields aside) and the
 * two sockets are then piped, so the upstream's 101 — or its refusal — and
 * every frame after it reach the client unchanged. Nothing is recorded: the
 * forward proxy records request/response exchanges, and an upgraded stream
 * is neither (the reverse proxy records the handshake; see upgrade-tunnel.ts).
 */

export interface RawUpgradeOptions {
  tunnels: Set<Duplex>;
  /** Upstream trust (Node's roots plus upstreamCa); null: Node's defaults. */
  secureContext: SecureContext | null;
  timeoutMs: number;
  /** The request arrived inside an intercepted TLS tunnel: go to the upstream over TLS. */
  tls: boolean;
}

/** Relay one upgrade; `target` is the tunnel's destination, null for an absolute-form request. */
export function relayRawUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, target: ConnectTarget | null, o: RawUpgradeOptions): void {
  const dest = target ? { host: target.host, port: target.port, path: req.url ?? '/', tls: o.tls } : parseAbsolute(req.url ?? '');
  client.on('error', () => client.destroy());
  if (!dest) {
    client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  const upstream: Socket = dest.tls
    ? tlsConnect({ host: dest.host, port: dest.port, ...(isIP(dest.host) ? {} : { servername: dest.host }), ...(o.secureContext ? { secureContext: o.secureContext } : {}), ALPNProtocols: ['http/1.1'] })
    : netConnect({ host: dest.host, port: dest.port });
  o.tunnels.add(client);
  o.tunnels.add(upstream);
  let open = false;
  upstream.setTimeout(o.timeoutMs);
  upstream.once('timeout', () => upstream.destroy(new Error('upstream timed out')));
  upstream.once(dest.tls ? 'secureConnect' : 'connect', () => {
    open = true;
    upstream.setTimeout(0);
    const lines = [`${req.method} ${dest.path} HTTP/${req.httpVersion}`];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      if (!req.rawHeaders[i]!.toLowerCase().startsWith('proxy-')) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    }
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  upstream.on('error', () => {
    if (!open) client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    else client.destroy();
  });
  const closeBoth = (): void => {
    o.tunnels.delete(client);
    o.tunnels.delete(upstream);
    if (open) client.destroy(); // else the 502 is still being written; end() closes it
    upstream.destroy();
  };
  client.once('close', closeBoth);
  upstream.once('close', closeBoth);
}

function parseAbsolute(url: string): { host: string; port: number; path: string; tls: boolean } | null {
  const m = /^(https?|wss?):\/\/(?:\[([0-9a-f:.]+)\]|([^:/?#@[\]]+))(?::(\d+))?([^#]*)/i.exec(url);
  if (!m) return null;
  const tls = /^(https|wss)$/i.test(m[1]!);
  const rest = m[5] ?? '';
  return { host: (m[2] ?? m[3]!).toLowerCase(), port: m[4] ? Number(m[4]) : tls ? 443 : 80, path: rest.startsWith('/') ? rest : `/${rest}`, tls };
}
