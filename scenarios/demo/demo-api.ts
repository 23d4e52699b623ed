import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

/**
 * The bundled demo API, in two releases, for `npm run demo`, the example
 * scenarios and their tests. A small shop: log in for a token, list and read
 * users and orders, place an order. Every answer carries realistic noise
 * (Date, a request id, a server timestamp, a random trace id) so a diff has
 * something to cancel, and v2 differs from v1 in known ways a diff must find:
 *
 *  - GET /api/users/:id → `id` is a string ("42") instead of a number (type change, high risk)
 *  - GET /api/users/:id → the `email` field is removed (missing field, high risk)
 *  - GET /api/orders → `items` come back in reverse order (order change)
 *  - GET /api/orders/:id → an unknown order is 500 instead of 404 (status change, high risk)
 *  - every response carries a new `X-Api-Version: 2` header (added header, low risk)
 *  - GET /api/users → a new `total` field (added field, low risk)
 *
 * Authenticated endpoints need the bearer token POST /api/login issued; tokens
 * are random per server, so a replay works only with correlation.
 */

export type DemoVersion = 1 | 2;

export interface DemoApi {
  url: string;
  version: DemoVersion;
  /** Requests served, by "METHOD /path-template". */
  served: Map<string, number>;
  close(): Promise<void>;
}

export interface DemoApiOptions {
  version: DemoVersion;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Extra latency per request (ms), to make latency charts less flat. */
  latencyMs?: number;
  /** Bearer tokens accepted without a login (a staging test account's service token). */
  staticTokens?: string[];
}

const USERS = Array.from({ length: 50 }, (_, i) => ({
  id: i + 1,
  name: ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Dennis', 'Margaret'][i % 8]! + ` ${i + 1}`,
  email: `user${i + 1}@example.com`,
  plan: i % 3 === 0 ? 'pro' : 'free',
}));

const ORDERS = Array.from({ length: 30 }, (_, i) => ({
  id: 1000 + i,
  userId: (i % 50) + 1,
  items: [
    { sku: `SKU-${(i * 7) % 97}`, qty: 1 + (i % 3) },
    { sku: `SKU-${(i * 11) % 89}`, qty: 1 },
    { sku: `SKU-${(i * 13) % 83}`, qty: 2 },
  ],
  total: Math.round((19.99 + i * 3.5) * 100) / 100,
}));

export async function startDemoApi(options: DemoApiOptions): Promise<DemoApi> {
  const { version } = options;
  const tokens = new Set<string>(options.staticTokens);
  const served = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = (): void => handle(req, res, Buffer.concat(chunks), { version, tokens, served });
      if (options.latencyMs) setTimeout(answer, options.latencyMs * (0.5 + Math.random()));
      else answer();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    version,
    served,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

interface State {
  version: DemoVersion;
  tokens: Set<string>;
  served: Map<string, number>;
}

function handle(req: IncomingMessage, res: ServerResponse, body: Buffer, s: State): void {
  const url = new URL(req.url ?? '/', 'http://demo');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  const count = (template: string): void => void s.served.set(`${method} ${template}`, (s.served.get(`${method} ${template}`) ?? 0) + 1);
  const send = (status: number, payload: unknown, extra: Record<string, string> = {}): void => {
    const json = JSON.stringify(payload);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'X-Request-Id': randomUUID(),
      ...(s.version === 2 && { 'X-Api-Version': '2' }),
      ...extra,
    });
    res.end(json);
  };
  const meta = (): Record<string, unknown> => ({ servedAt: new Date().toISOString(), traceId: randomBytes(8).toString('hex') });

  if (path === '/health') {
    count('/health');
    return send(200, { ok: true, ...meta() });
  }
  if (path === '/api/login' && method === 'POST') {
    count('/api/login');
    let user = '';
    try {
      user = String((JSON.parse(body.toString('utf8')) as { user?: unknown }).user ?? '');
    } catch {
      return send(400, { error: 'body must be JSON: {"user": "...", "password": "..."}' });
    }
    if (!user) return send(400, { error: 'user is required' });
    const token = randomBytes(16).toString('hex');
    s.tokens.add(token);
    return send(200, { token, expiresIn: 3600, ...meta() });
  }
  if (!path.startsWith('/api/')) {
    count('(not found)');
    return send(404, { error: 'not found' });
  }
  const auth = req.headers.authorization ?? '';
  if (!auth.startsWith('Bearer ') || !s.tokens.has(auth.slice(7))) {
    count('(unauthorized)');
    return send(401, { error: 'missing or unknown bearer token' }, { 'WWW-Authenticate': 'Bearer' });
  }
  let m: RegExpExecArray | null;
  if (path === '/api/users' && method === 'GET') {
    count('/api/users/');
    const page = USERS.slice(0, 10).map((u) => ({ id: u.id, name: u.name }));
    return send(200, { users: page, ...(s.version === 2 && { total: USERS.length }), ...meta() });
  }
  if ((m = /^\/api\/users\/(\d+)$/.exec(path)) && method === 'GET') {
    count('/api/users/:id');
    const u = USERS.find((x) => x.id === Number(m![1]));
    if (!u) return send(404, { error: 'no such user' });
    const user = s.version === 1 ? u : { id: String(u.id), name: u.name, plan: u.plan };
    return send(200, { user, ...meta() });
  }
  if (path === '/api/orders' && method === 'GET') {
    count('/api/orders');
    const orders = ORDERS.slice(0, 5).map((o) => ({ ...o, items: s.version === 1 ? o.items : [...o.items].reverse() }));
    return send(200, { orders, ...meta() });
  }
  if ((m = /^\/api\/orders\/(\d+)$/.exec(path)) && method === 'GET') {
    count('/api/orders/:id');
    const o = ORDERS.find((x) => x.id === Number(m![1]));
    if (!o) return s.version === 1 ? send(404, { error: 'no such order' }) : send(500, { error: 'internal error', ...meta() });
    return send(200, { order: o, ...meta() });
  }
  if (path === '/api/orders' && method === 'POST') {
    count('/api/orders (POST)');
    return send(201, { id: 2000 + Math.floor(Math.random() * 1e6), status: 'placed', ...meta() }, { Location: `/api/orders/${2000 + ORDERS.length}` });
  }
  count('(not found)');
  return send(404, { error: 'not found' });
}

/** The demo workload: a login, then a browsing session, as request paths with methods. */
export function demoWorkload(requests: number): Array<{ method: string; path: string; body?: string }> {
  const out: Array<{ method: string; path: string; body?: string }> = [];
  const pick = [
    (i: number) => ({ method: 'GET', path: `/api/users/${(i * 7) % 50 + 1}` }),
    () => ({ method: 'GET', path: '/api/users' }),
    () => ({ method: 'GET', path: '/api/orders' }),
    (i: number) => ({ method: 'GET', path: `/api/orders/${1000 + ((i * 3) % 34)}` }), // a few unknown orders (404 in v1)
    () => ({ method: 'GET', path: '/health' }),
  ];
  for (let i = 0; out.length < requests; i++) {
    if (i % 25 === 0) out.push({ method: 'POST', path: '/api/login', body: JSON.stringify({ user: `user${(i % 50) + 1}@example.com`, password: 'correct horse battery staple' }) });
    else out.push(pick[i % pick.length]!(i));
  }
  return out.slice(0, requests);
}
