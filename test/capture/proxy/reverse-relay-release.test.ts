import { afterEach, describe, expect, it } from 'vitest';
import type { Pool } from 'undici';
import { cleanup, fetchBytes, startProxy, startUpstream } from './reverse-harness.js';

afterEach(cleanup);

/**
 * The relay's per-request state must let go of the request's objects once it
 * settled: undici keeps its stream handler (and the handler its `opaque`, the
 * state) past the response, and a promoted state still pointing at req/res and
 * the observation kept each request's young objects alive through V8's next
 * scavenge — the GC pauses measured in docs/benchmarks.md (proxy).
 *
 * What undici holds is read by wrapping the real pool's stream(): the call
 * goes through unchanged, the wrapper only keeps each `opaque` it was given.
 */
function captureOpaques(pool: Pool): Array<Record<string, unknown>> {
  const seen: Array<Record<string, unknown>> = [];
  const original = pool.stream.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { stream: (...args: unknown[]) => unknown }).stream = (opts: unknown, ...rest: unknown[]) => {
    seen.push((opts as { opaque: Record<string, unknown> }).opaque);
    return original(opts, ...rest);
  };
  return seen;
}

/** Wait until the proxy has settled everything (settle runs after the client got its last byte). */
async function untilSettled(states: Array<Record<string, unknown>>, count: number): Promise<void> {
  for (let i = 0; i < 200 && !(states.length === count && states.every((s) => s.settled === true)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('reverse relay: per-request state released when the request settles', () => {
  it('ok responses, request bodies, an upstream failure and a client that left: no state keeps req, res or the observation', async () => {
    const upstream = await startUpstream((req, res, body) => {
      if (req.url === '/fail') return void res.socket?.destroy();
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 300);
      res.end(`echo ${body.length}`);
    });
    const p = await startProxy(upstream.url);
    // The proxy object is also the relay's context; its pool is not public API, hence the cast.
    const states = captureOpaques((p.proxy as unknown as { dispatcher: Pool }).dispatcher);

    expect((await fetchBytes(p.client, { path: '/a' })).body.toString()).toBe('echo 0');
    expect((await fetchBytes(p.client, { path: '/b', method: 'POST', body: 'x'.repeat(5000) })).body.toString()).toBe('echo 5000');
    expect((await fetchBytes(p.client, { path: '/fail' })).status).toBe(502);
    const gone = new AbortController();
    const leaving = p.client.request({ path: '/slow', method: 'GET', signal: gone.signal });
    setTimeout(() => gone.abort(), 50);
    await expect(leaving).rejects.toThrow();

    await untilSettled(states, 4);
    expect(states).toHaveLength(4);
    for (const s of states) {
      expect(s.settled).toBe(true);
      expect({ req: s.req, res: s.res, obs: s.obs }).toEqual({ req: null, res: null, obs: null });
    }
    // Released after recording, not before: every exchange is in the store, bodies included.
    const stored = await p.stopAndRead();
    expect(stored.map((ex) => ex.request.path).sort()).toEqual(['/a', '/b', '/fail', '/slow']);
    expect(stored.find((ex) => ex.request.path === '/b')?.request.body?.size).toBe(5000);
  });
});
