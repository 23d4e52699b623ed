import { afterEach, describe, expect, it } from 'vitest';
import type { RecordSink } from '../../../capture/proxy/exchange-recorder.js';
import type { ProxyStats } from '../../../capture/proxy/proxy-stats.js';
import { bodyToBuffer } from '../../../store/body.js';
import { cleanup, fetchBytes, pairs, startProxy, startUpstream } from './reverse-harness.js';

afterEach(cleanup);

/** A port nothing listens on: bind one, note it, close it. */
async function deadPort(): Promise<number> {
  const u = await startUpstream(() => undefined);
  await new Promise<void>((resolve) => u.server.close(() => resolve()));
  return u.port;
}

async function adminStats(p: { client: import('undici').Pool }): Promise<ProxyStats> {
  const r = await fetchBytes(p.client, { path: '/__reprise/stats' });
  expect(r.status).toBe(200);
  return JSON.parse(r.body.toString()) as ProxyStats;
}

describe('reverse proxy: upstream faults', () => {
  it('upstream down: 502 to the client, recorded as refused, the proxy stays up', async () => {
    const p = await startProxy(`http://127.0.0.1:${await deadPort()}`);
    for (let i = 0; i < 3; i++) {
      const r = await fetchBytes(p.client, { path: `/down/${i}`, method: 'POST', body: 'payload' });
      expect(r.status).toBe(502);
      expect(pairs(r.rawHeaders)).toContainEqual(['x-reprise-upstream-error', 'refused']);
      expect(r.body.toString()).toMatch(/refused.*ECONNREFUSED/);
    }
    const stats = await adminStats(p);
    expect(stats).toMatchObject({ requests: 3, inFlight: 0, upstreamErrors: { refused: 3 } });
    const stored = await p.stopAndRead();
    expect(stored).toHaveLength(3);
    for (const ex of stored) {
      expect(ex.response).toBeNull();
      expect(ex.error).toMatchObject({ kind: 'refused', message: expect.stringContaining('ECONNREFUSED') });
      expect(bodyToBuffer(ex.request.body).toString()).toBe('payload');
    }
  });

  it('upstream closes before answering: 502, recorded as reset', async () => {
    const upstream = await startUpstream((req, res) => {
      if (req.url === '/hangup') return void req.socket.destroy();
      res.end('fine');
    });
    const p = await startProxy(upstream.url);
    expect((await fetchBytes(p.client, { path: '/hangup' })).status).toBe(502);
    expect((await fetchBytes(p.client, { path: '/ok' })).body.toString()).toBe('fine');
    const stored = await p.stopAndRead();
    expect(stored.find((e) => e.request.path === '/hangup')).toMatchObject({ response: null, error: { kind: 'reset' } });
  });

  it('upstream resets mid-response: the client sees an aborted body, the partial response is recorded as reset', async () => {
    const upstream = await startUpstream((req, res) => {
      if (req.url !== '/reset') return void res.end('next one is fine');
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 100_000 });
      res.write('partial-');
      setTimeout(() => req.socket.destroy(), 20);
    });
    const p = await startProxy(upstream.url);
    await expect(fetchBytes(p.client, { path: '/reset' })).rejects.toThrow();
    const next = await fetchBytes(p.client, { path: '/after' });
    expect(next.body.toString()).toBe('next one is fine');
    expect((await adminStats(p)).upstreamErrors.reset).toBe(1);
    const stored = await p.stopAndRead();
    const ex = stored.find((e) => e.request.path === '/reset')!;
    expect(ex.response!.status).toBe(200);
    expect(bodyToBuffer(ex.response!.body).toString()).toBe('partial-');
    expect(ex.error!.kind).toBe('reset');
    expect(ex.incomplete).toMatch(/cut short/);
  });

  it('upstream too slow: 504 after upstreamTimeoutMs, recorded as timeout', async () => {
    const timers: NodeJS.Timeout[] = [];
    const upstream = await startUpstream((req, res) => {
      if (req.url === '/slow') timers.push(setTimeout(() => res.end('too late'), 3_000));
      else res.end('quick');
    });
    const p = await startProxy(upstream.url, { upstreamTimeoutMs: 200 });
    const t0 = performance.now();
    const r = await fetchBytes(p.client, { path: '/slow' });
    const waited = performance.now() - t0;
    timers.forEach(clearTimeout);
    expect(r.status).toBe(504);
    expect(waited).toBeGreaterThanOrEqual(150);
    expect(waited).toBeLessThan(2_000);
    expect((await fetchBytes(p.client, { path: '/quick' })).body.toString()).toBe('quick');
    const stored = await p.stopAndRead();
    expect(stored.find((e) => e.request.path === '/slow')).toMatchObject({ response: null, error: { kind: 'timeout' } });
  });

  it('a client that goes away mid-response is counted and recorded, and the upstream request is cancelled', async () => {
    let upstreamClosed = false;
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const timer = setInterval(() => res.write(Buffer.alloc(1024)), 5);
      res.on('close', () => {
        clearInterval(timer);
        upstreamClosed = true;
      });
    });
    const p = await startProxy(upstream.url);
    const controller = new AbortController();
    const res = await p.client.request({ path: '/stream', method: 'GET', signal: controller.signal });
    for await (const _chunk of res.body) break; // first bytes arrived…
    controller.abort(); // …then the client leaves
    await expect.poll(() => upstreamClosed, { timeout: 2_000 }).toBe(true);
    expect((await fetchBytes(p.client, { path: '/__reprise/stats' })).status).toBe(200);
    const stored = await p.stopAndRead();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ response: { status: 200 }, error: { kind: 'reset' }, meta: { clientAborted: true } });
  });
});

describe('reverse proxy: a store that blocks', () => {
  it('traffic flows at full speed; once the queue is full, records are dropped and counted', async () => {
    const stuck: RecordSink = { write: () => new Promise<void>(() => {}), close: async () => undefined };
    const upstream = await startUpstream((_req, res) => res.end('ok'));
    const p = await startProxy(upstream.url, { sink: stuck, recorder: { queueLimit: 5 }, shutdownTimeoutMs: 200 });
    const t0 = performance.now();
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => fetchBytes(p.client, { path: `/r/${i}` })));
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(all.every((r) => r.status === 200 && r.body.toString() === 'ok')).toBe(true);
    const live = await adminStats(p);
    // One record sits in the stuck write, five wait in the queue, the rest were dropped.
    expect(live.recorder).toMatchObject({ seen: 50, recorded: 0, queued: 5, dropped: 44 });
    expect(live).toMatchObject({ requests: 50, inFlight: 0 });
    const final = await p.proxy.close(); // gives up on the stuck store after shutdownTimeoutMs
    expect(final.recorder).toMatchObject({ dropped: 49, queued: 0 });
  });
});
