import { writeFile } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { ProxyAgent, request } from 'undici';
import { openRecorder } from '../../../capture/proxy/exchange-recorder.js';
import { startForwardProxy } from '../../../capture/proxy/forward-proxy.js';
import { bodyToBuffer } from '../../../store/body.js';
import type { Exchange } from '../../../store/exchange.js';
import { readExchanges } from '../../../store/segment-reader.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { curl, forwardSuite, headerValues, startEchoUpstream, startHttpsUpstream, type EchoReply } from './forward-fixtures.js';

/**
 * HTTPS interception: clients trust reprise's CA, the proxy trusts the
 * upstream's (a second test CA), and the decrypted exchanges are recorded.
 * Pass-through hosts are tunnelled: the client sees the upstream's own
 * certificate and nothing is recorded.
 */

const suite = forwardSuite();
const { cleanups } = suite;

/** CONNECT through the proxy by hand; resolves with the raw socket once the proxy said 200. */
function connectThrough(proxyPort: number, authority: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect(proxyPort, '127.0.0.1', () => s.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
    s.once('error', reject);
    s.once('data', (chunk: Buffer) => {
      const head = chunk.toString('latin1');
      if (!head.startsWith('HTTP/1.1 200')) return reject(new Error(`CONNECT refused: ${head}`));
      resolve(s);
    });
  });
}

/** TLS over a tunnel: the certificate the client was shown. */
function peerCertificateThrough(socket: Socket, ca: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const t = tlsConnect({ socket, servername: 'localhost', ca }, () => {
      resolve(t.getPeerCertificate());
      t.destroy();
    });
    t.once('error', reject);
  });
}

