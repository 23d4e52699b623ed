import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { UpstreamAbort } from '../../../capture/proxy/upstream-abort.js';
import { cleanup, fetchBytes, startProxy, startUpstream } from './reverse-harness.js';

afterEach(cleanup);

describe('UpstreamAbort (the per-request signal handed to undici)', () => {
  it('calls its listeners once with the reason set, and not those removed', () => {
    const a = new UpstreamAbort();
    const calls: string[] = [];
    const first = (): void => void calls.push(`first:${String(a.reason)}`);
    const removed = (): void => void calls.push('removed');
    a.once('abort', first);
    a.on('abort', removed);
    a.removeListener('abort', removed);
    a.abort('gone');
    a.abort('again');
    expect(calls).toEqual(['first:gone']);
    expect(a.aborted).toBe(true);
    expect(a.reason).toBe('gone');
  });
});

describe('reverse proxy: a client that leaves before the response head', () => {
  it('cancels the upstream request, records the exchange as client-aborted, and keeps serving', async () => {
    let upstreamClosed = false;
    const upstream = await startUpstream((req, res) => {
      if (req.url !== '/slow') return void res.end('fine');
      res.on('close', () => (upstreamClosed = true)); // never answered: only the proxy's cancel ends it
    });
    const p = await startProxy(upstream.url);
    const socket = connect(p.proxy.address.port, '127.0.0.1');
    socket.write('GET /slow HTTP/1.1\r\nHost: app.test\r\n\r\n');
    await expect.poll(() => upstream.received.length, { timeout: 2_000 }).toBe(1);
    socket.destroy();
    await expect.poll(() => upstreamClosed, { timeout: 2_000 }).toBe(true);
    expect((await fetchBytes(p.client, { path: '/next' })).body.toString()).toBe('fine');
    const stored = await p.stopAndRead();
    expect(stored.find((e) => e.request.path === '/slow')).toMatchObject({
      response: null,
      error: { kind: 'no-response' },
      meta: { clientAborted: true },
    });
    expect(p.proxy.stats.clientAborts).toBe(1);
  });
});
