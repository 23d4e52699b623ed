// Why this file exists: the demo and the HAR tests need a realistic HAR, and a fixture built in code
// can be read, changed and rebuilt instead of being an opaque browser export. It writes
// test/fixtures/har/sample-api.har: ~60 calls to a small JSON shop API over about two minutes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

// Usage: npx tsx scripts/make-sample-har.ts [out.har]
// Deterministic: a seeded PRNG, fixed start time and fixed tokens, so a rebuild gives the same file
// (except gzip byte counts, which may differ between zlib versions).

type NV = { name: string; value: string };
interface Call {
  method: string;
  path: string;
  status: number;
  reqHeaders?: [string, string][];
  reqBody?: { mime: string; text: string };
  resHeaders?: [string, string][];
  res?: { mime: string; text: string; base64?: boolean };
  gzip?: boolean;
  h2?: boolean;
}

const ORIGIN = 'api.shop.test';
const T0 = Date.UTC(2026, 2, 14, 10, 0, 0);
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMiLCJuYW1lIjoiQWRhIn0.c2lnbmF0dXJl';
const SESSION = 'session=s%3A7f3a9c2e1b; csrf=Zk9x2Q';
const STATUS_TEXT: Record<number, string> = { 200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified', 404: 'Not Found', 500: 'Internal Server Error' };

let seed = 0x5eed;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const json = (v: unknown): { mime: string; text: string } => ({ mime: 'application/json', text: JSON.stringify(v) });

const USERS: Record<string, { id: number; name: string; email: string; city: string }> = {
  '123': { id: 123, name: 'Ada Lovelace', email: 'ada@example.test', city: 'London' },
  '456': { id: 456, name: 'Zoë Šimůnková', email: 'zoe@example.test', city: 'Brno' },
  '789': { id: 789, name: '渡辺 健', email: 'ken@example.test', city: '東京' },
};
const ORDER_IDS = ['9f1c2e3a-4b5d-4c6e-8f70-1a2b3c4d5e6f', '0b7e2d41-9a3c-4f21-b6d8-5e4f3a2b1c0d', 'c4d5e6f7-1a2b-4c3d-9e8f-7a6b5c4d3e2f'];

function makePng(): Buffer {
  const crc = (b: Buffer): number => zlib.crc32(b);
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const w = 16, h = 16;
  const ihdr = Buffer.from([0, 0, 0, w, 0, 0, 0, h, 8, 2, 0, 0, 0]); // 8-bit RGB
  const rows = Buffer.alloc(h * (1 + w * 3));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rows.set([x * 16, y * 16, 200], y * (1 + w * 3) + 1 + x * 3);
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

/** The session, in order: login, a browse of users, orders and search, with the odd error. */
function planCalls(): Call[] {
  const auth: [string, string][] = [['Authorization', `Bearer ${TOKEN}`], ['Cookie', SESSION]];
  const calls: Call[] = [
    {
      method: 'POST', path: '/api/v1/auth/login', status: 200,
      reqBody: json({ email: 'ada@example.test', password: 'correct horse battery staple' }),
      resHeaders: [['Set-Cookie', 'session=s%3A7f3a9c2e1b; Path=/; HttpOnly; Secure; SameSite=Lax'], ['Set-Cookie', 'csrf=Zk9x2Q; Path=/; Secure'], ['Cache-Control', 'no-store']],
      res: json({ token: TOKEN, expiresIn: 3600, user: { id: 123 } }),
    },
    { method: 'GET', path: '/api/v1/users/123', status: 200, reqHeaders: auth, res: json(USERS['123']), gzip: true },
    { method: 'GET', path: '/api/v1/users/456', status: 200, reqHeaders: auth, res: json(USERS['456']), gzip: true, h2: true },
    { method: 'GET', path: `/api/v1/orders/${ORDER_IDS[0]}`, status: 200, reqHeaders: auth, res: json({ id: ORDER_IDS[0], user: 123, total: '42.50', currency: 'EUR', items: [{ sku: 'RUN-42', qty: 1 }] }) },
    { method: 'GET', path: '/api/v1/search?q=running%20shoes&size=10&sort=price:asc&tag=new&tag=sale', status: 200, reqHeaders: auth, res: json({ total: 2, hits: [{ sku: 'RUN-42', name: 'Trail Runner', price: '89.00' }, { sku: 'RUN-7', name: 'Road “Swift”', price: '99.00' }] }), gzip: true },
    { method: 'GET', path: '/api/v1/users/999', status: 404, reqHeaders: auth, res: json({ error: 'not_found', message: 'user 999 does not exist' }) },
    { method: 'POST', path: '/api/v1/orders', status: 500, reqHeaders: [...auth, ['X-CSRF-Token', 'Zk9x2Q']], reqBody: json({ items: [{ sku: 'RUN-42', qty: 2 }], coupon: 'SPRING' }), res: json({ error: 'internal', requestId: 'req-5f2c' }) },
    { method: 'GET', path: '/api/v1/catalog', status: 304, reqHeaders: [...auth, ['If-None-Match', 'W/"cat-v17"']], resHeaders: [['ETag', 'W/"cat-v17"']] },
    { method: 'GET', path: '/static/img/logo.png', status: 200, res: { mime: 'image/png', text: makePng().toString('base64'), base64: true }, h2: true },
  ];
  const userIds = Object.keys(USERS);
  while (calls.length < 60) {
    const r = random();
    if (r < 0.3) {
      const id = pick(userIds);
      calls.push({ method: 'GET', path: `/api/v1/users/${id}`, status: 200, reqHeaders: auth, res: json(USERS[id]), gzip: random() < 0.5 });
    } else if (r < 0.5) {
      const id = pick(ORDER_IDS);
      calls.push({ method: 'GET', path: `/api/v1/orders/${id}`, status: 200, reqHeaders: auth, res: json({ id, total: (random() * 200).toFixed(2), currency: 'EUR' }) });
    } else if (r < 0.7) {
      const q = pick(['socks', 'rain%20jacket', 'caf%C3%A9%20mug', 'trail+shoes']);
      calls.push({ method: 'GET', path: `/api/v1/search?q=${q}&page=${1 + Math.floor(random() * 3)}`, status: 200, reqHeaders: auth, res: json({ total: 0, hits: [] }), gzip: true });
    } else if (r < 0.8) {
      calls.push({ method: 'PUT', path: '/api/v1/cart/items/RUN-42', status: 200, reqHeaders: auth, reqBody: json({ qty: 1 + Math.floor(random() * 3) }), res: json({ ok: true }) });
    } else if (r < 0.88) calls.push({ method: 'DELETE', path: '/api/v1/cart/items/SOCK-3', status: 204, reqHeaders: auth });
    else if (r < 0.94) calls.push({ method: 'GET', path: '/api/v1/catalog', status: 304, reqHeaders: [...auth, ['If-None-Match', 'W/"cat-v17"']], resHeaders: [['ETag', 'W/"cat-v17"']] });
    else calls.push({ method: 'GET', path: `/api/v1/users/${1000 + Math.floor(random() * 50)}`, status: 404, reqHeaders: auth, res: json({ error: 'not_found' }) });
  }
  return calls;
}

function buildEntry(call: Call, i: number, startMs: number): Record<string, unknown> {
  const nv = (hs: [string, string][]): NV[] => hs.map(([name, value]) => ({ name, value }));
  const version = call.h2 ? 'h2' : 'HTTP/1.1';
  const query = call.path.includes('?') ? call.path.slice(call.path.indexOf('?') + 1) : '';
  const hostHeaders: [string, string][] = call.h2
    ? [[':method', call.method], [':authority', ORIGIN], [':scheme', 'https'], [':path', call.path]]
    : [['Host', ORIGIN]];
  const reqHeaders: [string, string][] = [...hostHeaders, ['User-Agent', 'shop-web/3.2 (+https://shop.test)'], ['Accept', call.path.endsWith('.png') ? 'image/avif,image/webp,image/png,*/*;q=0.8' : 'application/json'], ['Accept-Encoding', 'gzip, br'], ...(call.reqHeaders ?? [])];
  if (call.reqBody) reqHeaders.push(['Content-Type', `${call.reqBody.mime}; charset=utf-8`], ['Content-Length', String(Buffer.byteLength(call.reqBody.text))]);
  const resBytes = call.res ? Buffer.from(call.res.text, call.res.base64 ? 'base64' : 'utf8') : Buffer.alloc(0);
  const wireBytes = call.gzip ? zlib.gzipSync(resBytes).length : resBytes.length;
  const resHeaders: [string, string][] = [['Date', new Date(startMs).toUTCString()], ...(call.res ? [['Content-Type', call.res.mime] as [string, string]] : [])];
  if (call.gzip) resHeaders.push(['Content-Encoding', 'gzip'], ['Vary', 'Accept-Encoding']);
  else if (call.res) resHeaders.push(['Content-Length', String(resBytes.length)]);
  resHeaders.push(['X-Request-Id', `req-${(0x1000 + i).toString(16)}`], ...(call.resHeaders ?? []));
  const newConnection = i % 12 === 0;
  const wait = call.status === 500 ? 480 + random() * 300 : 8 + random() * 60;
  const timings = {
    blocked: Number((0.3 + random()).toFixed(3)), dns: newConnection ? 2.1 : -1, connect: newConnection ? 24.6 : -1, ssl: newConnection ? 15.2 : -1,
    send: Number((0.1 + random() * 0.4).toFixed(3)), wait: Number(wait.toFixed(3)), receive: Number((0.2 + resBytes.length / 20000).toFixed(3)),
  };
  const time = Object.values(timings).filter((t) => t >= 0).reduce((a, b) => a + b, 0);
  const cookieHeader = reqHeaders.find(([n]) => n === 'Cookie')?.[1];
  return {
    startedDateTime: new Date(startMs).toISOString(),
    time: Number(time.toFixed(3)),
    request: {
      method: call.method,
      url: `https://${ORIGIN}${call.path}`,
      httpVersion: version,
      cookies: cookieHeader ? cookieHeader.split('; ').map((c) => ({ name: c.split('=')[0], value: c.slice(c.indexOf('=') + 1) })) : [],
      headers: nv(reqHeaders),
      queryString: query === '' ? [] : query.split('&').map((p) => ({ name: p.split('=')[0], value: decodeURIComponent((p.split('=')[1] ?? '').replace(/\+/g, ' ')) })),
      ...(call.reqBody ? { postData: { mimeType: `${call.reqBody.mime}; charset=utf-8`, text: call.reqBody.text } } : {}),
      headersSize: -1,
      bodySize: call.reqBody ? Buffer.byteLength(call.reqBody.text) : 0,
    },
    response: {
      status: call.status,
      statusText: call.h2 ? '' : (STATUS_TEXT[call.status] ?? ''),
      httpVersion: version,
      cookies: (call.resHeaders ?? []).filter(([n]) => n === 'Set-Cookie').map(([, v]) => ({ name: v.split('=')[0], value: v.slice(v.indexOf('=') + 1, v.indexOf(';')), path: '/', httpOnly: v.includes('HttpOnly'), secure: true })),
      headers: nv(resHeaders),
      content: {
        size: resBytes.length,
        ...(call.gzip ? { compression: resBytes.length - wireBytes } : {}),
        mimeType: call.res?.mime ?? 'x-unknown',
        ...(call.res ? { text: call.res.text } : {}),
        ...(call.res?.base64 ? { encoding: 'base64' } : {}),
      },
      redirectURL: '',
      headersSize: -1,
      bodySize: call.status === 304 ? 0 : wireBytes,
    },
    cache: {},
    timings,
    serverIPAddress: '203.0.113.10',
    connection: call.h2 ? '2001' : String(1001 + (Math.floor(i / 12) % 3)),
    pageref: 'page_1',
    _resourceType: call.path.endsWith('.png') ? 'image' : 'fetch',
  };
}

/** The whole HAR document for the sample session. */
function buildSampleHar(): Record<string, unknown> {
  let t = T0;
  const entries = planCalls().map((call, i) => {
    t += Math.round(500 + random() * 3300); // ~2 s apart on average: about two minutes in all
    return buildEntry(call, i, t);
  });
  return {
    log: {
      version: '1.2',
      creator: { name: 'reprise make-sample-har', version: '1' },
      pages: [{ startedDateTime: new Date(T0).toISOString(), id: 'page_1', title: 'https://shop.test/', pageTimings: { onContentLoad: 420, onLoad: 610 } }],
      entries,
    },
  };
}

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] ?? join(here, '..', 'test', 'fixtures', 'har', 'sample-api.har');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(buildSampleHar(), null, 2)}\n`);
process.stdout.write(`wrote ${out}\n`);
