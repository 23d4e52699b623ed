import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Exchange, Header } from '../../store/exchange.js';
import { newExchangeId } from '../../store/exchange-id.js';
import { openStoreWriter } from '../../store/segment-writer.js';

/**
 * Fixtures for the replay suites, built in code: a recording of `n`
 * requests `gapUs` apart, recorded from `api.recorded.test` (a production
 * host the loopback target is not), with what makes byte-equality hard —
 * header case, duplicates, odd order, hop-by-hop headers that must go,
 * query strings kept raw, JSON and binary bodies, several connections.
 */

export const RECORDED_AUTHORITY = 'api.recorded.test:8443';
const T0 = Date.UTC(2026, 10, 23, 8, 0, 0) * 1000;

export function fixtureExchange(i: number, gapUs: number): Exchange {
  const kind = i % 5;
  const method = kind === 3 ? 'POST' : kind === 4 ? 'PUT' : 'GET';
  const headers: Header[] = [
    ['Host', RECORDED_AUTHORITY],
    ['User-Agent', 'fixture/1.0'],
    ['accept', 'application/json'],
    ['X-Trace', `t-${i}`],
    ['X-Dup', 'one'],
    ['X-Dup', 'two'],
    ['Connection', 'keep-alive, X-Conn-Only'],
    ['X-Conn-Only', 'dropped as hop-by-hop'],
  ];
  let body: Exchange['request']['body'] = null;
  if (kind === 3) {
    const text = JSON.stringify({ item: i, note: 'ünïcode ✓' });
    headers.push(['Content-Type', 'application/json'], ['Content-Length', String(Buffer.byteLength(text))]);
    body = { encoding: 'utf8', data: text, size: Buffer.byteLength(text) };
  } else if (kind === 4) {
    const bytes = Buffer.from([0, 255, 1, 254, i & 255, 0x80, 0x81]);
    headers.push(['Content-Type', 'application/octet-stream'], ['Content-Length', String(bytes.length)]);
    body = { encoding: 'base64', data: bytes.toString('base64'), size: bytes.length };
  }
  const start = T0 + i * gapUs;
  return {
    v: 1,
    id: newExchangeId(Math.floor(start / 1000)),
    start,
    duration: 2000,
    source: { kind: 'synthetic', captureId: 'fixture', connection: `c${i % 4}`, seq: Math.floor(i / 4) },
    request: {
      method,
      scheme: 'https',
      authority: RECORDED_AUTHORITY,
      path: kind === 0 ? `/users/${1000 + i}` : kind === 1 ? '/search' : `/items/${i}`,
      query: kind === 1 ? `q=a%20b&seq=${i}&q=dup` : `seq=${i}`,
      httpVersion: '1.1',
      headers,
      body,
    },
    response: { status: 200, httpVersion: '1.1', headers: [['Content-Type', 'text/plain']], body: { encoding: 'utf8', data: 'ok', size: 2 } },
  };
}

/** A sealed store of `n` fixture exchanges `gapUs` apart at `dir/name`. */
export async function writeFixtureStore(dir: string, n: number, gapUs: number, name = 'recorded', make = fixtureExchange): Promise<string> {
  const store = join(dir, name);
  const w = await openStoreWriter(store, { flushIntervalMs: 50 });
  for (let i = 0; i < n; i++) await w.write(make(i, gapUs));
  await w.close();
  return store;
}

export interface TestTarget {
  url: string;
  server: http.Server;
  close(): Promise<void>;
}

/** A node:http target on 127.0.0.1:0 that reads the body and lets `handler` answer. */
export async function startTarget(handler: (req: IncomingMessage, res: ServerResponse) => void = (_q, res) => res.end('ok')): Promise<TestTarget> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(req, res));
  });
  server.keepAliveTimeout = 5_000; // Node's default; undici discards a socket whose server-announced keep-alive is within its threshold
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Counts per whole second of a list of µs times. */
export function perSecond(timesUs: readonly number[]): number[] {
  const out: number[] = [];
  for (const t of timesUs) {
    const s = Math.floor(t / 1e6);
    while (out.length <= s) out.push(0);
    out[s]!++;
  }
  return out;
}
