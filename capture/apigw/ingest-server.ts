// Why this file exists: it is the destination URL a team's API Gateway forwarder POSTs to. It
// guards the door (API key, size limits, a memory budget), hands each body to ingestDelivery,
// and maps the outcome to the status codes an at-least-once sender acts on: 2xx = delete the
// message, 4xx = give up on it (it is in our dead-letter file), 503 = retry later.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { RepriseError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { StoreWriterOptions, StoreWriterSummary } from '../../store/segment-writer.js';
import { openAnyStoreWriter } from '../../store/open-store-writer.js';
import type { ApigwMapOptions } from './apigw-payload.js';
import { PointerUnresolvedError, type ResolvePointer } from './apigw-pointer.js';
import { openDeadLetter } from './dead-letter.js';
import { DurableWriter, type FlushableSink } from './durable-writer.js';
import { ingestDelivery, newIngestStats, type DeliveryContext, type IngestStats } from './ingest-delivery.js';
import { DedupeWindow } from './ingest-dedupe.js';

export interface IngestServerOptions {
  /** Address to listen on (default 127.0.0.1) and port (default 9000; 0 picks a free one). */
  host?: string;
  port?: number;
  /** Store to append to. */
  store: string;
  /** The key senders must present in `x-api-key`. */
  apiKey: string;
  /** Largest POST body accepted (default 32 MiB: one API Gateway payload can carry a 10 MB request and a 10 MB response). */
  maxBodyBytes?: number;
  /** Bytes of request bodies held at once across all requests; past it new data gets 503 (default 256 MiB). */
  maxInflightBytes?: number;
  /** Dead-letter NDJSON file (default `<store>/dead-letter.ndjson`). */
  deadLetterFile?: string;
  /** How long a delivered payload is remembered for dedupe (default 15 minutes, above SQS's default visibility timeout and Lambda retry spans). */
  dedupeWindowMs?: number;
  /** Dedupe keys remembered at most (default 1,000,000 ≈ 150 MB). */
  dedupeMaxEntries?: number;
  /** Fetches extended-client pointers; without it a pointer payload is rejected. */
  resolvePointer?: ResolvePointer;
  /** `source.captureId` of the records (default `ingest-<ISO start time>`). */
  captureId?: string;
  bodyCap?: number;
  redactHeaders?: ApigwMapOptions['redactHeaders'];
  writer?: StoreWriterOptions;
  /** A store writer to use instead of opening `store` (tests, other backends). */
  sink?: FlushableSink;
  log?: Logger;
  now?: () => number;
}

export interface IngestSummary extends IngestStats {
  store: StoreWriterSummary;
  deadLetterFile: string;
  dedupeEvictedEarly: number;
}

export interface IngestServer {
  url: string;
  port: number;
  readonly stats: IngestStats;
  /** Stop accepting, let running deliveries finish (at most `drainMs`, default 10 s), flush and close the store. */
  close(drainMs?: number): Promise<IngestSummary>;
}

/**
 * Start the ingest endpoint. Answers: 202/207 once payloads are durable (body
 * `{accepted, duplicates, rejected, errors}`), 400 when nothing in the delivery was valid,
 * 401 without the right key, 413 over the size limit, 503 when the store, S3 or the memory
 * budget says "not now". `GET /healthz` needs no key; `GET /stats` does.
 *
 * @example
 * const server = await startIngestServer({ store: './store', apiKey: process.env.INGEST_KEY!, port: 9000 });
 * process.once('SIGTERM', () => void server.close());
 */
