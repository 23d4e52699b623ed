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

/** A UUIDv7 with the record's time and, in place of random bits, its number: the same i, the same id. */
function idFor(i: number, ms: number): string {
  return `${newExchangeId(ms).slice(0, 14)}7000-8000-000000${ID_HEX[(i >>> 16) & 255]}${ID_HEX[(i >>> 8) & 255]}${ID_HEX[i & 255]}`;
}

export function benchExchange(i: number): Exchange {
  const conn = i % CONNS;
  const pos = Math.floor(i / CONNS);
  const epoch = Math.floor(pos / 500);
  const startMs = T0 + i;
  const token = tokenFor(conn, epoch);
  const user = 1000 + conn;
  const id = idFor(i, startMs);
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
    } else if (kind < 9) path = `/api/users/${user}/orders/${orderId(user, i % 4)}`; // an id a user response listed
    else {
      method = 'POST';
      path = '/api/payments';
      headers.push(['Content-Type', 'application/json']);
      reqBody = paymentBody(user, i);
      status = 201;
    }
    if (i % 13 === 0) headers.push(['If-Modified-Since', new Date(startMs - 60_000).toUTCString()]);
    resBody =
      path === '/healthz' ? '{"status":"ok"}'
      : path.startsWith('/static/') ? `(()=>{const n=${i % 7};console.log("app chunk",n)})();`
      : path === '/api/search' ? searchBody(i)
      : path.includes('/orders/') ? orderBody(user, i, startMs)
      : method === 'POST' ? `{"paymentId":"pay_${(i * 7919).toString(36)}","status":"authorized","amount":"12.50","currency":"EUR","createdAt":"${new Date(startMs).toISOString()}"}`
      : userBody(user, i, startMs);
  }
  return {
    v: 1,
    id,
    start: startMs * 1000,
    duration: 1500,
    source: { kind: 'synthetic', captureId: 'bench', connection: `c${conn}`, seq: pos },
    request: { method, scheme: 'http', authority: 'api.example.test', path, query, httpVersion: '1.1', headers, body: reqBody === null ? null : { encoding: 'utf8', data: reqBody, size: reqBody.length } },
    response: { status, httpVersion: '1.1', headers: [['Content-Type', path.startsWith('/static/') ? 'application/javascript' : 'application/json'], ['Content-Length', String(resBody.length)], ['Cache-Control', 'private, no-store'], ['X-Request-Id', `req-${i.toString(36)}`]], body: { encoding: 'utf8', data: resBody, size: resBody.length } },
  };
}

// Bodies the size and shape of a typical JSON API (~1-2 KB), with personal
// data where such APIs carry it: names, emails, phone numbers, addresses, and
// a card number in one payment in ten.
function orderId(user: number, k: number): string {
  return `ord_${(user * 7919 + k * 104729).toString(36)}`;
}

function userBody(user: number, i: number, ms: number): string {
  const orders = Array.from({ length: 4 }, (_, k) => `{"orderId":"${orderId(user, k)}","sku":"SKU-${(user + k * 31) % 9000 + 1000}","qty":${1 + (k % 3)},"amount":"${(12.5 + k * 3.25).toFixed(2)}","currency":"EUR","status":"${k === 0 ? 'processing' : 'delivered'}","placedAt":"${new Date(ms - (k + 1) * 86_400_000).toISOString()}"}`);
  return `{"id":${user},"username":"user_${user}","name":"User ${user}","user":{"email":"user${user}@example.test","phone":"+1 415-555-${String(user % 10_000).padStart(4, '0')}"},` +
    `"address":{"street":"${user % 900 + 1} Market Street","city":"San Francisco","postalCode":"94105","country":"US"},` +
    `"preferences":{"locale":"en-US","currency":"EUR","newsletter":${user % 2 === 0},"theme":"dark","notifications":{"email":true,"sms":false,"push":true}},` +
    `"roles":["customer","beta-tester"],"loyalty":{"tier":"gold","points":${user * 13 % 5000},"memberSince":"2021-03-14"},` +
    `"recentOrders":[${orders.join(',')}],"links":{"self":"/api/users/${user}","orders":"/api/users/${user}/orders"},"seq":${i},"createdAt":"2023-06-01T08:30:00.000Z","updatedAt":"${new Date(ms).toISOString()}"}`;
}

