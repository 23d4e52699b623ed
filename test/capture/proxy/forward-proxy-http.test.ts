import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyAgent, request } from 'undici';
import { startForwardProxy, type ForwardProxy } from '../../../capture/proxy/forward-proxy.js';
import { bodyToBuffer } from '../../../store/body.js';
import type { Exchange } from '../../../store/exchange.js';
import { binaryBytes, curl, headerValues, memoryRecorder, startEchoUpstream, type EchoReply, type TestServer } from './forward-fixtures.js';

/** Plain-HTTP forward mode: absolute-form requests from undici and curl, faults, and what gets recorded. */

let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(options: { passThrough?: string[]; bodyCap?: number; upstreamTimeoutMs?: number } = {}): Promise<{ proxy: ForwardProxy; upstream: TestServer; records: Exchange[]; agent: ProxyAgent }> {
  const upstream = await startEchoUpstream();
  cleanups.push(() => upstream.close());
  const { recorder, records } = memoryRecorder();
  const proxy = await startForwardProxy({ listen: { host: '127.0.0.1', port: 0 }, recorder, ...options });
  cleanups.push(() => proxy.close());
  // proxyTunnel: false makes undici send absolute-form requests for http:// targets instead of CONNECT.
  const agent = new ProxyAgent({ uri: proxy.address.url, proxyTunnel: false, token: 'Basic dTpw', keepAliveTimeout: 100 });
  cleanups.push(() => agent.close());
  return { proxy, upstream, records, agent };
}

