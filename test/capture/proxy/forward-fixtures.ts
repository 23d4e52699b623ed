import { execFile } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeAll } from 'vitest';
import { ProxyAgent } from 'undici';
import { createCa, issueLeaf, openCaSigner, type CaPem } from '../../../capture/proxy/ca-create.js';
import { startForwardProxy, type ForwardProxy, type ForwardProxyOptions } from '../../../capture/proxy/forward-proxy.js';
import { ExchangeRecorder, type RecordSink } from '../../../capture/proxy/exchange-recorder.js';
import type { Exchange } from '../../../store/exchange.js';

/**
 * Real servers and clients for the forward-proxy tests: an upstream that
 * echoes what it received (plain and HTTPS, the latter with a certificate
 * from a second test CA, so "the client saw the real certificate" can be
 * told apart from "reprise minted one"), a recorder over an in-memory sink,
 * and curl with a clean proxy environment.
 */

export function memoryRecorder(): { recorder: ExchangeRecorder; records: Exchange[] } {
  const records: Exchange[] = [];
  const sink: RecordSink = { write: async (ex) => void records.push(ex), close: async () => undefined };
  return { recorder: new ExchangeRecorder(sink), records };
}

/** Deterministic binary bytes (every byte value occurs). */
export function binaryBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
}

/** What the echo upstream answers on /echo. */
export interface EchoReply {
  method: string;
  url: string;
  rawHeaders: string[];
  body: string;
}

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/gzip') {
      const z = gzipSync(JSON.stringify({ zipped: true, pad: 'z'.repeat(2000) }));
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': z.length, 'set-cookie': 'sid=upstream-secret; Path=/' });
      return void res.end(z);
    }
    if (url.pathname === '/big') {
      const bytes = binaryBytes(Number(url.searchParams.get('n') ?? 1024));
      res.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked
      for (let i = 0; i < bytes.length; i += 65536) res.write(bytes.subarray(i, i + 65536));
      return void res.end();
    }
    if (url.pathname === '/hang') return; // never answers
    if (url.pathname === '/reset') {
      // Head and part of the body, then the connection dies.
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
      res.write('partial body ');
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    const reply: EchoReply = { method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, body: Buffer.concat(chunks).toString('base64') };
    const text = JSON.stringify(reply);
    res.writeHead(200, [
      ['Content-Type', 'application/json'],
      ['X-Dup', 'one'],
      ['Set-Cookie', 'sid=upstream-secret; Path=/'],
      ['X-Dup', 'two'],
      ['Content-Length', String(Buffer.byteLength(text))],
    ].flat());
    res.end(text);
  });
}

export interface TestServer {
  port: number;
  close(): Promise<void>;
}

function listen(server: http.Server): Promise<TestServer> {
  // Whole seconds: Keep-Alive advertises timeout=floor(ms/1000), and 0 would make clients drop every connection.
  server.keepAliveTimeout = 5000;
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({
        port,
        close: () => new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
      });
    });
  });
}

export function startEchoUpstream(): Promise<TestServer> {
  const server = http.createServer(handle);
  // An "echo" protocol upgrade: 101, then every byte comes back.
  server.on('upgrade', (_req, socket: Duplex) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
    socket.pipe(socket);
  });
  return listen(server);
}

/** An HTTPS echo upstream for `localhost`, its certificate signed by `ca`. */
export async function startHttpsUpstream(ca: CaPem): Promise<TestServer> {
  const leaf = await issueLeaf(await openCaSigner(ca), 'localhost');
  return listen(https.createServer({ cert: leaf.cert, key: leaf.key }, handle));
}

let cas: Promise<{ reprise: CaPem; upstream: CaPem }> | null = null;

/** reprise's CA (clients trust it) and the upstream's own CA (the proxy trusts it); made once per test file. */
export function testCas(): Promise<{ reprise: CaPem; upstream: CaPem }> {
  cas ??= (async () => ({ reprise: await createCa(), upstream: await createCa({ commonName: 'upstream test CA' }) }))();
  return cas;
}

/** Run curl without any proxy settings inherited from the environment. */
export function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/_proxy$/i.test(k)) delete env[k];
  return new Promise((resolve) => {
    execFile('/usr/bin/curl', ['-sS', '--max-time', '10', ...args], { env, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Header value lookup on [name, value] pairs, all values in order. */
export function headerValues(headers: readonly [string, string][], name: string): string[] {
  return headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
}

export interface ForwardSuite {
  /** The reprise and upstream test CAs, made once for the suite (set by its beforeAll). */
  cas: { reprise: CaPem; upstream: CaPem };
  /** Run last-first after each test. */
  cleanups: Array<() => Promise<unknown>>;
  /** An HTTPS upstream, an intercepting forward proxy recording in memory, and a client trusting the reprise CA; all closed after the test. */
  interceptingProxy(options?: Partial<ForwardProxyOptions>): Promise<{ proxy: ForwardProxy; upstream: TestServer; records: Exchange[]; agent: ProxyAgent }>;
}

/** Registers the hooks an HTTPS forward-proxy suite needs; call at the top of the test file. */
export function forwardSuite(): ForwardSuite {
  const suite: ForwardSuite = {
    cas: undefined as unknown as ForwardSuite['cas'],
    cleanups: [],
    async interceptingProxy(options = {}) {
      const upstream = await startHttpsUpstream(suite.cas.upstream);
      suite.cleanups.push(() => upstream.close());
      const { recorder, records } = memoryRecorder();
      const proxy = await startForwardProxy({ listen: { host: '127.0.0.1', port: 0 }, recorder, ca: suite.cas.reprise, upstreamCa: suite.cas.upstream.cert, ...options });
      suite.cleanups.push(() => proxy.close());
      const agent = new ProxyAgent({ uri: proxy.address.url, requestTls: { ca: suite.cas.reprise.cert }, keepAliveTimeout: 100 });
      suite.cleanups.push(() => agent.close());
      return { proxy, upstream, records, agent };
    },
  };
  beforeAll(async () => {
    suite.cas = await testCas();
  });
  afterEach(async () => {
    for (const c of suite.cleanups.splice(0).reverse()) await c();
  });
  return suite;
}
