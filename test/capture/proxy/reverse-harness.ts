import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Pool } from 'undici';
import { ExchangeRecorder, openRecorder, type RecorderOptions, type RecordSink } from '../../../capture/proxy/exchange-recorder.js';
import { startReverseProxy, type ReverseProxy, type ReverseProxyOptions } from '../../../capture/proxy/reverse-proxy.js';
import type { Exchange } from '../../../store/exchange.js';
import { readExchanges } from '../../../store/segment-reader.js';
import { makeTempDir } from '../../support/temp-dir.js';

/**
 * Real things on loopback for the reverse-proxy suites: a node:http upstream,
 * the proxy writing to a temp store, and an undici client with short
 * keep-alive so nothing idles past a test. `cleanup()` (afterEach) closes all
 * of them, newest first.
 */

type Cleanup = () => Promise<unknown>;
const cleanups: Cleanup[] = [];

export async function cleanup(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
}

export interface Upstream {
  url: string;
  port: number;
  server: http.Server;
  /** Requests as the upstream received them: raw header lists and bodies. */
  received: Array<{ method: string; url: string; rawHeaders: string[]; body: Buffer }>;
}

/** A node:http upstream on 127.0.0.1:0; the handler sees the body already read. */
export async function startUpstream(handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<Upstream> {
  const received: Upstream['received'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ method: req.method!, url: req.url!, rawHeaders: req.rawHeaders, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, server, received };
}

export interface ProxyUnderTest {
  proxy: ReverseProxy;
  store: string;
  client: Pool;
  /** Close the proxy (flushing the store) and read every stored exchange back. */
  stopAndRead(): Promise<Exchange[]>;
}

/** The proxy with a recorder on a fresh temp store (or on `sink` when given). */
export async function startProxy(
  upstream: string,
  options: Partial<Omit<ReverseProxyOptions, 'recorder' | 'upstream'>> & { recorder?: RecorderOptions; sink?: RecordSink; segmentBytes?: number } = {},
): Promise<ProxyUnderTest> {
  const tmp = await makeTempDir('reprise-proxy-');
  cleanups.push(tmp.cleanup);
  const store = join(tmp.dir, 'store');
  const recorder = options.sink
    ? new ExchangeRecorder(options.sink, options.recorder)
    : await openRecorder(store, { ...options.recorder, writer: { flushIntervalMs: 50, ...(options.segmentBytes ? { segmentBytes: options.segmentBytes } : {}) } });
  const { recorder: _r, sink: _s, segmentBytes: _b, ...proxyOptions } = options;
  const proxy = await startReverseProxy({ listen: { host: '127.0.0.1', port: 0 }, upstream, recorder, shutdownTimeoutMs: 2_000, ...proxyOptions });
  cleanups.push(() => proxy.close());
  const client = new Pool(proxy.address.url, { keepAliveTimeout: 100, keepAliveMaxTimeout: 100, connections: 8 });
  cleanups.push(() => client.destroy());
  return {
    proxy,
    store,
    client,
    async stopAndRead() {
      await proxy.close();
      const out: Exchange[] = [];
      for await (const ex of readExchanges(store)) out.push(ex);
      return out;
    },
  };
}

/** A request through undici; the body read whole as bytes. */
export async function fetchBytes(client: Pool, opts: { path: string; method?: string; headers?: string[] | Record<string, string>; body?: Buffer | string | AsyncIterable<Buffer> }): Promise<{ status: number; rawHeaders: string[]; body: Buffer }> {
  const res = await client.request({ method: 'GET', ...opts, responseHeaders: 'raw' } as Parameters<Pool['request']>[0]);
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, rawHeaders: res.headers as unknown as string[], body };
}

/** Every byte of every segment, decompressed: what a secret scan must search. */
export async function storeBytes(store: string): Promise<Buffer> {
  const dir = join(store, 'segments');
  const parts: Buffer[] = [];
  for (const f of (await readdir(dir)).sort()) parts.push(gunzipSync(await readFile(join(dir, f))));
  return Buffer.concat(parts);
}

/** Header pairs of a flat list. */
export function pairs(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

/**
 * Send hand-written request bytes and read until the server closes: for what
 * undici will not send (Connection options, odd framing). Ask for
 * `Connection: close` in the request so the read ends.
 */
export function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // write, not end: a half-closed client makes node:http abort the request.
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}
