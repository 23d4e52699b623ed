// Why this file exists: it is the acceptance test for HAR support — HAR → store → HAR keeps what was
// on the wire (method, URL, header order and duplicates, bodies byte for byte), and
// import → export → import gives back deep-equal Exchanges.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importHar } from '../../../capture/har/har-import.js';
import type { Exchange } from '../../../store/exchange.js';
import { exportHar } from '../../../store/export/har-export.js';
import { readExchanges } from '../../../store/segment-reader.js';
import { openStoreWriter } from '../../../store/segment-writer.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { collect, harEntry, writeHar } from './har-test-files.js';

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => { tmp = await makeTempDir(); });
afterEach(async () => { await tmp.cleanup(); });

const SAMPLE = fileURLToPath(new URL('../../fixtures/har/sample-api.har', import.meta.url));

type Json = Record<string, any>; // parsed HAR, read loosely in assertions

/** Imports a HAR into a fresh store (secrets in clear: the wire must come back as it was) and reads it back. */
async function importToStore(file: string, store: string): Promise<Exchange[]> {
  const writer = await openStoreWriter(store);
  for await (const ex of importHar(file, { redactHeaders: false })) await writer.write(ex);
  await writer.close();
  return collect(readExchanges(store));
}

function bodyBytes(holder: Json | undefined): Buffer {
  if (!holder || holder.text === undefined) return Buffer.alloc(0);
  return Buffer.from(holder.text, holder.encoding === 'base64' ? 'base64' : 'utf8');
}

const withoutPseudo = (headers: Json[]): Json[] => headers.filter((h) => !h.name.startsWith(':'));