describe('forward proxy, plain HTTP', () => {
  it('relays undici requests through the proxy and records them with bodies and headers in order', async () => {
    const { proxy, upstream, records, agent } = await setup();
    const base = `http://127.0.0.1:${upstream.port}`;
    const upload = binaryBytes(3000);
    const res = await request(`${base}/echo?b=2&a=1`, {
      dispatcher: agent,
      method: 'POST',
      // (undici's ProxyAgent folds duplicate request headers; the curl test sends those.)
      headers: [['X-Trace', '1'], ['Accept', 'application/json']].flat(),
      body: upload,
    });
    expect(res.statusCode).toBe(200);
    const reply = (await res.body.json()) as EchoReply;
    expect(Buffer.from(reply.body, 'base64').equals(upload)).toBe(true);
    expect(reply.url).toBe('/echo?b=2&a=1');
    // Order reaches the upstream; Proxy-* fields do not.
    const sent = reply.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect(sent.indexOf('x-trace')).toBeLessThan(sent.indexOf('accept'));
    expect(sent.some((n) => n.startsWith('proxy-'))).toBe(false);
    expect(res.headers['x-dup']).toEqual(['one', 'two']);

    for (let i = 0; i < 4; i++) await (await request(`${base}/echo?i=${i}`, { dispatcher: agent })).body.text();
    const stats = await proxy.close();
    expect(stats).toMatchObject({ requests: 5, intercepted: 0, tunnelled: 0 });
    expect(stats.recorder.recorded).toBe(5);
    expect(records).toHaveLength(5);
    const ex = records[0]!;
    expect(ex.request).toMatchObject({ method: 'POST', scheme: 'http', authority: `127.0.0.1:${upstream.port}`, path: '/echo', query: 'b=2&a=1' });
    expect(bodyToBuffer(ex.request.body).equals(upload)).toBe(true);
    expect(ex.request.body?.size).toBe(3000);
    expect(headerValues(ex.request.headers, 'x-trace')).toEqual(['1']);
    expect(headerValues(ex.request.headers, 'proxy-authorization')).toEqual(['Basic [REDACTED]']);
    expect(ex.response?.status).toBe(200);
    expect(headerValues(ex.response!.headers, 'x-dup')).toEqual(['one', 'two']);
    expect(JSON.parse(bodyToBuffer(ex.response!.body).toString()).url).toBe('/echo?b=2&a=1');
    expect(ex.source).toMatchObject({ kind: 'proxy', seq: 0 });
    // Per client connection, requests are numbered 0, 1, 2, … in order.
    const byConnection = new Map<string, number[]>();
    for (const r of records) byConnection.set(r.source.connection!, [...(byConnection.get(r.source.connection!) ?? []), r.source.seq!]);
    for (const seqs of byConnection.values()) expect(seqs).toEqual(seqs.map((_, i) => i));
  });

  it('relays curl -x requests and records them', async () => {
    const { proxy, upstream, records } = await setup();
    const r = await curl(['-x', proxy.address.url, '-H', 'X-From: curl', '-H', 'X-Trace: 1', '-H', 'Accept: */*', '-H', 'X-Trace: 2', `http://127.0.0.1:${upstream.port}/echo?via=curl`]);
    expect(r.stderr).toBe('');
    const reply = JSON.parse(r.stdout) as EchoReply;
    expect(reply.url).toBe('/echo?via=curl');
    // Duplicates reach the upstream in order, the Host is the URI's, Proxy-Connection stays behind.
    const pairs = reply.rawHeaders.flatMap((n, i) => (i % 2 === 0 ? [[n.toLowerCase(), reply.rawHeaders[i + 1]!] as const] : []));
    expect(pairs.filter(([n]) => n === 'x-trace').map(([, v]) => v)).toEqual(['1', '2']);
    expect(pairs.find(([n]) => n === 'host')?.[1]).toBe(`127.0.0.1:${upstream.port}`);
    expect(pairs.some(([n]) => n.startsWith('proxy-'))).toBe(false);
    await proxy.close();
    expect(records).toHaveLength(1);
    expect(records[0]!.request).toMatchObject({ scheme: 'http', path: '/echo', query: 'via=curl' });
    expect(headerValues(records[0]!.request.headers, 'x-from')).toEqual(['curl']);
    expect(headerValues(records[0]!.request.headers, 'x-trace')).toEqual(['1', '2']);
    // curl announces itself to the proxy; the record keeps it, the upstream never saw it.
    expect(headerValues(records[0]!.request.headers, 'proxy-connection')).toEqual(['Keep-Alive']);
  });

  it('stores gzip bodies decoded, caps big bodies for storage only', async () => {
    const { proxy, upstream, records, agent } = await setup({ bodyCap: 1000 });
    const base = `http://127.0.0.1:${upstream.port}`;
    const gz = await request(`${base}/gzip`, { dispatcher: agent });
    expect(gz.headers['content-encoding']).toBe('gzip'); // relayed as sent
    await gz.body.arrayBuffer();
    const big = await request(`${base}/big?n=300000`, { dispatcher: agent });
    const got = Buffer.from(await big.body.arrayBuffer());
    expect(got.equals(binaryBytes(300000))).toBe(true); // the client gets every byte
    await proxy.close();
    const [g, b] = records;
    expect(g!.response!.body).toMatchObject({ contentEncoding: 'gzip', truncated: true });
    expect(b!.response!.body).toMatchObject({ size: 300000, truncated: true });
    expect(bodyToBuffer(b!.response!.body).equals(binaryBytes(1000))).toBe(true);
  });

  it('without a CA, a CONNECT (undici\'s default for http:// too) is tunnelled unread', async () => {
    const { proxy, upstream, records } = await setup();
    const agent = new ProxyAgent({ uri: proxy.address.url, keepAliveTimeout: 100 });
    cleanups.push(() => agent.close());
    // Without a CA there is nothing to intercept: the tunnel is piped unread.
    const res = await request(`http://127.0.0.1:${upstream.port}/echo`, { dispatcher: agent });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    const stats = await proxy.close();
    expect(stats.tunnelled).toBe(1);
    expect(records).toHaveLength(0);
  });

  it('answers 502 when the upstream is down and records the failure', async () => {
    const { proxy, records, agent } = await setup();
    const down = await startEchoUpstream();
    const port = down.port;
    await down.close();
    const res = await request(`http://127.0.0.1:${port}/nothing`, { dispatcher: agent });
    expect(res.statusCode).toBe(502);
    expect(res.headers['x-reprise-upstream-error']).toBe('refused');
    await res.body.text();
    const stats = await proxy.close();
    expect(stats.upstreamErrors.refused).toBe(1);
    expect(records).toHaveLength(1);
    expect(records[0]!.response).toBeNull();
    expect(records[0]!.error?.kind).toBe('refused');
    expect(records[0]!.request.path).toBe('/nothing');
  });

  it('cuts the client off when the upstream resets mid-response, and records the partial response', async () => {
    const { proxy, upstream, records, agent } = await setup();
    const res = await request(`http://127.0.0.1:${upstream.port}/reset`, { dispatcher: agent });
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
    const stats = await proxy.close();
    expect(stats.upstreamErrors.reset).toBe(1);
    expect(records[0]).toMatchObject({ response: { status: 200 }, error: { kind: 'reset' } });
    expect(records[0]!.incomplete).toMatch(/cut short/);
    expect(bodyToBuffer(records[0]!.response!.body).toString()).toBe('partial body ');
  });

  it('relays an upgrade byte for byte without recording it', async () => {
    const { proxy, upstream, records } = await setup();
    const socket = connect(proxy.address.port, '127.0.0.1');
    cleanups.push(async () => socket.destroy());
    let got = '';
    socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
    socket.write(`GET http://127.0.0.1:${upstream.port}/ws HTTP/1.1\r\nHost: 127.0.0.1:${upstream.port}\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n`);
    await expect.poll(() => got).toMatch(/^HTTP\/1.1 101 /);
    socket.write('ping after upgrade');
    await expect.poll(() => got).toMatch(/\r\n\r\nping after upgrade$/);
    socket.destroy();
    const stats = await proxy.close();
    expect(stats.upgrades).toBe(1);
    expect(records).toHaveLength(0);
  });

  it('answers 504 when the upstream does not answer in time', async () => {
    const { proxy, upstream, records, agent } = await setup({ upstreamTimeoutMs: 200 });
    const res = await request(`http://127.0.0.1:${upstream.port}/hang`, { dispatcher: agent });
    expect(res.statusCode).toBe(504);
    await res.body.text();
    await proxy.close();
    expect(records[0]!.error?.kind).toBe('timeout');
  });

  it('relays pass-through hosts without recording them, serves stats, refuses origin-form', async () => {
    const { proxy, upstream, records, agent } = await setup({ passThrough: ['127.0.0.*'] });
    await (await request(`http://127.0.0.1:${upstream.port}/echo`, { dispatcher: agent })).body.text();
    const stats = await (await request(`${proxy.address.url}/__reprise/stats`)).body.json();
    expect(stats).toMatchObject({ requests: 1, recorder: { seen: 0 } });
    // Addressed to the proxy itself in absolute-form: answered, not looped back in.
    const self = await request(`${proxy.address.url}/__reprise/stats`, { dispatcher: agent });
    expect(self.statusCode).toBe(200);
    await self.body.text();
    const plain = await request(`${proxy.address.url}/elsewhere`);
    expect(plain.statusCode).toBe(400);
    await plain.body.text();
    await proxy.close();
    expect(records).toHaveLength(0);
  });
});
