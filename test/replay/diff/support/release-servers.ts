import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { Exchange } from '../../../../store/exchange.js';
import { newExchangeId } from '../../../../store/exchange-id.js';
import { openStoreWriter } from '../../../../store/segment-writer.js';

/**
 * Two releases of one small JSON service, real node:http servers on
 * 127.0.0.1. Release B differs from A in known, planted ways:
 *   GET /users/:id   `id` turns from number to string        (type, high)
 *   GET /orders/:id  `discount` is removed                    (missing, high)
 *   GET /catalog     `categories` comes back reordered         (order, medium)
 *   GET /health      503 instead of 200, `status` value changes (status high + value medium)
 *   every endpoint   a new `x-api-version` header              (extra, low)
 * Both releases add the same noise to every response: `generatedAt` (ISO
 * time), `requestId` (UUID), `trace` (generated token), `servedAtMs` (epoch
 * ms), an `x-request-id` header, a session cookie, and Node's Date header.
 * Responses to /catalog are gzip-encoded, so decoding is on the path too.
 */

export type Release = 'A' | 'B';

export interface RunningRelease {
  url: string;
  /** Requests received, by method: the test checks side-effecting ones never arrive. */
  methods: Map<string, number>;
  /** Authorization header values received (to check --set-header). */
  authorizations: Set<string>;
  close(): Promise<void>;
}

/**
 * `shapelessNoise` adds a random integer (`nonce`) to every body: noise no
 * shape detector can recognise, which only a second baseline measures away.
 */
export async function startRelease(release: Release, options: { shapelessNoise?: boolean } = {}): Promise<RunningRelease> {
  const methods = new Map<string, number>();
  const authorizations = new Set<string>();
  const server = createServer((req, res) => {
    methods.set(req.method ?? '', (methods.get(req.method ?? '') ?? 0) + 1);
    if (req.headers.authorization) authorizations.add(req.headers.authorization);
    handle(release, req, res, options.shapelessNoise === true);
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, methods, authorizations, close: () => closeServer(server) };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function handle(release: Release, req: IncomingMessage, res: ServerResponse, shapelessNoise: boolean): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const noise: Record<string, unknown> = {
    generatedAt: new Date().toISOString(),
    requestId: randomUUID(),
    trace: `tr_${randomBytes(12).toString('hex')}`,
    servedAtMs: Date.now(),
  };
  if (shapelessNoise) noise.nonce = Math.floor(Math.random() * 1_000_000);
  res.setHeader('x-request-id', randomUUID());
  res.setHeader('set-cookie', `sid=${randomBytes(8).toString('hex')}; Path=/; HttpOnly`);
  if (release === 'B') res.setHeader('x-api-version', '2');
  const user = /^\/users\/(\d+)$/.exec(url.pathname);
  const order = /^\/orders\/(\d+)$/.exec(url.pathname);
  if (user) {
    const id = Number(user[1]);
    return json(res, 200, { id: release === 'A' ? id : String(id), name: `user ${id}`, plan: id % 2 === 0 ? 'pro' : 'free', ...noise });
  }
  if (order) {
    const id = Number(order[1]);
    const body: Record<string, unknown> = { id, total: 100 + id, currency: 'EUR', lines: [{ sku: `SKU-${id}`, qty: 1 }], ...noise };
    if (release === 'A') body.discount = id % 3;
    return json(res, 200, body);
  }
  if (url.pathname === '/catalog') {
    const categories = release === 'A' ? ['books', 'music', 'games', 'tools'] : ['tools', 'books', 'games', 'music'];
    const text = JSON.stringify({ categories, page: Number(url.searchParams.get('page') ?? 1), ...noise });
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    res.end(gzipSync(text));
    return;
  }
  if (url.pathname === '/health') {
    return release === 'A' ? json(res, 200, { status: 'ok', ...noise }) : json(res, 503, { status: 'degraded', ...noise });
  }
  json(res, 404, { error: 'not found' });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

/** Endpoints and how many recorded requests each gets. */
export const RECORDED_GETS = [
  ...Array.from({ length: 12 }, (_, i) => `/users/${i + 1}`),
  ...Array.from({ length: 12 }, (_, i) => `/orders/${i + 1}`),
  ...Array.from({ length: 12 }, (_, i) => `/catalog?page=${i + 1}`),
  ...Array.from({ length: 12 }, () => '/health'),
];

/** A store of recorded traffic for the service: the GETs above plus POSTs that must never be sent. */
export async function writeRecordedStore(dir: string): Promise<string> {
  const w = await openStoreWriter(dir);
  const t0 = Date.UTC(2026, 10, 23, 9) * 1000;
  const all = [...RECORDED_GETS.map((p) => ['GET', p] as const), ['POST', '/orders'] as const, ['DELETE', '/users/3'] as const];
  for (let i = 0; i < all.length; i++) {
    const [method, target] = all[i]!;
    const [path, query = ''] = target.split('?');
    const ex: Exchange = {
      v: 1,
      id: newExchangeId(t0 / 1000 + i),
      start: t0 + i * 1000,
      duration: 2000,
      source: { kind: 'synthetic', captureId: 'diff-test' },
      request: {
        method,
        scheme: 'http',
        authority: 'shop.example.test',
        path: path!,
        query,
        httpVersion: '1.1',
        headers: [['Host', 'shop.example.test'], ['Accept', 'application/json'], ['Accept-Encoding', 'gzip'], ['Authorization', '[redacted]']],
        body: method === 'POST' ? { encoding: 'utf8', data: '{"sku":"SKU-1"}', size: 15 } : null,
      },
      response: { status: 200, httpVersion: '1.1', headers: [['Content-Type', 'application/json']], body: null },
    };
    await w.write(ex);
  }
  await w.close();
  return dir;
}
