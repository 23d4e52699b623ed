// Why this file exists: it checks the HAR → Exchange mapping field by field (versions, pseudo-headers,
// bodies, timings, provenance) and that bad input of any kind — wrong fields, broken JSON, random
// bytes, fuzzed files — ends as a RepriseError with the file and line of the problem.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importHar, newHarImportReport } from '../../../capture/har/har-import.js';
import { RepriseError } from '../../../errors.js';
import { bodyToBuffer } from '../../../store/body.js';
import { exchangeProblems } from '../../../store/validate-exchange.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { caught, collect, harDocument, harEntry, lineOf, writeHar } from './har-test-files.js';

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => { tmp = await makeTempDir(); });
afterEach(async () => { await tmp.cleanup(); });

const base = harEntry();
const baseRequest = base.request as Record<string, unknown>;
const baseResponse = base.response as Record<string, unknown>;

describe('importHar mapping', () => {
  it('maps a devtools-style h2 entry field by field', async () => {
    const entry = harEntry({
      startedDateTime: '2026-03-14T11:00:00.123456+01:00',
      time: 12.3456,
      request: {
        ...baseRequest,
        method: 'POST',
        url: 'https://api.test:8443/a%20b/./c?x=1&y=%2F&x=2#frag',
        httpVersion: 'h2',
        headers: [
          { name: ':authority', value: 'api.test:8443' }, { name: ':method', value: 'POST' },
          { name: 'X-Dup', value: '1' }, { name: 'content-encoding', value: 'gzip' }, { name: 'x-dup', value: '2' },
        ],
        postData: { mimeType: 'application/octet-stream', text: Buffer.from([0, 255, 1]).toString('base64'), encoding: 'base64' },
      },
      response: {
        ...baseResponse, httpVersion: 'HTTP/2.0', statusText: '',
        headers: [{ name: 'Set-Cookie', value: 'a=1' }, { name: 'set-cookie', value: 'b=2' }, { name: 'Content-Encoding', value: 'br' }],
        content: { size: 12, mimeType: 'text/plain', text: 'héllo 🎉' },
      },
      timings: { blocked: -1, dns: -1, send: 0.25, wait: 10, receive: 2.0956, _queued: 1 },
      serverIPAddress: '[2001:db8::1]',
      connection: '4711',
    });
    const file = await writeHar(tmp.dir, 'devtools.har', [entry, harEntry({ connection: '4711' }), harEntry()]);
    const [ex, second, third] = await collect(importHar(file, { redactHeaders: false }));
    expect(exchangeProblems(ex)).toEqual([]);
    expect(ex).toMatchObject({
      start: Date.UTC(2026, 2, 14, 10, 0, 0, 123) * 1000 + 456,
      duration: 12346,
      source: { kind: 'har', captureId: 'devtools.har', connection: '4711', seq: 0 },
      request: {
        method: 'POST', scheme: 'https', authority: 'api.test:8443', path: '/a%20b/./c', query: 'x=1&y=%2F&x=2', httpVersion: '2',
        headers: [['X-Dup', '1'], ['content-encoding', 'gzip'], ['x-dup', '2']],
        body: { encoding: 'base64', data: 'AP8B', size: 3, contentEncoding: 'gzip' },
      },
      response: {
        status: 200, httpVersion: '2',
        headers: [['Set-Cookie', 'a=1'], ['set-cookie', 'b=2'], ['Content-Encoding', 'br']],
        body: { encoding: 'utf8', data: 'héllo 🎉', size: 12, contentEncoding: 'br' },
      },
      network: { server: '[2001:db8::1]' },
      timings: { send: 0.25, wait: 10, receive: 2.0956, _queued: 1 },
    });
    expect(ex!.response).not.toHaveProperty('statusText');
    expect(second!.source).toEqual({ kind: 'har', captureId: 'devtools.har', connection: '4711', seq: 1 });
    expect(third!.source).toEqual({ kind: 'har', captureId: 'devtools.har' });
    expect(new Set([ex!.id, second!.id, third!.id]).size).toBe(3);
  });

  it('reads the same exchanges whatever the read size (entries split across chunks)', async () => {
    const entries = [
      harEntry({ request: { ...baseRequest, postData: { mimeType: 'text/plain', text: 'Grüße 🎉 "quoted" \\ ] } [ {' } } }),
      harEntry({ response: { ...baseResponse, content: { size: 9, mimeType: 'text/plain', text: '日本語' } } }),
    ];
    const file = await writeHar(tmp.dir, 'chunks.har', entries);
    const withoutIds = <T extends { id: string }>(xs: T[]): T[] => xs.map((x) => ({ ...x, id: '' }));
    const whole = withoutIds(await collect(importHar(file)));
    expect(whole[0]!.request.body!.data).toBe('Grüße 🎉 "quoted" \\ ] } [ {');
    for (const highWaterMark of [1, 2, 3, 7]) expect(withoutIds(await collect(importHar(file, { highWaterMark })))).toEqual(whole);
  });

  it('takes authority and scheme from pseudo-headers or Host when the URL is path-only', async () => {
    const h2 = harEntry({ request: { ...baseRequest, url: '/p?q', httpVersion: '', headers: [{ name: ':authority', value: 'a.test' }, { name: ':scheme', value: 'http' }] }, response: { ...baseResponse, httpVersion: '' } });
    const h1 = harEntry({ request: { ...baseRequest, url: '/p', headers: [{ name: 'Host', value: 'b.test:81' }] } });
    const [a, b] = await collect(importHar(await writeHar(tmp.dir, 'x.har', [h2, h1])));
    expect(a!.request).toMatchObject({ scheme: 'http', authority: 'a.test', path: '/p', query: 'q', httpVersion: '2', headers: [] });
    expect(b!.request).toMatchObject({ scheme: 'https', authority: 'b.test:81', path: '/p', httpVersion: '1.1' });
  });

  it('maps HTTP versions, empty bodies, missing text and status 0', async () => {
    const entries = [
      harEntry({ request: { ...baseRequest, httpVersion: 'h3', postData: { mimeType: 'text/plain', text: '' } }, response: { ...baseResponse, httpVersion: 'h3-29', content: { size: 0, mimeType: 'x-unknown', text: '' } } }),
      harEntry({ response: { ...baseResponse, content: { size: 2048, mimeType: 'image/png' } } }),
      harEntry({ response: { ...baseResponse, status: 0, httpVersion: '', headers: [], content: { size: 0, mimeType: 'x-unknown' } }, _error: 'net::ERR_CONNECTION_REFUSED' }),
      harEntry({ response: { ...baseResponse, status: 0 }, _error: 'net::ERR_TIMED_OUT' }),
      harEntry({ time: -1, timings: { send: -1, wait: -1, receive: -1 } }),
    ];
    const [h3, uncaptured, refused, timedOut, unknown] = await collect(importHar(await writeHar(tmp.dir, 'x.har', entries)));
    expect(h3!.request).toMatchObject({ httpVersion: '3', body: null });
    expect(h3!.response).toMatchObject({ httpVersion: '3', body: null });
    expect(uncaptured!.response!.body).toEqual({ encoding: 'utf8', data: '', size: 2048, truncated: true });
    expect(refused).toMatchObject({ response: null, error: { kind: 'refused', message: 'net::ERR_CONNECTION_REFUSED' } });
    expect(timedOut!.error!.kind).toBe('timeout');
    expect(unknown!.duration).toBeNull();
    expect(unknown).not.toHaveProperty('timings');
    for (const ex of [h3, uncaptured, refused, timedOut, unknown]) expect(exchangeProblems(ex)).toEqual([]);
  });

  it('keeps a base64 response body byte for byte', async () => {
    const bytes = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0xfe, 0xc3, 0x28]), randomBytes(3000)]);
    const entry = harEntry({ response: { ...baseResponse, content: { size: bytes.length, mimeType: 'image/png', text: bytes.toString('base64'), encoding: 'base64' } } });
    const [ex] = await collect(importHar(await writeHar(tmp.dir, 'x.har', [entry])));
    expect(ex!.response!.body!.encoding).toBe('base64');
    expect(bodyToBuffer(ex!.response!.body).equals(bytes)).toBe(true);
  });

  it('redacts secret headers by default, so a scenario or library import keeps them off disk too', async () => {
    const entry = harEntry({
      request: { ...baseRequest, headers: [{ name: 'Authorization', value: 'Bearer tok-1' }, { name: 'Cookie', value: 'sid=s-2' }, { name: 'X-Api-Key', value: 'k-3' }] },
      response: { ...baseResponse, headers: [{ name: 'Set-Cookie', value: 'sid=s-4; Path=/' }] },
    });
    const file = await writeHar(tmp.dir, 'x.har', [entry]);
    const [ex] = await collect(importHar(file));
    expect(JSON.stringify(ex)).not.toMatch(/tok-1|s-2|k-3|s-4/);
    expect(ex!.request.headers).toEqual([['Authorization', 'Bearer [REDACTED]'], ['Cookie', 'sid=[REDACTED]'], ['X-Api-Key', '[REDACTED]']]);
    expect(ex!.redactions).toEqual(['request.headers.authorization', 'request.headers.cookie', 'request.headers.x-api-key', 'response.headers.set-cookie']);
    const [clear] = await collect(importHar(file, { redactHeaders: false }));
    expect(clear!.request.headers[0]).toEqual(['Authorization', 'Bearer tok-1']);
  });

  it('uses the captureId option, reuses `_reprise.id`, and skips non-HTTP entries with a note', async () => {
    const entries = [
      harEntry({ _reprise: { v: 1, id: 'kept-id', start: Date.UTC(2026, 2, 14, 10) * 1000 + 7, duration: 5, source: { kind: 'proxy', captureId: 'p1' } } }),
      harEntry({ request: { ...baseRequest, url: 'data:image/png;base64,AAAA' } }),
      harEntry({ request: { ...baseRequest, url: 'chrome-extension://abc/x.js' } }),
      harEntry({ request: { ...baseRequest, url: 'wss://api.test/socket' } }),
    ];
    const report = newHarImportReport();
    const got = await collect(importHar(await writeHar(tmp.dir, 'x.har', entries), { captureId: 'session-7', report }));
    expect(got.map((x) => x.id)[0]).toBe('kept-id');
    expect(got[0]).toMatchObject({ start: Date.UTC(2026, 2, 14, 10) * 1000 + 7, source: { kind: 'proxy', captureId: 'session-7' } });
    expect(got[1]!.request).toMatchObject({ scheme: 'https', path: '/socket' });
    expect(report).toMatchObject({ entries: 4, imported: 2, skipped: 2 });
    expect(report.notes[0]).toMatch(/^entries\[1\]: skipped, data: URL/);
  });
});

