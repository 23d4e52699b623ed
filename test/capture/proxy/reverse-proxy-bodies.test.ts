import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { bodyToBuffer } from '../../../store/body.js';
import type { Exchange } from '../../../store/exchange.js';
import { cleanup, fetchBytes, pairs, rawRequest, startProxy, startUpstream } from './reverse-harness.js';

afterEach(cleanup);

const byPath = (exchanges: Exchange[], path: string): Exchange => {
  const ex = exchanges.find((e) => e.request.path === path);
  if (!ex) throw new Error(`no exchange for ${path}`);
  return ex;
};

describe('reverse proxy: traffic in, exchanges stored', () => {
  it('N requests in → N exchanges, with provenance, network facts and timings', async () => {
    const upstream = await startUpstream((req, res) => res.end(`hello ${req.url}`));
    const p = await startProxy(upstream.url, { captureId: 'run-1' });
    const n = 40;
    const got = await Promise.all(Array.from({ length: n }, (_, i) => fetchBytes(p.client, { path: `/items/${i}?q=${i}&z=1` })));
    expect(got.map((r) => r.body.toString())).toEqual(Array.from({ length: n }, (_, i) => `hello /items/${i}?q=${i}&z=1`));
    const stored = await p.stopAndRead();
    expect(stored).toHaveLength(n);
    const ex = byPath(stored, '/items/7');
    expect(ex.request).toMatchObject({ method: 'GET', scheme: 'http', authority: p.proxy.address.url.slice(7), query: 'q=7&z=1', httpVersion: '1.1' });
    expect(ex.response).toMatchObject({ status: 200, httpVersion: '1.1' });
    expect(bodyToBuffer(ex.response!.body).toString()).toBe('hello /items/7?q=7&z=1');
    expect(ex.source).toMatchObject({ kind: 'proxy', captureId: 'run-1' });
    expect(ex.network).toEqual({ client: expect.stringMatching(/^127\.0\.0\.1:\d+$/), server: `127.0.0.1:${upstream.port}` });
    expect(Number.isInteger(ex.start) && Math.abs(ex.start / 1000 - Date.now()) < 60_000).toBe(true);
    expect(ex.duration).toBeGreaterThan(0);
    expect(ex.timings?.wait).toBeGreaterThanOrEqual(0);
    // seq counts requests per client connection: 0, 1, 2, … on each.
    const perConnection = new Map<string, number[]>();
    for (const e of stored) perConnection.set(e.source.connection!, [...(perConnection.get(e.source.connection!) ?? []), e.source.seq!]);
    for (const seqs of perConnection.values()) expect(seqs.sort((a, b) => a - b)).toEqual(seqs.map((_, i) => i));
    expect(perConnection.size).toBeLessThanOrEqual(8);
  });

  it('binary and UTF-8 bodies arrive byte for byte both ways and are stored exactly', async () => {
    const binary = randomBytes(64 * 1024);
    const text = 'naïve café — 日本語 — emoji 🎉\n'.repeat(200);
    const upstream = await startUpstream((req, res, body) => {
      res.setHeader('content-type', req.url === '/bin' ? 'application/octet-stream' : 'text/plain; charset=utf-8');
      res.end(body); // echo
    });
    const p = await startProxy(upstream.url);
    const a = await fetchBytes(p.client, { path: '/bin', method: 'POST', body: binary });
    const b = await fetchBytes(p.client, { path: '/text', method: 'POST', body: text });
    expect(a.body.equals(binary)).toBe(true);
    expect(b.body.toString('utf8')).toBe(text);
    expect(upstream.received[0]!.body.equals(binary)).toBe(true);
    const stored = await p.stopAndRead();
    const bin = byPath(stored, '/bin');
    expect(bin.request.body).toMatchObject({ encoding: 'base64', size: binary.length });
    expect(bodyToBuffer(bin.request.body).equals(binary)).toBe(true);
    expect(bodyToBuffer(bin.response!.body).equals(binary)).toBe(true);
    const txt = byPath(stored, '/text');
    expect(txt.response!.body).toEqual({ encoding: 'utf8', data: text, size: Buffer.byteLength(text) });
  });

  it('gzip passes through still compressed; the store has it decoded with contentEncoding', async () => {
    const json = JSON.stringify({ items: Array.from({ length: 500 }, (_, i) => ({ i, name: `item-${i}` })) });
    const gz = gzipSync(json);
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': gz.length });
      res.end(gz);
    });
    const p = await startProxy(upstream.url);
    const r = await fetchBytes(p.client, { path: '/gz', headers: { 'accept-encoding': 'gzip' } });
    expect(r.body.equals(gz)).toBe(true); // the client got the upstream's exact compressed bytes
    expect(pairs(r.rawHeaders)).toContainEqual(['Content-Encoding', 'gzip']);
    const [ex] = await p.stopAndRead();
    expect(ex!.response!.body).toEqual({ encoding: 'utf8', data: json, size: json.length, contentEncoding: 'gzip' });
  });

  it('chunked bodies both ways are relayed and stored whole', async () => {
    const parts = ['alpha-', 'beta-', 'gamma-', 'delta'];
    const upstream = await startUpstream(async (_req, res, body) => {
      res.writeHead(200, { 'content-type': 'text/plain' }); // no length: chunked
      for (const part of parts) {
        res.write(part);
        await new Promise((r) => setTimeout(r, 5));
      }
      res.end(`|${body.toString()}`);
    });
    const p = await startProxy(upstream.url);
    async function* chunks(): AsyncGenerator<Buffer> {
      for (const part of ['one,', 'two,', 'three']) yield Buffer.from(part);
    }
    const r = await fetchBytes(p.client, { path: '/chunked', method: 'POST', body: chunks() });
    expect(r.body.toString()).toBe('alpha-beta-gamma-delta|one,two,three');
    const [ex] = await p.stopAndRead();
    // Framing is per hop (the proxy may send a body it already holds whole with a length); the record keeps the client's.
    expect(ex!.request.headers).toContainEqual(['transfer-encoding', 'chunked']);
    expect(bodyToBuffer(ex!.request.body).toString()).toBe('one,two,three');
    expect(bodyToBuffer(ex!.response!.body).toString()).toBe('alpha-beta-gamma-delta|one,two,three');
    expect(ex!.response!.body!.truncated).toBeUndefined();
  });

  it('8 MB both ways: the client gets every byte; over the cap the store keeps the head, marked truncated with the true size', async () => {
    const big = randomBytes(8 * 1024 * 1024);
    const upstream = await startUpstream((_req, res, body) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-got': String(body.length) });
      res.end(big);
    });
    const cap = 256 * 1024;
    const p = await startProxy(upstream.url, { bodyCap: cap });
    const r = await fetchBytes(p.client, { path: '/big', method: 'PUT', body: big });
    expect(r.body.length).toBe(big.length);
    expect(r.body.equals(big)).toBe(true);
    expect(upstream.received[0]!.body.equals(big)).toBe(true);
    const [ex] = await p.stopAndRead();
    for (const body of [ex!.request.body, ex!.response!.body]) {
      expect(body).toMatchObject({ size: big.length, truncated: true });
      expect(bodyToBuffer(body).equals(big.subarray(0, cap))).toBe(true);
    }
  });

  it('request and response headers keep their order, duplicates and case', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, [
        'X-Dup', 'first', 'Set-Cookie', 'a=1; Path=/', 'content-type', 'text/plain',
        'X-Dup', 'second', 'Set-Cookie', 'b=2; HttpOnly', 'X-MiXeD-CaSe', 'yes', 'Connection', 'X-Hop', 'X-Hop', 'drop-me',
      ]);
      res.end('ok');
    });
    const p = await startProxy(upstream.url, { recorder: { redactHeaders: false } });
    const r = await fetchBytes(p.client, { path: '/h', headers: ['X-Req-Dup', '1', 'Accept', 'text/plain', 'X-Req-Dup', '2', 'X-CamelCase-Header', 'v'] });
    const down = pairs(r.rawHeaders);
    // The client sees the upstream's end-to-end headers in their order, case and duplication.
    expect(down.filter(([n]) => /^(x-dup|set-cookie|x-mixed-case)$/i.test(n))).toEqual([
      ['X-Dup', 'first'], ['Set-Cookie', 'a=1; Path=/'], ['X-Dup', 'second'], ['Set-Cookie', 'b=2; HttpOnly'], ['X-MiXeD-CaSe', 'yes'],
    ]);
    expect(down.some(([n]) => n.toLowerCase() === 'x-hop')).toBe(false);
    const up = pairs(upstream.received[0]!.rawHeaders);
    expect(up.filter(([n]) => /^x-req-dup|^x-camelcase/i.test(n))).toEqual([['X-Req-Dup', '1'], ['X-Req-Dup', '2'], ['X-CamelCase-Header', 'v']]);

    const [ex] = await p.stopAndRead();
    expect(ex!.request.headers.filter(([n]) => n !== 'host' && n !== 'connection')).toEqual([
      ['X-Req-Dup', '1'], ['Accept', 'text/plain'], ['X-Req-Dup', '2'], ['X-CamelCase-Header', 'v'],
    ]);
    expect(ex!.response!.headers.filter(([n]) => /^(x-dup|set-cookie|content-type|x-mixed-case)$/i.test(n))).toEqual([
      ['X-Dup', 'first'], ['Set-Cookie', 'a=1; Path=/'], ['content-type', 'text/plain'], ['X-Dup', 'second'], ['Set-Cookie', 'b=2; HttpOnly'], ['X-MiXeD-CaSe', 'yes'],
    ]);
  });

  it('HEAD, 204 and 304 carry no body and keep their headers (Content-Length of a HEAD included)', async () => {
    const upstream = await startUpstream((req, res) => {
      if (req.url === '/204') return void res.writeHead(204, { 'x-n': '1' }).end();
      if (req.url === '/304') return void res.writeHead(304, { etag: '"v1"' }).end();
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 1234 });
      res.end(req.method === 'HEAD' ? undefined : 'x'.repeat(1234));
    });
    const p = await startProxy(upstream.url);
    const head = await fetchBytes(p.client, { path: '/head', method: 'HEAD' });
    expect([head.status, head.body.length]).toEqual([200, 0]);
    expect(pairs(head.rawHeaders)).toContainEqual(['content-length', '1234']);
    expect((await fetchBytes(p.client, { path: '/204' })).status).toBe(204);
    const nm = await fetchBytes(p.client, { path: '/304', headers: { 'if-none-match': '"v1"' } });
    expect([nm.status, nm.body.length]).toEqual([304, 0]);
    expect((await fetchBytes(p.client, { path: '/after' })).body.length).toBe(1234); // the connection is still in step
    const stored = await p.stopAndRead();
    expect(stored.map((e) => [e.request.method, e.response!.status, e.response!.body])).toEqual([
      ['HEAD', 200, null], ['GET', 204, null], ['GET', 304, null], ['GET', 200, { encoding: 'utf8', data: 'x'.repeat(1234), size: 1234 }],
    ]);
  });

  it('hop-by-hop headers (RFC 9110 §7.6.1) stop at the proxy both ways, but are recorded as received', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, ['Connection', 'X-Hop', 'X-Hop', 'drop-me', 'Keep-Alive', 'timeout=5', 'X-End', 'kept', 'Content-Length', '2']);
      res.end('ok');
    });
    const p = await startProxy(upstream.url);
    const raw = await rawRequest(p.proxy.address.port, 'GET /hop HTTP/1.1\r\nHost: example.test\r\nConnection: close, X-Private\r\nX-Private: secret-hop\r\nTE: trailers\r\nX-End: kept\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(raw).toContain('X-End: kept');
    expect(raw).not.toMatch(/x-hop|drop-me|timeout=5/i);
    expect(raw.endsWith('\r\n\r\nok')).toBe(true);
    const up = pairs(upstream.received[0]!.rawHeaders).map(([n]) => n.toLowerCase());
    expect(up).toContain('x-end');
    expect(up).not.toContain('x-private');
    expect(up).not.toContain('te');
    expect(pairs(upstream.received[0]!.rawHeaders)).toContainEqual(['host', 'example.test']); // the client's Host is kept
    const [ex] = await p.stopAndRead();
    expect(ex!.request.authority).toBe('example.test');
    expect(ex!.request.headers).toEqual([['Host', 'example.test'], ['Connection', 'close, X-Private'], ['X-Private', 'secret-hop'], ['TE', 'trailers'], ['X-End', 'kept']]);
    expect(ex!.response!.headers).toContainEqual(['X-Hop', 'drop-me']);
  });
});
