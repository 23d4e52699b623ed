import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { startIngestServer, type IngestServer, type IngestServerOptions } from '../../../capture/apigw/ingest-server.js';
import type { Exchange } from '../../../store/exchange.js';
import { readExchanges } from '../../../store/segment-reader.js';

export const API_KEY = 'test-key-5f1d2c9a8b7e';

export interface IngestHarness {
  server: IngestServer;
  store: string;
  deadLetter: string;
  post(body: unknown, options?: { key?: string | null; contentType?: string; raw?: string | Buffer; chunked?: boolean }): Promise<{ status: number; json: Record<string, unknown> }>;
  close(): Promise<void>;
}

/**
 * A real ingest server on 127.0.0.1:0 over a fresh store in `dir`, and a real undici client
 * with short keep-alive (no idle sockets left to hang the suite). The store's timer flush is
 * set to an hour, so anything found on disk right after a 2xx was flushed by the 2xx path.
 */
export async function startIngest(dir: string, options: Partial<IngestServerOptions> = {}): Promise<IngestHarness> {
  const store = join(dir, 'store');
  const deadLetter = join(dir, 'dead-letter.ndjson');
  const server = await startIngestServer({ port: 0, store, apiKey: API_KEY, deadLetterFile: deadLetter, writer: { flushIntervalMs: 3_600_000 }, ...options });
  const agent = new Agent({ keepAliveTimeout: 10, keepAliveMaxTimeout: 10 });
  let closed = false;
  return {
    server,
    store,
    deadLetter,
    async post(body, o = {}) {
      const text = o.raw ?? JSON.stringify(body);
      const headers: Record<string, string> = { 'content-type': o.contentType ?? 'application/json' };
      if (o.key !== null) headers['x-api-key'] = o.key ?? API_KEY;
      const res = await request(`${server.url}/`, {
        method: 'POST',
        headers,
        body: o.chunked ? Readable.from([Buffer.from(text)]) : text,
        dispatcher: agent,
      });
      const answer = await res.body.text();
      return { status: res.statusCode, json: answer ? (JSON.parse(answer) as Record<string, unknown>) : {} };
    },
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      await agent.close();
    },
  };
}

export async function storedExchanges(store: string): Promise<Exchange[]> {
  const out: Exchange[] = [];
  for await (const ex of readExchanges(store)) out.push(ex);
  return out;
}

export async function deadLetterLines(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** An exchange without what differs between two ingestions of the same payload (id, capture, receive time). */
export function comparable(ex: Exchange): unknown {
  const { id: _id, source: _source, ...rest } = ex;
  return rest;
}