describe('importHar on bad input', () => {
  async function importError(content: string | Buffer, name = 'bad.har'): Promise<RepriseError> {
    const file = await writeHar(tmp.dir, name, content);
    const err = await caught(() => collect(importHar(file)));
    expect(err).toBeInstanceOf(RepriseError);
    return err as RepriseError;
  }

  const cases: [string, () => unknown[], string, RegExp][] = [
    ['missing request.method', () => [harEntry(), harEntry({ request: { ...baseRequest, method: undefined } })], '"request": {', /^entries\[1\]\.request\.method: missing$/],
    ['empty request.method', () => [harEntry({ request: { ...baseRequest, method: '' } })], '"method"', /^entries\[0\]\.request\.method: must not be empty$/],
    ['missing request.url', () => [harEntry(), harEntry(), harEntry(), harEntry({ request: { ...baseRequest, url: undefined } })], '"request": {', /^entries\[3\]\.request\.url: missing$/],
    ['url of the wrong type', () => [harEntry({ request: { ...baseRequest, url: 42 } })], '"url"', /^entries\[0\]\.request\.url: must be a string, not number$/],
    ['url that is not a URL', () => [harEntry({ request: { ...baseRequest, url: 'not a url' } })], '"url"', /request\.url: not a URL/],
    ['missing request', () => [harEntry({ request: undefined })], '{', /^entries\[0\]\.request: missing$/],
    ['headers not a list', () => [harEntry({ request: { ...baseRequest, headers: 'Host: a' } })], '"headers"', /^entries\[0\]\.request\.headers: must be a list, not string$/],
    ['header without a value', () => [harEntry({ request: { ...baseRequest, headers: [{ name: 'A', value: 'b' }, { name: 'X' }] } })], '{\n              "name": "X"', /^entries\[0\]\.request\.headers\[1\]\.value: missing$/],
    ['status as a string', () => [harEntry({ response: { ...baseResponse, status: '200' } })], '"status"', /^entries\[0\]\.response\.status: must be a number, not string$/],
    ['bad date', () => [harEntry({ startedDateTime: 'yesterday' })], '"startedDateTime"', /^entries\[0\]\.startedDateTime: not an ISO 8601 date-time/],
    ['entry that is not an object', () => [harEntry(), 'oops'], '"oops"', /^entries\[1\]: must be an object$/],
    ['bad base64', () => [harEntry({ response: { ...baseResponse, content: { size: 3, mimeType: 'x', text: '!!!', encoding: 'base64' } } })], '"text": "!!!"', /content\.text: is not valid base64/],
    // Whatever would write a different request on replay (request line or header injection):
    ['method that is not a token', () => [harEntry({ request: { ...baseRequest, method: 'GET /evil HTTP/1.1\r\nX:' } })], '"method"', /^entries\[0\]\.request\.method: is not an HTTP method/],
    ['CR LF in the url', () => [harEntry({ request: { ...baseRequest, url: 'https://api.test/a\r\nX-Injected: 1' } })], '"url"', /^entries\[0\]\.request\.url: contains CR, LF or NUL$/],
    ['header name with a space', () => [harEntry({ response: { ...baseResponse, headers: [{ name: 'Bad Name', value: 'v' }] } })], '{\n              "name": "Bad Name"', /^entries\[0\]\.response\.headers\[0\]\.name: is not a valid header name/],
  ];
  for (const [name, entries, needle, message] of cases) {
    it(`${name} → HAR_INVALID at the field's line`, async () => {
      const text = harDocument(entries());
      const err = await importError(text);
      expect(err.code).toBe('HAR_INVALID');
      expect(err.message).toMatch(message);
      const index = Number(/entries\[(\d+)\]/.exec(err.message)![1]);
      const entryStart = nthEntryOffset(text, index);
      expect(err.location).toMatchObject({ file: `${tmp.dir}/bad.har`, line: lineOf(text, needle, entryStart) });
      expect(err.location?.column).toBeGreaterThan(0);
    });
  }

  it('malformed JSON → HAR_INVALID at the bad byte', async () => {
    const text = harDocument([harEntry(), harEntry()]).replace('"status": 200', '"status": 200,,');
    const err = await importError(text);
    expect(err.message).toMatch(/invalid JSON: unexpected ","/);
    expect(err.location?.line).toBe(lineOf(text, ',,', nthEntryOffset(text, 0)));
  });

  it('truncated file → HAR_INVALID naming the cut entry', async () => {
    const text = harDocument([harEntry(), harEntry(), harEntry()]);
    const cut = nthEntryOffset(text, 2) + 200;
    const err = await importError(text.slice(0, cut));
    expect(err.message).toBe('entries[2]: file ends inside this entry (truncated?)');
    expect(err.location?.line).toBe(lineOf(text, '{', nthEntryOffset(text, 2)));
  });

  it('missing log.entries, a missing file, a directory', async () => {
    expect((await importError('{"log": {"version": "1.2"}}')).message).toBe('log.entries: missing');
    const missing = await caught(() => collect(importHar(`${tmp.dir}/nope.har`)));
    expect(missing).toMatchObject({ code: 'INPUT_NOT_FOUND' });
    expect(await caught(() => collect(importHar(tmp.dir)))).toMatchObject({ code: 'INPUT_UNREADABLE' });
  });

  it('random bytes → RepriseError', async () => {
    for (let i = 0; i < 20; i++) {
      const err = await importError(randomBytes(1 + i * 50), `r${i}.har`);
      expect(err.code).toBe('HAR_INVALID');
    }
  });

  it('fuzz: mutations of a valid HAR never hang and only ever throw RepriseError', async () => {
    const valid = Buffer.from(harDocument([harEntry(), harEntry({ request: { ...baseRequest, method: 'POST', postData: { mimeType: 'text/plain', text: 'é"\\' } } }), harEntry()]));
    let rng = 12345;
    const rand = (n: number): number => {
      rng = (rng * 1103515245 + 12345) & 0x7fffffff;
      return rng % n;
    };
    const outcomes = { ok: 0, error: 0 };
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(valid);
      const at = rand(bytes.length);
      let mutated: Buffer;
      switch (i % 5) {
        case 0: bytes[at] = rand(256); mutated = bytes; break;
        case 1: bytes[at] = '{}[]",:\\ '.charCodeAt(rand(9)); mutated = bytes; break;
        case 2: mutated = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + rand(40))]); break;
        case 3: mutated = bytes.subarray(0, at); break;
        default: mutated = Buffer.concat([bytes.subarray(0, at), randomBytes(1 + rand(8)), bytes.subarray(at)]);
      }
      const file = await writeHar(tmp.dir, `f${i}.har`, mutated);
      try {
        for await (const ex of importHar(file, { highWaterMark: 16 + rand(256) })) expect(exchangeProblems(ex)).toEqual([]);
        outcomes.ok++;
      } catch (err) {
        if (!(err instanceof RepriseError)) throw new Error(`mutation ${i} threw a non-RepriseError: ${String(err)}`, { cause: err });
        expect(err.location?.file).toBe(file);
        outcomes.error++;
      }
    }
    expect(outcomes.error).toBeGreaterThan(100);
  });
});

/** Offset of the n-th entry object in a harDocument() text (entries are indented 6 spaces). */
function nthEntryOffset(text: string, n: number): number {
  let at = text.indexOf('"entries": [');
  for (let i = 0; i <= n; i++) at = text.indexOf('\n      {', at + 1);
  return at + 1;
}
