import { createHash } from 'node:crypto';
import type { Exchange } from '../store/exchange.js';
import { newExchangeId } from '../store/exchange-id.js';

/**
 * Exchanges for the transform benchmark, shaped so that every step has work:
 * 256 connections (sessions), each logging in every 500 requests (a JSON
 * token the following requests send as a Bearer token: correlate learns it),
 * emails and user ids in response bodies, card numbers in some POST bodies,
 * passwords in login bodies, Date-like headers, and a few health checks and
 * static assets for the filter. Deterministic: the same `i` gives the same
 * record (ids and times included), so a learning pass sees what the next does.
 */
const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);
const CONNS = 256;
const tokens = new Map<string, string>();

function tokenFor(conn: number, epoch: number): string {
  const key = `${conn}:${epoch}`;
  let t = tokens.get(key);
  if (!t) {
    t = createHash('sha256').update(key).digest('base64url').slice(0, 32);
    if (tokens.size > 4096) tokens.clear();
    tokens.set(key, t);
  }
  return t;
}

const ID_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function benchExchange(i: number): Exchange {
  const conn = i % CONNS;
  const pos = Math.floor(i / CONNS);
  const epoch = Math.floor(pos / 500);
  const startMs = T0 + i;
  const token = tokenFor(conn, epoch);
  const user = 1000 + conn;
  const id = `${newExchangeId(startMs).slice(0, 24)}${ID_HEX[i & 255]}${ID_HEX[(i >>> 8) & 255]}${ID_HEX[(i >>> 16) & 255]}`;
  const headers: Array<[string, string]> = [['Host', 'api.example.test'], ['User-Agent', 'bench/1'], ['Accept', 'application/json'], ['X-User', `u${conn}`]];
  let method = 'GET';
  let path: string;
  let query = '';
  let reqBody: string | null = null;
  let resBody: string;
  let status = 200;
  if (pos % 500 === 0) {
    method = 'POST';
    path = '/api/login';
    reqBody = `{"email":"user${user}@example.test","password":"pw-${user}-secret"}`;
    headers.push(['Content-Type', 'application/json']);
    resBody = `{"token":"${token}","expiresIn":3600,"user":{"id":${user}}}`;
  } else {
    headers.push(['Authorization', `Bearer ${token}`]);
    const kind = i % 10;
    if (i % 97 === 0) path = '/healthz';
    else if (i % 89 === 0) path = `/static/app.${i % 7}.js`;
    else if (kind < 5) path = `/api/users/${user}`;
    else if (kind < 7) {
      path = '/api/search';
      query = `q=item${i % 50}&page=${i % 5}`;
    } else if (kind < 9) path = `/api/users/${user}/orders/${i % 1000}`;
    else {
      method = 'POST';
      path = '/api/payments';
      headers.push(['Content-Type', 'application/json']);
      reqBody = i % 20 === 9 ? `{"amount":"12.50","card":"4111 1111 1111 1111","user":${user}}` : `{"amount":"12.50","user":${user}}`;
      status = 201;
    }
    if (i % 13 === 0) headers.push(['If-Modified-Since', new Date(startMs - 60_000).toUTCString()]);
    resBody = `{"id":${user},"name":"User ${user}","user":{"email":"user${user}@example.test"},"seq":${i},"updatedAt":"${new Date(startMs).toISOString()}"}`;
  }
  return {
    v: 1,
    id,
    start: startMs * 1000,
    duration: 1500,
    source: { kind: 'synthetic', captureId: 'bench', connection: `c${conn}`, seq: pos },
    request: { method, scheme: 'http', authority: 'api.example.test', path, query, httpVersion: '1.1', headers, body: reqBody === null ? null : { encoding: 'utf8', data: reqBody, size: reqBody.length } },
    response: { status, httpVersion: '1.1', headers: [['Content-Type', 'application/json'], ['Content-Length', String(resBody.length)]], body: { encoding: 'utf8', data: resBody, size: resBody.length } },
  };
}

/**
 * The same records, cheaply: 4,096 distinct ones are built once and reused
 * with their own id, time, session and token, so what a benchmark times is
 * the pipeline, not building test objects (like store-worker.ts does).
 */
export function* benchExchanges(n: number): Generator<Exchange> {
  // Built from records that are not logins; a template at k serves connection k % 256, as the record would.
  const pool = Array.from({ length: POOL }, (_, k) => benchExchange(CONNS + k));
  for (let i = 0; i < n; i++) {
    const pos = Math.floor(i / CONNS);
    if (pos % 500 === 0) {
      yield benchExchange(i); // a login: rare, built in full
      continue;
    }
    const t = pool[i % POOL]!;
    const token = tokenFor(i % CONNS, Math.floor(pos / 500));
    yield {
      ...t,
      id: `${t.id.slice(0, 24)}${ID_HEX[i & 255]}${ID_HEX[(i >>> 8) & 255]}${ID_HEX[(i >>> 16) & 255]}`,
      start: (T0 + i) * 1000,
      source: { kind: 'synthetic', captureId: 'bench', connection: `c${i % CONNS}`, seq: pos },
      request: { ...t.request, headers: t.request.headers.map((h): [string, string] => (h[0] === 'Authorization' ? ['Authorization', `Bearer ${token}`] : h)) },
    };
  }
}

const POOL = 4096; // a multiple of CONNS

/** Every step, as the benchmark runs it. */
export const BENCH_PIPELINE = `
steps:
  - type: filter
    presets: [drop-health-checks, drop-static-assets]
  - type: sample
    percent: 90
    by: { header: x-user }
  - type: dedupe
    window: 100ms
  - type: correlate
  - type: redact
    headers: [authorization, cookie, set-cookie]
    jsonPaths: [$.user.email, $..password]
    detectors: default
    mode: hash
  - type: parameterize
    target: { host: '\${TARGET_HOST}' }
    rebaseTime: { headers: [if-modified-since] }
  - type: plugin
    path: ./transform-plugin.ts
`;
