// Why this file exists: it checks that exported HAR carries the full set of HAR 1.2 fields tools
// expect, derived from the stored Exchange, and that a failed export leaves no half-written file
// and closes its source.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RepriseError } from '../../../errors.js';
import type { Exchange } from '../../../store/exchange.js';
import { exportHar } from '../../../store/export/har-export.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { syntheticExchange } from '../../support/synthetic-exchange.js';

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => { tmp = await makeTempDir(); });
afterEach(async () => { await tmp.cleanup(); });

type Json = Record<string, any>; // parsed HAR, read loosely in assertions

async function* from(items: Exchange[]): AsyncGenerator<Exchange> {
  yield* items;
}

async function exportAndRead(items: Exchange[]): Promise<Json> {
  const out = join(tmp.dir, 'out.har');
  await exportHar(from(items), out);
  return JSON.parse(await readFile(out, 'utf8')) as Json;
}

function richExchange(): Exchange {
  const ex = syntheticExchange(3); // POST /orders with a JSON body
  ex.start = Date.UTC(2026, 2, 14, 10, 0, 0, 123) * 1000 + 456;
  ex.duration = 25_750;
  ex.request.query = 'q=caf%C3%A9+mug&tag=a&tag=b&flag&bad=%E0%A4%A';
  ex.request.headers.push(['Cookie', 'sid=abc; theme=dark'], ['Content-Type', 'application/json']);
  ex.response!.statusText = 'Created';
  ex.response!.headers = [
    ['Location', '/orders/9'], ['Set-Cookie', 'sid=new; Path=/; HttpOnly; Secure; SameSite=Lax; Expires=Wed, 21 Oct 2026 07:28:00 GMT'],
    ['Set-Cookie', 'csrf=x'], ['Content-Encoding', 'gzip'], ['Content-Length', '40'], ['Content-Type', 'application/json'],
  ];
  ex.response!.body = { encoding: 'utf8', data: '{"id":9}'.padEnd(100), size: 100, contentEncoding: 'gzip' };
  ex.network = { client: '10.0.0.2:5123', server: '10.0.0.9:8080' };
  ex.redactions = ['request.headers.cookie'];
  return ex;
}

