import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ProxyAgent, request, type Dispatcher } from 'undici';
import { startForwardProxy, type ForwardProxy } from '../../../capture/proxy/forward-proxy.js';
import { binaryBytes, forwardSuite, memoryRecorder, startEchoUpstream, type EchoReply } from './forward-fixtures.js';

/**
 * The forward relay's per-request state (its undici dispatch handler) must let
 * go of the request's objects once it settled: undici keeps the handler past
 * the response, and a promoted handler still pointing at req/res and the
 * observation kept each request's young objects alive through V8's next
 * scavenge — the GC pauses measured for the reverse proxy in docs/benchmarks.md
 * (proxy); the forward relay had the same links.
 *
 * What undici holds is read by wrapping the proxy's real Agent dispatch(): the
 * call goes through unchanged, the wrapper only keeps each handler it was given.
 */

const suite = forwardSuite();
const { cleanups } = suite;

function captureHandlers(proxy: ForwardProxy): Array<Record<string, unknown>> {
  const seen: Array<Record<string, unknown>> = [];
  // The proxy's Agent is not public API, hence the cast.
  const agent = (proxy as unknown as { agent: Dispatcher }).agent;
  const original = agent.dispatch.bind(agent);
  agent.dispatch = (opts, handler) => {
    seen.push(handler as unknown as Record<string, unknown>);
    return original(opts, handler);
  };
  return seen;
}

/** Wait until the proxy has settled everything (settle runs after the client got its last byte). */
async function untilSettled(handlers: Array<Record<string, unknown>>, count: number): Promise<void> {
  for (let i = 0; i < 200 && !(handlers.length === count && handlers.every((h) => h.settled === true)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function expectReleased(handlers: Array<Record<string, unknown>>, count: number): void {
  expect(handlers).toHaveLength(count);
  for (const h of handlers) {
    expect(h.settled).toBe(true);
    expect({ req: h.req, res: h.res, obs: h.obs }).toEqual({ req: null, res: null, obs: null });
  }
}

/** A loopback port nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** ok, POST body, a refused upstream (502), a reset mid-body and a client that left before the head. */
async function exercise(base: string, refused: string, agent: ProxyAgent): Promise<void> {
  const ok = await request(`${base}/echo?a=1`, { dispatcher: agent });
  expect(((await ok.body.json()) as EchoReply).url).toBe('/echo?a=1');
  const upload = binaryBytes(5000);
  const posted = await request(`${base}/echo`, { dispatcher: agent, method: 'POST', body: upload });
  expect(Buffer.from(((await posted.body.json()) as EchoReply).body, 'base64').equals(upload)).toBe(true);
  if (refused !== '') {
    const bad = await request(`${refused}/echo`, { dispatcher: agent });
    expect(bad.statusCode).toBe(502);
    await bad.body.text();
  }
  const reset = await request(`${base}/reset`, { dispatcher: agent });
  await expect(reset.body.text()).rejects.toThrow();
  const gone = new AbortController();
  const leaving = request(`${base}/hang`, { dispatcher: agent, signal: gone.signal });
  setTimeout(() => gone.abort(), 50);
  await expect(leaving).rejects.toThrow();
}

describe('forward relay: per-request state released when the request settles', () => {
  it('plain absolute-form HTTP: no handler keeps req, res or the observation, and every exchange is recorded', async () => {
    const upstream = await startEchoUpstream();
    cleanups.push(() => upstream.close());
    const { recorder, records } = memoryRecorder();
    const proxy = await startForwardProxy({ listen: { host: '127.0.0.1', port: 0 }, recorder });
    cleanups.push(() => proxy.close());
    const handlers = captureHandlers(proxy);
    // proxyTunnel: false: absolute-form requests for http:// targets, not CONNECT.
    const agent = new ProxyAgent({ uri: proxy.address.url, proxyTunnel: false, keepAliveTimeout: 100 });
    cleanups.push(() => agent.close());

    await exercise(`http://127.0.0.1:${upstream.port}`, `http://127.0.0.1:${await deadPort()}`, agent);
    await untilSettled(handlers, 5);
    expectReleased(handlers, 5);
    // Released after recording, not before: every exchange is in the store, bodies included.
    await proxy.close();
    expect(records.map((ex) => ex.request.path).sort()).toEqual(['/echo', '/echo', '/echo', '/hang', '/reset']);
    expect(records.find((ex) => ex.request.method === 'POST')?.request.body?.size).toBe(5000);
    expect(records.find((ex) => ex.request.path === '/hang')?.meta).toMatchObject({ clientAborted: true });
  });

  it('intercepted HTTPS (same relay, decrypted from a CONNECT tunnel): no handler keeps req, res or the observation', async () => {
    const { proxy, upstream, records, agent } = await suite.interceptingProxy();
    const handlers = captureHandlers(proxy); // before any request: creating the agent sends nothing

    // No refused-upstream case here: a failing CONNECT target never reaches the relay.
    await exercise(`https://localhost:${upstream.port}`, '', agent);
    await untilSettled(handlers, 4);
    expectReleased(handlers, 4);
    await proxy.close();
    expect(records.map((ex) => `${ex.request.scheme} ${ex.request.path}`).sort()).toEqual(['https /echo', 'https /echo', 'https /hang', 'https /reset']);
    expect(records.find((ex) => ex.request.method === 'POST')?.request.body?.size).toBe(5000);
  });
});