function orderBody(user: number, i: number, ms: number): string {
  const lines = Array.from({ length: 5 }, (_, k) => `{"lineId":${k + 1},"sku":"SKU-${(i + k * 17) % 9000 + 1000}","title":"Stainless steel water bottle, ${500 + k * 250} ml","qty":${1 + (k % 2)},"unitPrice":"${(9.99 + k).toFixed(2)}","taxRate":"0.19"}`);
  return `{"orderId":"${orderId(user, i % 4)}","userId":${user},"status":"delivered","currency":"EUR","total":"${(54.95 + (i % 7)).toFixed(2)}",` +
    `"shipping":{"name":"User ${user}","street":"${user % 900 + 1} Market Street","city":"San Francisco","postalCode":"94105","country":"US","phone":"+1 415-555-${String(user % 10_000).padStart(4, '0')}"},` +
    `"lines":[${lines.join(',')}],"payment":{"method":"card","last4":"1111","brand":"visa"},"placedAt":"${new Date(ms - 3_600_000).toISOString()}","updatedAt":"${new Date(ms).toISOString()}"}`;
}

function searchBody(i: number): string {
  const items = Array.from({ length: 8 }, (_, k) => `{"sku":"SKU-${(i * 3 + k) % 9000 + 1000}","title":"Item ${(i + k) % 50} deluxe edition","price":"${(5 + k * 2.5).toFixed(2)}","currency":"EUR","inStock":${k % 3 !== 0},"rating":${(3 + (k % 3) * 0.5).toFixed(1)}}`);
  return `{"query":"item${i % 50}","page":${i % 5},"pageSize":8,"total":${120 + (i % 50)},"items":[${items.join(',')}],"facets":{"brand":["acme","globex","initech"],"price":["0-10","10-50","50+"]}}`;
}

function paymentBody(user: number, i: number): string {
  const card = i % 20 === 9 ? '"card":{"number":"4111 1111 1111 1111","expiry":"12/29","holder":"User ' + user + '"},' : '"card":{"token":"pm_' + (user * 31337).toString(36) + '"},';
  return `{"amount":"12.50","currency":"EUR","user":${user},${card}"billing":{"name":"User ${user}","email":"user${user}@example.test","street":"${user % 900 + 1} Market Street","city":"San Francisco","postalCode":"94105","country":"US"},"items":[{"sku":"SKU-${i % 9000 + 1000}","qty":1},{"sku":"SKU-${(i + 7) % 9000 + 1000}","qty":2}],"idempotencyKey":"idem_${i.toString(36)}"}`;
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
      id: idFor(i, T0 + i),
      start: (T0 + i) * 1000,
      source: { kind: 'synthetic', captureId: 'bench', connection: `c${i % CONNS}`, seq: pos },
      // Fresh body objects, as records read from a store have: steps cache work per body object.
      request: { ...t.request, headers: t.request.headers.map((h): [string, string] => (h[0] === 'Authorization' ? ['Authorization', `Bearer ${token}`] : h)), body: t.request.body && { ...t.request.body } },
      response: t.response && { ...t.response, body: t.response.body && { ...t.response.body } },
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
    jsonPaths: [$.user.email, $.user.phone, $.address.street, $.shipping.street, $.billing.email, $..password, $.card.number]
    detectors: default
    mode: hash
  - type: parameterize
    target: { host: '\${TARGET_HOST}' }
    rebaseTime: { headers: [if-modified-since] }
  - type: plugin
    path: ./transform-plugin.ts
`;
