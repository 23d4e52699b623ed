import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Exchange, Header } from '../../store/exchange.js';
import { newExchangeId } from '../../store/exchange-id.js';
import { readExchanges } from '../../store/segment-reader.js';
import { writeExchanges } from '../../store/write-exchanges.js';
import { runReplay } from '../../replay/run-replay.js';
import { validatePipeline } from '../../transform/config/load-pipeline.js';
import { extractVariables } from '../../transform/correlate/extraction-rules.js';
import { replayAnnotations } from '../../transform/exchange-editor.js';
import { applyVariables } from '../../transform/templates/resolve-templates.js';
import { transformStore } from '../../transform/transform-store.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * Correlation end to end on loopback: a real server that issues a random token
 * per login and a random id per order; a flow recorded against one instance,
 * replayed against a fresh one (different tokens) with and without correlation.
 */

function startServer(): Promise<{ server: Server; origin: string }> {
  const tokens = new Set<string>();
  const orders = new Map<string, { item: string }>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const send = (status: number, value: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(value));
      };
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'POST' && url.pathname === '/login') {
        const token = randomBytes(16).toString('hex');
        tokens.add(token);
        return send(200, { token, expiresIn: 3600 });
      }
      const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      if (!auth || !tokens.has(auth[1]!)) return send(401, { error: 'unauthorized' });
      if (req.method === 'GET' && url.pathname === '/me') return send(200, { name: 'Ada', plan: 'pro' });
      if (req.method === 'GET' && url.pathname === '/orders') return send(200, { orders: [...orders.keys()] });
      if (req.method === 'POST' && url.pathname === '/orders') {
        const id = `ord_${randomBytes(6).toString('hex')}`;
        orders.set(id, JSON.parse(body) as { item: string });
        return send(201, { id, status: 'created' }, { location: `/orders/${id}` });
      }
      const m = /^\/orders\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'GET' && m) return orders.has(m[1]!) ? send(200, { id: m[1], ...orders.get(m[1]!) }) : send(404, { error: 'no such order' });
      return send(404, { error: 'not found' });
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

let agent: Agent;
const servers: Server[] = [];
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  agent = new Agent({ keepAliveTimeout: 10, keepAliveMaxTimeout: 10 });
  tmp = await makeTempDir('reprise-corr-');
});
afterEach(async () => {
  await agent.close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await tmp.cleanup();
});

interface Sent {
  status: number;
  headers: Header[];
  text: string;
}

async function send(origin: string, method: string, path: string, headers: Header[], body?: string): Promise<Sent> {
  const res = await request(`${origin}${path}`, { method: method as 'GET', headers: headers.flat(), body: body ?? null, dispatcher: agent });
  const text = await res.body.text();
  const pairs: Header[] = [];
  for (const [n, v] of Object.entries(res.headers)) for (const x of Array.isArray(v) ? v : [v ?? '']) pairs.push([n, x]);
  return { status: res.statusCode, headers: pairs, text };
}

/** A recording client: makes real requests and keeps each one as an Exchange, as a capture would. */
async function recordFlow(origin: string): Promise<Exchange[]> {
  const out: Exchange[] = [];
  const authority = origin.slice('http://'.length);
  const call = async (method: string, path: string, headers: Header[], body?: string): Promise<Sent> => {
    const t0 = Date.now();
    const r = await send(origin, method, path, headers, body);
    const [p, q = ''] = path.split('?') as [string, string?];
    out.push({
      v: 1,
      id: newExchangeId(t0),
      start: t0 * 1000,
      duration: (Date.now() - t0) * 1000,
      source: { kind: 'synthetic', captureId: 'loopback', connection: 'client-1', seq: out.length },
      request: { method, scheme: 'http', authority, path: p, query: q, httpVersion: '1.1', headers: [['host', authority], ...headers], body: body ? { encoding: 'utf8', data: body, size: Buffer.byteLength(body) } : null },
      response: { status: r.status, httpVersion: '1.1', headers: r.headers, body: r.text ? { encoding: 'utf8', data: r.text, size: Buffer.byteLength(r.text) } : null },
    });
    return r;
  };
  const login = await call('POST', '/login', [['content-type', 'application/json']], '{"user":"ada","password":"pw"}');
  const auth: Header = ['authorization', `Bearer ${(JSON.parse(login.text) as { token: string }).token}`];
  await call('GET', '/me', [auth]);
  await call('GET', '/orders', [auth]);
  const created = await call('POST', '/orders', [auth, ['content-type', 'application/json']], '{"item":"socks"}');
  await call('GET', `/orders/${(JSON.parse(created.text) as { id: string }).id}?expand=items`, [auth]);
  await call('GET', '/me', [auth]);
  expect(out.map((x) => x.response!.status)).toEqual([200, 200, 200, 201, 200, 200]);
  return out;
}