export async function startIngestServer(options: IngestServerOptions): Promise<IngestServer> {
  if (options.apiKey === '') throw new RepriseError('APIGW_CONFIG_INVALID', 'the ingest API key is empty');
  const keyDigest = digest(options.apiKey);
  const maxBody = options.maxBodyBytes ?? 32 * 1024 * 1024;
  const budget = options.maxInflightBytes ?? 256 * 1024 * 1024;
  const now = options.now ?? Date.now;
  const deadLetterFile = options.deadLetterFile ?? join(options.store, 'dead-letter.ndjson');
  const sink = options.sink ?? (await openAnyStoreWriter(options.store, options.writer));
  // A server that never started leaves no empty store or dead-letter file it created behind.
  const closeSinkAfterError = (): Promise<unknown> => (sink.closeAfterError ? sink.closeAfterError() : sink.close());
  const deadLetter = await openDeadLetter(deadLetterFile, { ...(options.redactHeaders !== undefined ? { redactHeaders: options.redactHeaders } : {}) }).catch(async (err: unknown) => {
    await closeSinkAfterError();
    throw err;
  });
  const stats = newIngestStats();
  const dedupe = new DedupeWindow({ windowMs: options.dedupeWindowMs ?? 15 * 60_000, ...(options.dedupeMaxEntries ? { maxEntries: options.dedupeMaxEntries } : {}), now });
  const ctx: DeliveryContext = {
    durable: new DurableWriter(sink),
    deadLetter,
    dedupe,
    map: { captureId: options.captureId ?? `ingest-${new Date(now()).toISOString()}`, ...(options.bodyCap !== undefined ? { bodyCap: options.bodyCap } : {}), ...(options.redactHeaders !== undefined ? { redactHeaders: options.redactHeaders } : {}) },
    stats,
    now,
    ...(options.resolvePointer ? { resolvePointer: options.resolvePointer } : {}),
  };
  const log = options.log;
  let inflightBytes = 0;
  let closing = false;
  const running = new Set<Promise<void>>();

  const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    const task = handle(req, res).catch((err: unknown) => {
      log?.error({ err }, 'ingest: unexpected error (this is a bug)');
      if (!res.headersSent) reply(res, 500, { error: 'internal error' });
    });
    running.add(task);
    void task.finally(() => running.delete(task));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') return reply(res, 200, { ok: true });
    if (closing) return refuse(req, res, 503, { error: 'shutting down; retry' }, { 'retry-after': '1' });
    if (!authorized(req.headers['x-api-key'], keyDigest)) {
      stats.unauthorized++;
      return refuse(req, res, 401, { error: 'missing or wrong x-api-key' });
    }
    if (req.method === 'GET' && path === '/stats') return reply(res, 200, { ...stats, dedupeKeys: dedupe.size, dedupeEvictedEarly: dedupe.evictedEarly });
    if (req.method !== 'POST') return refuse(req, res, 405, { error: 'POST payloads here' }, { allow: 'POST' });
    const encoding = req.headers['content-encoding'];
    if (encoding && encoding !== 'identity') return refuse(req, res, 415, { error: `Content-Encoding ${encoding} is not supported; send identity` });
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > maxBody) {
      stats.tooLarge++;
      return refuse(req, res, 413, { error: `body is ${declared} bytes, over the ${maxBody}-byte limit` });
    }
    let bytes = 0;
    try {
      const body = await new Promise<Buffer | Refusal | null>((resolve) => {
        const chunks: Buffer[] = [];
        const onData = (chunk: Buffer): void => {
          bytes += chunk.length;
          inflightBytes += chunk.length;
          const refusal = bytes > maxBody
            ? (stats.tooLarge++, { status: 413, body: { error: `body is over the ${maxBody}-byte limit` } })
            : inflightBytes > budget
              ? (stats.retryLater++, { status: 503, body: { error: 'busy: too many bytes in flight; retry' }, headers: { 'retry-after': '1' } })
              : null;
          if (!refusal) return void chunks.push(chunk);
          req.off('data', onData);
          resolve(refusal);
        };
        req.on('data', onData);
        req.once('end', () => resolve(Buffer.concat(chunks)));
        req.once('close', () => resolve(null)); // the sender went away mid-body: nothing to answer
        req.once('error', () => resolve(null));
      });
      if (body === null) return;
      if (!Buffer.isBuffer(body)) return refuse(req, res, body.status, body.body, body.headers);
      const source = `ingest ${req.socket.remoteAddress ?? '?'}`;
      const result = await ingestDelivery(body, req.headers['content-type'], source, ctx);
      if (result.rejected > 0) log?.warn({ source, rejected: result.rejected, first: result.errors[0] }, 'ingest: payloads rejected and dead-lettered');
      reply(res, result.status, result);
    } catch (err) {
      stats.retryLater++;
      const retryable = !(err instanceof RepriseError) || err instanceof PointerUnresolvedError || err.code.startsWith('STORE') || err.code === 'OUTPUT_UNWRITABLE';
      log?.error({ err: { code: (err as RepriseError).code, message: (err as Error).message } }, 'ingest: delivery not stored; answering 503 so the sender retries');
      if (!res.headersSent) reply(res, retryable ? 503 : 500, { error: (err as Error).message }, { 'retry-after': '5' });
    } finally {
      inflightBytes -= bytes;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new RepriseError('CAPTURE_LISTEN', `cannot listen on ${options.host ?? '127.0.0.1'}:${options.port ?? 9000}: ${err.code ?? err.message}`, { cause: err })));
    server.listen(options.port ?? 9000, options.host ?? '127.0.0.1', () => resolve());
  }).catch(async (err: unknown) => {
    await deadLetter.closeAfterError();
    await closeSinkAfterError();
    throw err;
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  log?.info({ url: `http://${host}:${address.port}`, store: options.store, deadLetterFile }, 'ingest: listening');

  let closed: Promise<IngestSummary> | null = null;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    stats,
    close(drainMs = 10_000) {
      closed ??= (async () => {
        closing = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), drainMs);
        await Promise.allSettled([...running]);
        server.closeAllConnections();
        await stopped;
        clearTimeout(timer);
        const store = await ctx.durable.close();
        await deadLetter.close();
        return { ...stats, store, deadLetterFile, dedupeEvictedEarly: dedupe.evictedEarly };
      })();
      return closed;
    },
  };
}

interface Refusal {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time: both sides are hashed to 32 bytes first, so neither content nor length leaks through timing. */
function authorized(header: string | string[] | undefined, keyDigest: Buffer): boolean {
  if (typeof header !== 'string' || header === '') return false;
  return timingSafeEqual(digest(header), keyDigest);
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Answer before (or without) reading the whole body, then close. The rest of the body is read
 * and discarded up to a bound, so the client sees our answer rather than a connection reset
 * from unread data; a sender that keeps going past the bound is cut off.
 */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  reply(res, status, body, { ...headers, connection: 'close' });
  let discarded = 0;
  req.on('data', (c: Buffer) => {
    discarded += c.length;
    if (discarded > 8 * 1024 * 1024) req.destroy();
  });
  req.on('error', () => undefined);
  req.resume();
}
