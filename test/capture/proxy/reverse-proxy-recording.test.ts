import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProxyStats } from '../../../capture/proxy/proxy-stats.js';
import type { Exchange } from '../../../store/exchange.js';
import { cleanup, fetchBytes, pairs, startProxy, startUpstream, storeBytes } from './reverse-harness.js';

afterEach(cleanup);

describe('reverse proxy: what reaches the store', () => {
  it('secrets are redacted before anything is written: no Authorization, Cookie or Set-Cookie value in the segment bytes', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, ['Set-Cookie', 'session=SETCOOKIE-SECRET-1; Path=/; HttpOnly', 'Set-Cookie', 'csrf=SETCOOKIE-SECRET-2', 'Content-Type', 'text/plain']);
      res.end('ok');
    });
    const p = await startProxy(upstream.url);
    const r = await fetchBytes(p.client, {
      path: '/me',
      headers: ['Authorization', 'Bearer AUTH-SECRET-TOKEN', 'Cookie', 'sid=COOKIE-SECRET; theme=dark', 'X-Api-Key', 'APIKEY-SECRET'],
    });
    // The client and the upstream still get the real values: redaction is for the store only.
    expect(pairs(r.rawHeaders)).toContainEqual(['Set-Cookie', 'session=SETCOOKIE-SECRET-1; Path=/; HttpOnly']);
    expect(pairs(upstream.received[0]!.rawHeaders)).toContainEqual(['Authorization', 'Bearer AUTH-SECRET-TOKEN']);
    const [ex] = await p.stopAndRead();
    const text = (await storeBytes(p.store)).toString('utf8');
    for (const secret of ['AUTH-SECRET-TOKEN', 'COOKIE-SECRET', 'SETCOOKIE-SECRET-1', 'SETCOOKIE-SECRET-2', 'APIKEY-SECRET']) expect(text).not.toContain(secret);
    expect(ex!.request.headers).toContainEqual(['Authorization', 'Bearer [REDACTED]']);
    expect(ex!.request.headers).toContainEqual(['Cookie', 'sid=[REDACTED]; theme=[REDACTED]']);
    expect(ex!.response!.headers).toContainEqual(['Set-Cookie', 'session=[REDACTED]; Path=/; HttpOnly']);
    expect(ex!.redactions).toEqual(expect.arrayContaining(['request.headers.authorization', 'request.headers.cookie', 'response.headers.set-cookie']));
  });

  it('sampling at rate 0 with keepErrors keeps only the 5xx and upstream failures', async () => {
    const upstream = await startUpstream((req, res) => {
      res.statusCode = req.url!.startsWith('/fail') ? 503 : 200;
      res.end('x');
    });
    const p = await startProxy(upstream.url, { recorder: { sampling: { rate: 0, keepErrors: true } } });
    for (let i = 0; i < 10; i++) await fetchBytes(p.client, { path: `/ok/${i}` });
    for (let i = 0; i < 3; i++) await fetchBytes(p.client, { path: `/fail/${i}` });
    const stats = await p.proxy.close();
    expect(stats.recorder).toMatchObject({ seen: 13, sampledOut: 10, recorded: 3 });
    const stored = await p.stopAndRead();
    expect(stored.map((e) => e.response!.status)).toEqual([503, 503, 503]);
  });

  it('a per-endpoint rate cap keeps at most N per second per endpoint template', async () => {
    const upstream = await startUpstream((_req, res) => res.end('x'));
    const p = await startProxy(upstream.url, { recorder: { sampling: { perEndpointPerSecond: 2 } } });
    // Within one second: 20 hits on /users/:id, 3 on /health.
    const t0 = Date.now();
    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => fetchBytes(p.client, { path: `/users/${i}` })),
      ...Array.from({ length: 3 }, () => fetchBytes(p.client, { path: '/health' })),
    ]);
    const spanSeconds = Math.floor(Date.now() / 1000) - Math.floor(t0 / 1000) + 1;
    const stored = await p.stopAndRead();
    const users = stored.filter((e) => e.request.path.startsWith('/users/')).length;
    const health = stored.filter((e) => e.request.path === '/health').length;
    expect(users).toBeGreaterThanOrEqual(2);
    expect(users).toBeLessThanOrEqual(2 * spanSeconds);
    expect(health).toBeLessThanOrEqual(2 * spanSeconds);
    expect(health).toBeGreaterThanOrEqual(2);
  });

  it('graceful close: every exchange offered before close() is in the store, and in-flight requests finish', async () => {
    const upstream = await startUpstream((req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('slow done'), 150);
      else res.end('fast');
    });
    const p = await startProxy(upstream.url);
    for (let i = 0; i < 25; i++) await fetchBytes(p.client, { path: `/fast/${i}` });
    const slow = fetchBytes(p.client, { path: '/slow' });
    await new Promise((r) => setTimeout(r, 30)); // the slow request is in flight…
    const closing = p.proxy.close(); // …when shutdown begins
    expect((await slow).body.toString()).toBe('slow done');
    const stats = await closing;
    expect(stats).toMatchObject({ requests: 26, inFlight: 0, recorder: { recorded: 26, dropped: 0, queued: 0 } });
    const stored = await p.stopAndRead();
    expect(stored).toHaveLength(26);
  });

  it('segments rotate by size while recording', async () => {
    const upstream = await startUpstream((_req, res) => res.end(Buffer.alloc(4096, 'x').toString() + Math.random()));
    const p = await startProxy(upstream.url, { segmentBytes: 2048 });
    for (let i = 0; i < 300; i++) await fetchBytes(p.client, { path: `/r/${i}` });
    const stored = await p.stopAndRead();
    expect(stored).toHaveLength(300);
    expect((await readdir(join(p.store, 'segments'))).length).toBeGreaterThan(1);
  });

  it('the admin endpoint reports live stats and is not itself recorded; exchanges are published on reprise:capture:exchange', async () => {
    const seen: Exchange[] = [];
    const onExchange = (ex: unknown): void => void seen.push(ex as Exchange);
    subscribe('reprise:capture:exchange', onExchange);
    try {
      const upstream = await startUpstream((_req, res) => res.end('x'));
      const p = await startProxy(upstream.url);
      for (let i = 0; i < 4; i++) await fetchBytes(p.client, { path: `/a/${i}` });
      const r = await fetchBytes(p.client, { path: '/__reprise/stats' });
      expect(pairs(r.rawHeaders)).toContainEqual(['content-type', 'application/json']);
      const stats = JSON.parse(r.body.toString()) as ProxyStats;
      expect(stats).toMatchObject({ requests: 4, inFlight: 0, upstreamErrors: { refused: 0, reset: 0, timeout: 0 }, recorder: { seen: 4 } });
      const stored = await p.stopAndRead();
      expect(stored.map((e) => e.request.path)).toEqual(['/a/0', '/a/1', '/a/2', '/a/3']);
      expect(seen.map((e) => e.request.path)).toEqual(['/a/0', '/a/1', '/a/2', '/a/3']);
    } finally {
      unsubscribe('reprise:capture:exchange', onExchange);
    }
  });
});