describe('forward proxy, HTTPS interception', () => {
  it('undici trusting the reprise CA gets answers; exchanges are recorded decrypted with scheme https', async () => {
    const { proxy, upstream, records, agent } = await suite.interceptingProxy();
    const res = await request(`https://localhost:${upstream.port}/echo?q=1`, { dispatcher: agent, method: 'PUT', body: 'hello over tls', headers: { 'content-type': 'text/plain' } });
    expect(res.statusCode).toBe(200);
    const reply = (await res.body.json()) as EchoReply;
    expect(Buffer.from(reply.body, 'base64').toString()).toBe('hello over tls');
    const gz = await request(`https://localhost:${upstream.port}/gzip`, { dispatcher: agent });
    await gz.body.arrayBuffer();
    const stats = await proxy.close();
    expect(stats).toMatchObject({ tunnelled: 0, requests: 2, certsIssued: 1 });
    expect(stats.intercepted).toBeGreaterThanOrEqual(1);
    expect(records).toHaveLength(2);
    const [ex, z] = records;
    expect(ex!.request).toMatchObject({ method: 'PUT', scheme: 'https', authority: `localhost:${upstream.port}`, path: '/echo', query: 'q=1' });
    expect(bodyToBuffer(ex!.request.body).toString()).toBe('hello over tls');
    expect(JSON.parse(bodyToBuffer(ex!.response!.body).toString()).url).toBe('/echo?q=1');
    expect(ex!.network?.tls).toBe(true);
    expect(JSON.parse(bodyToBuffer(z!.response!.body).toString())).toMatchObject({ zipped: true });
    expect(z!.response!.body?.contentEncoding).toBe('gzip');
  });

  it('curl --proxy with --cacert reprise CA gets answers through the interception', async () => {
    const { proxy, upstream, records } = await suite.interceptingProxy();
    const { dir, cleanup } = await makeTempDir();
    cleanups.push(cleanup);
    await writeFile(join(dir, 'ca.crt'), suite.cas.reprise.cert);
    const r = await curl(['--proxy', proxy.address.url, '--cacert', join(dir, 'ca.crt'), '-H', 'X-From: curl', `https://localhost:${upstream.port}/echo?via=curl`]);
    expect(r.stderr).toBe('');
    expect((JSON.parse(r.stdout) as EchoReply).url).toBe('/echo?via=curl');
    await proxy.close();
    expect(records).toHaveLength(1);
    expect(records[0]!.request).toMatchObject({ scheme: 'https', path: '/echo', query: 'via=curl' });
    expect(headerValues(records[0]!.request.headers, 'x-from')).toEqual(['curl']);
  });

  it('a client that does not trust the reprise CA fails its handshake, and it is counted', async () => {
    const { proxy, upstream } = await suite.interceptingProxy();
    const r = await curl(['--proxy', proxy.address.url, `https://localhost:${upstream.port}/echo`]);
    expect(r.code).not.toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(proxy.stats.clientTlsErrors).toBe(1);
  });

  it('a pass-through host is tunnelled: the client sees the upstream certificate, nothing is recorded', async () => {
    const { proxy, upstream, records } = await suite.interceptingProxy({ passThrough: ['LOCALHOST'] });
    const socket = await connectThrough(proxy.address.port, `localhost:${upstream.port}`);
    // The client trusts only the upstream's CA: this handshake succeeds only if reprise stayed out of it.
    const cert = await peerCertificateThrough(socket, suite.cas.upstream.cert);
    expect(cert.issuer.CN).toBe('upstream test CA');
    expect(cert.issuer.CN).not.toMatch(/^reprise CA/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const stats = await proxy.close();
    expect(stats).toMatchObject({ tunnelled: 1, intercepted: 0, certsIssued: 0 });
    expect(records).toHaveLength(0);
  });

  it('an intercepted host is shown a reprise leaf for its name', async () => {
    const { proxy, upstream } = await suite.interceptingProxy();
    const socket = await connectThrough(proxy.address.port, `localhost:${upstream.port}`);
    const cert = await peerCertificateThrough(socket, suite.cas.reprise.cert);
    expect(cert.issuer.CN).toMatch(/^reprise CA/);
    expect(cert.subjectaltname).toBe('DNS:localhost');
  });

  it('many requests to one host sign one leaf certificate', async () => {
    const { proxy, upstream, records, agent } = await suite.interceptingProxy();
    // Concurrent requests open several tunnels at once: they share one signing.
    const all = await Promise.all(Array.from({ length: 24 }, (_, i) => request(`https://localhost:${upstream.port}/echo?i=${i}`, { dispatcher: agent }).then((r) => r.body.text().then(() => r.statusCode))));
    expect(all.every((s) => s === 200)).toBe(true);
    const stats = await proxy.close();
    expect(stats.certsIssued).toBe(1);
    expect(stats.intercepted).toBeGreaterThan(1);
    expect(records).toHaveLength(24);
  });

  it('plain HTTP inside an intercepted CONNECT (undici tunnels http:// too) is recorded with scheme http', async () => {
    const { proxy, records, agent } = await suite.interceptingProxy();
    const plain = await startEchoUpstream();
    cleanups.push(() => plain.close());
    const res = await request(`http://127.0.0.1:${plain.port}/echo?t=1`, { dispatcher: agent });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    const stats = await proxy.close();
    expect(stats).toMatchObject({ intercepted: 1, certsIssued: 0 });
    expect(records[0]!.request).toMatchObject({ scheme: 'http', authority: `127.0.0.1:${plain.port}`, path: '/echo', query: 't=1' });
    expect(records[0]!.network?.tls).toBe(false);
  });

  it('a refused upstream behind an intercepted tunnel is a 502, recorded as failed', async () => {
    const { proxy, records, agent } = await suite.interceptingProxy();
    const down = await startEchoUpstream();
    const port = down.port;
    await down.close();
    const res = await request(`https://localhost:${port}/x`, { dispatcher: agent });
    expect(res.statusCode).toBe(502);
    await res.body.text();
    await proxy.close();
    expect(records[0]).toMatchObject({ response: null, error: { kind: 'refused' }, request: { scheme: 'https', path: '/x' } });
  });

  it('Authorization and Cookie never reach the store', async () => {
    const upstream = await startHttpsUpstream(suite.cas.upstream);
    cleanups.push(() => upstream.close());
    const { dir, cleanup } = await makeTempDir();
    cleanups.push(cleanup);
    const store = join(dir, 'store');
    const recorder = await openRecorder(store);
    const proxy = await startForwardProxy({ listen: { host: '127.0.0.1', port: 0 }, recorder, ca: suite.cas.reprise, upstreamCa: suite.cas.upstream.cert });
    cleanups.push(() => proxy.close());
    const agent = new ProxyAgent({ uri: proxy.address.url, requestTls: { ca: suite.cas.reprise.cert }, keepAliveTimeout: 100 });
    cleanups.push(() => agent.close());
    const headers = { authorization: 'Bearer tok-SECRET-1', cookie: 'session=cookie-SECRET-2; theme=dark' };
    const echo = await request(`https://localhost:${upstream.port}/echo`, { dispatcher: agent, headers });
    const reply = (await echo.body.json()) as EchoReply;
    expect(reply.rawHeaders).toContain('Bearer tok-SECRET-1'); // the upstream still gets them
    // Recorded: a request whose response does not echo the secrets back in its body.
    const res = await request(`https://localhost:${upstream.port}/gzip`, { dispatcher: agent, headers });
    await res.body.arrayBuffer();
    await proxy.close();
    const stored: Exchange[] = [];
    for await (const ex of readExchanges(store)) if (ex.request.path === '/gzip') stored.push(ex);
    expect(stored).toHaveLength(1);
    const text = JSON.stringify(stored);
    expect(text).not.toContain('SECRET');
    expect(text).not.toContain('upstream-secret'); // the response's Set-Cookie value
    expect(headerValues(stored[0]!.request.headers, 'authorization')).toEqual(['Bearer [REDACTED]']);
    expect(headerValues(stored[0]!.request.headers, 'cookie')).toEqual(['session=[REDACTED]; theme=[REDACTED]']);
    expect(stored[0]!.redactions).toEqual(expect.arrayContaining(['request.headers.authorization', 'request.headers.cookie', 'response.headers.set-cookie']));
  });
});