describe('exportHar', () => {
  it('writes a HAR 1.2 document with the full set of fields', async () => {
    const har = await exportAndRead([richExchange()]);
    expect(har.log).toMatchObject({ version: '1.2', creator: { name: 'reprise' } });
    const [e] = har.log.entries as Json[];
    expect(e!.startedDateTime).toBe('2026-03-14T10:00:00.123Z');
    expect(e!.time).toBe(25.75);
    expect(e!.request).toMatchObject({
      method: 'POST',
      url: 'http://api.example.test:8080/orders?q=caf%C3%A9+mug&tag=a&tag=b&flag&bad=%E0%A4%A',
      httpVersion: 'HTTP/1.1',
      queryString: [{ name: 'q', value: 'café mug' }, { name: 'tag', value: 'a' }, { name: 'tag', value: 'b' }, { name: 'flag', value: '' }, { name: 'bad', value: '%E0%A4%A' }],
      cookies: [{ name: 'sid', value: 'abc' }, { name: 'theme', value: 'dark' }],
      postData: { mimeType: 'application/json', text: '{"item":3}' },
      headersSize: -1,
      bodySize: 10,
    });
    expect(e!.request.postData).not.toHaveProperty('encoding');
    expect(e!.response).toMatchObject({
      status: 201, statusText: 'Created', httpVersion: 'HTTP/1.1', redirectURL: '/orders/9', headersSize: -1, bodySize: 40,
      content: { size: 100, compression: 60, mimeType: 'application/json', text: '{"id":9}'.padEnd(100) },
      cookies: [
        { name: 'sid', value: 'new', path: '/', httpOnly: true, secure: true, sameSite: 'Lax', expires: '2026-10-21T07:28:00.000Z' },
        { name: 'csrf', value: 'x' },
      ],
    });
    expect(e!.cache).toEqual({});
    expect(e!.timings).toEqual({ send: 0, wait: 25.75, receive: 0 });
    expect(e!.serverIPAddress).toBe('10.0.0.9');
    expect(e!.connection).toBe('c3');
    expect(e!._reprise).toMatchObject({ v: 1, start: Date.UTC(2026, 2, 14, 10, 0, 0, 123) * 1000 + 456, duration: 25_750, timings: null, redactions: ['request.headers.cookie'] });
  });

  it('writes binary bodies as base64, stored timings as they are, and status 0 with _error when there is no response', async () => {
    const binary = syntheticExchange(0, { randomBody: true });
    binary.response!.body = { encoding: 'base64', data: Buffer.from([0xff, 0, 1]).toString('base64'), size: 3 };
    binary.request.body = { encoding: 'base64', data: Buffer.from([0xc3, 0x28]).toString('base64'), size: 2 };
    binary.timings = { blocked: 1, send: 0.5, wait: 3, receive: 1 };
    const failed = syntheticExchange(1);
    failed.response = null;
    failed.error = { kind: 'timeout', message: 'no response after 30 s' };
    failed.duration = null;
    const [b, f] = (await exportAndRead([binary, failed])).log.entries as Json[];
    expect(b!.response.content).toMatchObject({ size: 3, text: '/wAB', encoding: 'base64' });
    expect(b!.request.postData).toMatchObject({ text: 'wyg=', encoding: 'base64' });
    expect(b!.timings).toEqual({ blocked: 1, send: 0.5, wait: 3, receive: 1 });
    expect(b!._reprise).not.toHaveProperty('timings');
    expect(f!.response).toMatchObject({ status: 0, headers: [], content: { size: 0 } });
    expect(f!._error).toBe('no response after 30 s');
    expect(f!.time).toBe(0);
    expect(f!._reprise).toMatchObject({ duration: null, error: { kind: 'timeout' } });
  });

  it('streams many exchanges into valid JSON and counts them', async () => {
    const out = join(tmp.dir, 'many.har');
    async function* many(): AsyncGenerator<Exchange> {
      for (let i = 0; i < 3000; i++) yield syntheticExchange(i, { bodyBytes: 512 });
    }
    expect(await exportHar(many(), out)).toEqual({ count: 3000 });
    const har = JSON.parse(await readFile(out, 'utf8')) as Json;
    expect(har.log.entries).toHaveLength(3000);
    expect(await exportHar(from([]), join(tmp.dir, 'empty.har'))).toEqual({ count: 0 });
    expect(JSON.parse(await readFile(join(tmp.dir, 'empty.har'), 'utf8')).log.entries).toEqual([]);
  });

  it('leaves no partial file when the input fails, and keeps an existing file', async () => {
    const out = join(tmp.dir, 'keep.har');
    await writeFile(out, 'previous');
    async function* failing(): AsyncGenerator<Exchange> {
      yield syntheticExchange(0);
      throw new RepriseError('STORE_CORRUPT', 'bad segment');
    }
    await expect(exportHar(failing(), out)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    expect(await readFile(out, 'utf8')).toBe('previous');
    expect(await readdir(tmp.dir)).toEqual(['keep.har']);
  });

  it('reports an unwritable target as OUTPUT_UNWRITABLE and closes the source', async () => {
    let closed = false;
    async function* source(): AsyncGenerator<Exchange> {
      try {
        for (let i = 0; i < 1000; i++) yield syntheticExchange(i);
      } finally {
        closed = true;
      }
    }
    await expect(exportHar(source(), join(tmp.dir, 'no', 'such', 'dir.har'))).rejects.toMatchObject({ code: 'OUTPUT_UNWRITABLE' });
    expect(closed).toBe(true);
  });
});