/** Compares the wire facts of two HAR entries: method, URL, headers in order, bodies as bytes. */
function expectSameWire(got: Json, want: Json, label: string): void {
  expect(got.request.method, label).toBe(want.request.method);
  expect(got.request.url, label).toBe(want.request.url.replace(/#.*$/, ''));
  expect(got.request.headers, label).toEqual(withoutPseudo(want.request.headers));
  expect(bodyBytes(got.request.postData).equals(bodyBytes(want.request.postData)), `${label} request body`).toBe(true);
  expect(got.response.status, label).toBe(want.response.status);
  if (want.response.status === 0) return;
  expect(got.response.headers, label).toEqual(withoutPseudo(want.response.headers));
  expect(bodyBytes(got.response.content).equals(bodyBytes(want.response.content)), `${label} response body`).toBe(true);
}

describe('HAR round trip through a store', () => {
  const binary = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0xed, 0xa0, 0x80]), randomBytes(4096)]); // never valid UTF-8
  const utf8 = `Grüße — 日本語 — 🎉 «quoted» ${'ü'.repeat(200)}`;
  const request = harEntry().request as Json;
  const response = harEntry().response as Json;
  const entries: Json[] = [
    harEntry({
      startedDateTime: '2026-03-14T10:00:00.123456Z',
      request: {
        ...request, method: 'POST', url: 'https://api.test:8443/upload/a%2Fb/../c?name=a%20b&x=1&x=2&empty=&flag#top',
        headers: [
          { name: 'Host', value: 'api.test:8443' }, { name: 'X-Trace', value: '1' }, { name: 'Cookie', value: 'a=1' },
          { name: 'x-trace', value: '2' }, { name: 'Cookie', value: 'b=2' }, { name: 'Content-Type', value: 'application/octet-stream' },
        ],
        postData: { mimeType: 'application/octet-stream', text: binary.toString('base64'), encoding: 'base64' },
      },
      response: {
        ...response, status: 201, statusText: 'Created',
        headers: [{ name: 'Set-Cookie', value: 'sid=1; Path=/; HttpOnly' }, { name: 'Content-Type', value: 'text/plain; charset=utf-8' }, { name: 'Set-Cookie', value: 'csrf=2; Secure' }],
        content: { size: Buffer.byteLength(utf8), mimeType: 'text/plain', text: utf8 },
      },
      connection: '7',
    }),
    harEntry({
      request: { ...request, url: 'https://api.test/logo.png', postData: { mimeType: 'text/plain', text: utf8 } },
      response: { ...response, headers: [{ name: 'Content-Type', value: 'image/png' }], content: { size: binary.length, mimeType: 'image/png', text: binary.toString('base64'), encoding: 'base64' } },
      connection: '7',
    }),
    harEntry({
      request: { ...request, method: 'PUT', url: 'https://api.test/empty', postData: { mimeType: 'text/plain', text: '' } },
      response: { ...response, status: 204, statusText: 'No Content', headers: [], content: { size: 0, mimeType: 'x-unknown', text: '' } },
    }),
    harEntry({
      request: { ...request, url: 'https://api.test/users/123', httpVersion: 'h2', headers: [{ name: ':authority', value: 'api.test' }, { name: ':path', value: '/users/123' }, { name: 'accept-encoding', value: 'gzip' }] },
      response: { ...response, httpVersion: 'h2', statusText: '', headers: [{ name: 'content-encoding', value: 'gzip' }, { name: 'content-type', value: 'application/json' }], content: { size: 13, mimeType: 'application/json', text: '{"name":"Zoë"}' } },
      timings: { blocked: -1, dns: -1, connect: -1, send: 0.1, wait: 5.25, receive: 0.5 },
      serverIPAddress: '203.0.113.9',
    }),
    harEntry({ request: { ...request, url: 'http://down.test/' }, response: { ...response, status: 0, headers: [], content: { size: 0, mimeType: 'x-unknown' } }, _error: 'net::ERR_CONNECTION_RESET', time: -1, timings: {} }),
  ];

  it('keeps method, URL, header order, duplicate headers and body bytes', async () => {
    const file = await writeHar(tmp.dir, 'in.har', entries);
    const stored = await importToStore(file, join(tmp.dir, 'store'));
    expect(stored).toHaveLength(entries.length);
    expect(stored[2]!.request.body).toBeNull();
    expect(stored[2]!.response!.body).toBeNull();

    const out = join(tmp.dir, 'out.har');
    expect(await exportHar(readExchanges(join(tmp.dir, 'store')), out)).toEqual({ count: entries.length });
    const har = JSON.parse(await readFile(out, 'utf8')) as Json;
    expect(har.log).toMatchObject({ version: '1.2', creator: { name: 'reprise' } });
    har.log.entries.forEach((got: Json, i: number) => expectSameWire(got, entries[i]!, `entries[${i}]`));
    expect(bodyBytes(har.log.entries[0].request.postData).equals(binary)).toBe(true);
    expect(har.log.entries[0].request.postData.encoding).toBe('base64');
    expect(bodyBytes(har.log.entries[1].response.content).equals(binary)).toBe(true);
    expect(har.log.entries[0].response.content.text).toBe(utf8);
    expect(har.log.entries[2].request).not.toHaveProperty('postData');
    expect(har.log.entries[2].response.content).not.toHaveProperty('text');
    expect(har.log.entries[4]).toMatchObject({ response: { status: 0 }, _error: 'net::ERR_CONNECTION_RESET' });

    const again = await collect(importHar(out, { redactHeaders: false }));
    expect(again).toStrictEqual(stored);
  });

  it('import → export → import gives deep-equal Exchanges, without a store too', async () => {
    const file = await writeHar(tmp.dir, 'in.har', entries);
    const first = await collect(importHar(file, { redactHeaders: false }));
    await exportHar(toAsync(first), join(tmp.dir, 'a.har'));
    const second = await collect(importHar(join(tmp.dir, 'a.har'), { redactHeaders: false }));
    expect(second).toStrictEqual(first);
    await exportHar(toAsync(second), join(tmp.dir, 'b.har'));
    expect(await readFile(join(tmp.dir, 'b.har'), 'utf8')).toBe(await readFile(join(tmp.dir, 'a.har'), 'utf8'));
  });

  it('round-trips the committed sample HAR (60 entries, PNG, gzip, h2, Set-Cookie pairs)', async () => {
    const store = join(tmp.dir, 'store');
    const stored = await importToStore(SAMPLE, store);
    expect(stored).toHaveLength(60);
    const out = join(tmp.dir, 'sample-out.har');
    await exportHar(readExchanges(store), out);
    const original = JSON.parse(await readFile(SAMPLE, 'utf8')) as Json;
    const exported = JSON.parse(await readFile(out, 'utf8')) as Json;
    exported.log.entries.forEach((got: Json, i: number) => expectSameWire(got, original.log.entries[i], `sample entries[${i}]`));
    expect(await collect(importHar(out, { redactHeaders: false }))).toStrictEqual(stored);
  });
});

async function* toAsync<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}