/** The minimal sequential sender the replay engine will replace: fill variables, send, extract. */
async function replay(exchanges: Exchange[], origin: string): Promise<number[]> {
  const vars: Record<string, string> = {};
  const statuses: number[] = [];
  for (const recorded of exchanges) {
    const ex = applyVariables(recorded, vars);
    const path = ex.request.query ? `${ex.request.path}?${ex.request.query}` : ex.request.path;
    const headers = ex.request.headers.filter(([n]) => !['host', 'content-length', 'connection'].includes(n.toLowerCase()));
    const r = await send(origin, ex.request.method, path, headers, ex.request.body?.data);
    statuses.push(r.status);
    extractVariables(replayAnnotations(recorded).extract, { status: r.status, headers: r.headers, body: r.text }, vars);
  }
  return statuses;
}

async function readAll(store: string): Promise<Exchange[]> {
  const out: Exchange[] = [];
  for await (const x of readExchanges(store)) out.push(x);
  return out;
}

describe('correlation on loopback', () => {
  it('a recorded login → token → authenticated flow replays against a server issuing different tokens', async () => {
    const first = await startServer();
    servers.push(first.server);
    const recorded = join(tmp.dir, 'recorded');
    await writeExchanges(await recordFlow(first.origin), recorded);

    const correlated = join(tmp.dir, 'correlated');
    const summary = await transformStore(recorded, correlated, validatePipeline({ steps: [{ type: 'correlate' }] }));
    expect(summary.explanation).toMatch(/corr\.login_token ← POST \/login response json \$\.token .* → request\.headers\.authorization ×5/);
    expect(summary.explanation).toMatch(/corr\.orders_id ← POST \/orders .* → request\.path ×1/);

    const fresh = await startServer(); // a new instance: none of the recorded tokens or ids exist there
    servers.push(fresh.server);
    const transformed = await readAll(correlated);
    expect(await replay(transformed, fresh.origin)).toEqual([200, 200, 200, 201, 200, 200]);

    // The same replay without correlation: the recorded token is unknown to the fresh server.
    expect(await replay(await readAll(recorded), fresh.origin)).toEqual([200, 401, 401, 401, 401, 401]);
  });

  it('the same flow through the replay engine (scheduler, undici dispatch, live extraction): 2xx with correlation, 401 without', async () => {
    const first = await startServer();
    servers.push(first.server);
    const recorded = join(tmp.dir, 'recorded');
    const flow = await recordFlow(first.origin);
    await writeExchanges(flow, recorded);
    const correlated = join(tmp.dir, 'correlated');
    await transformStore(recorded, correlated, validatePipeline({ steps: [{ type: 'correlate' }] }));

    const statusesOf = async (store: string): Promise<Array<number | null>> => {
      const fresh = await startServer(); // none of the recorded tokens or ids exist there
      servers.push(fresh.server);
      const byId = new Map<string, number | null>();
      // Recorded and replayed on 127.0.0.1 (other ports): allowRecordedHost, or the safety check refuses the target.
      // Connection fidelity: a session's requests go in order, each after the response it may need a value
      // from (without it the open-model schedule sends the next call before the login's live token arrived).
      await runReplay({ store, target: fresh.origin, allowRecordedHost: true, connectionFidelity: true, onResult: (r) => byId.set(r.exchangeId, r.status) });
      return flow.map((x) => byId.get(x.id) ?? null);
    };
    expect(await statusesOf(correlated)).toEqual([200, 200, 200, 201, 200, 200]);
    expect(await statusesOf(recorded)).toEqual([200, 401, 401, 401, 401, 401]);
  });
});
