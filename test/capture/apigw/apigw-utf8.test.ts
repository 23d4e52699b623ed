import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { importApigw, newApigwImportReport, type ApigwImportOptions } from '../../../capture/apigw/apigw-import.js';
import { mapApigwPayload } from '../../../capture/apigw/apigw-payload.js';
import { openDeadLetter } from '../../../capture/apigw/dead-letter.js';
import { invalidUtf8At } from '../../../capture/apigw/utf8-text.js';
import { bodyToBuffer } from '../../../store/body.js';
import type { Exchange } from '../../../store/exchange.js';
import { expectOneLineError, runCli } from '../../support/run-cli.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { samplePayload } from './apigw-fixtures.js';
import { deadLetterLines, startIngest, storedExchanges, type IngestHarness } from './ingest-support.js';

// What AWS sends: API Gateway hands the proxy Lambda a text body as a (UTF-8) JSON string and a
// binary one base64 with isBase64Encoded: true, so a forwarder's JSON is UTF-8 throughout. Bytes
// that are not UTF-8 in a payload file or POST are a broken archive or forwarder, and must be
// refused with where they are, never stored with U+FFFD in their place.

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  tmp = await makeTempDir('reprise-apigw-utf8-');
});
afterEach(async () => {
  await tmp.cleanup();
});

/** A payload line whose JSON body string holds `raw` bytes as they are (not escaped). */
function lineWithRawBody(i: number, raw: Buffer): Buffer {
  const [before, after] = JSON.stringify({ ...samplePayload(i), body: '@@BODY@@' }).split('@@BODY@@');
  return Buffer.concat([Buffer.from(before!), raw, Buffer.from(after!)]);
}

const LATIN1_CAFE = Buffer.from('caf\xe9 au lait', 'latin1'); // "café" as Latin-1: 0xe9 alone is not UTF-8

async function collect(input: string, options: ApigwImportOptions = {}): Promise<Exchange[]> {
  const out: Exchange[] = [];
  for await (const ex of importApigw(input, options)) out.push(ex);
  return out;
}

describe('apigw payload bytes that are not UTF-8', () => {
  it('import: an NDJSON line with a Latin-1 byte is refused naming the file, line and byte offset, not stored as U+FFFD', async () => {
    const file = join(tmp.dir, 'archive.ndjson');
    const lines = [Buffer.from(JSON.stringify(samplePayload(0))), lineWithRawBody(1, LATIN1_CAFE), Buffer.from(JSON.stringify(samplePayload(2)))];
    const bytes = Buffer.concat([lines[0]!, Buffer.from('\n'), lines[1]!, Buffer.from('\n'), lines[2]!, Buffer.from('\n')]);
    await writeFile(file, bytes);
    const offset = bytes.indexOf(0xe9);

    const err = await collect(file).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'APIGW_PAYLOAD_INVALID', location: { file, line: 2 } });
    expect((err as Error).message).toMatch(new RegExp(`^not UTF-8: invalid byte sequence at byte ${offset} \\(e9 20 61 75 …\\)`));

    // With --skip-invalid: the other lines are stored, this one is dead-lettered byte for byte.
    const deadLetter = await openDeadLetter(join(tmp.dir, 'dl.ndjson'));
    const report = newApigwImportReport();
    const got = await collect(file, { skipInvalid: true, deadLetter, report });
    await deadLetter.close();
    expect(got.map((e) => e.meta?.requestId)).toEqual(['req-000000', 'req-000002']);
    expect(report).toMatchObject({ invalid: 1, imported: 2 });
    const [dl] = await deadLetterLines(deadLetter.path);
    expect(dl).toMatchObject({ source: `${file}:2`, item: '', problems: [expect.stringContaining(`at byte ${offset}`)] });
    expect(dl!.text).toBeUndefined();
    expect(Buffer.from(dl!.textBase64 as string, 'base64').equals(lines[1]!)).toBe(true);
  });

  it('import: a pretty JSON array element with a bad byte names its index and the file offset (after a BOM too)', async () => {
    const file = join(tmp.dir, 'batch.json');
    const good = Buffer.from(JSON.stringify(samplePayload(0), null, 2));
    const bad = lineWithRawBody(3, Buffer.from([0x41, 0xc3, 0x28, 0x42])); // 0xc3 0x28: a two-byte sequence cut short
    const bytes = Buffer.concat([Buffer.from('\ufeff[\n'), good, Buffer.from(',\n'), bad, Buffer.from('\n]\n')]);
    await writeFile(file, bytes);
    const err = await collect(file).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'APIGW_PAYLOAD_INVALID', location: { file } });
    expect((err as Error).message).toMatch(new RegExp(`^\\[1\\] not UTF-8: invalid byte sequence at byte ${bytes.indexOf(0xc3)} \\(c3 28 42`));
  });

  it('a text body spelled with an unpaired surrogate escape is a payload problem, not U+FFFD in the store', async () => {
    const file = join(tmp.dir, 'escaped.ndjson');
    // Valid UTF-8 JSON; "\udce9" is how Python's surrogateescape writes a stray 0xe9 byte.
    await writeFile(file, `${JSON.stringify(samplePayload(0)).replace(/}$/, ',"body":"caf\\udce9"}')}\n`);
    await expect(collect(file)).rejects.toMatchObject({
      code: 'APIGW_PAYLOAD_INVALID',
      message: expect.stringMatching(/^body: has an unpaired surrogate \(\\udce9\) at character 3, .* base64-encoded/),
    });
  });

  it('a body flagged isBase64Encoded is stored byte for byte, whatever the bytes', async () => {
    const file = join(tmp.dir, 'binary.ndjson');
    const bodies = [randomBytes(4096), Buffer.from([0xef, 0xbb, 0xbf, 0xe9, 0x00, 0xff, 0xc0, 0x80]), Buffer.from('plain text, valid UTF-8: ☕')];
    const payloads = bodies.map((b, i) => ({ ...samplePayload(i * 4), body: b.toString('base64'), isBase64Encoded: true, response: b.toString('base64'), responseIsBase64Encoded: true }));
    await writeFile(file, `${payloads.map((p) => JSON.stringify(p)).join('\n')}\n`);
    const got = await collect(file);
    expect(got).toHaveLength(3);
    got.forEach((ex, i) => {
      expect(bodyToBuffer(ex.request.body).equals(bodies[i]!)).toBe(true);
      expect(bodyToBuffer(ex.response?.body).equals(bodies[i]!)).toBe(true);
    });
  });

  it('the CLI prints one line naming the file and the byte offset', async () => {
    const file = join(tmp.dir, 'p.ndjson');
    const bytes = Buffer.concat([lineWithRawBody(0, LATIN1_CAFE), Buffer.from('\n')]);
    await writeFile(file, bytes);
    const r = await runCli(['import', 'apigw', file, '--out', join(tmp.dir, 'store')]);
    expect(r.code).toBe(1);
    expect(expectOneLineError(r, 'APIGW_PAYLOAD_INVALID')).toContain(`${file}:1: not UTF-8: invalid byte sequence at byte ${bytes.indexOf(0xe9)} (e9 20 61 75 …)`);
  });
});

describe('unpaired surrogates in header values and the request target', () => {
  // Valid UTF-8 JSON can still spell text that is not text: "\udce9" alone (Python's surrogateescape
  // of a stray 0xe9 byte, or a truncated emoji). It has no bytes, so it cannot be stored byte for
  // byte; as with bodies, the payload is refused naming where, never stored as U+FFFD.
  const map = (payload: Record<string, unknown>): ReturnType<typeof mapApigwPayload> => mapApigwPayload(payload, { captureId: 't', receivedAt: 0, redactHeaders: false });
  const lone = 'caf\udce9';

  it('a header value, on either side and in every header form, is a problem naming the header', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ request_headers: { Accept: 'a', 'X-Name': lone } }, 'request_headers.X-Name'],
      [{ response_headers: { 'Content-Disposition': ['inline', `attachment; filename="${lone}"`] } }, 'response_headers.Content-Disposition[1]'],
      [{ request_headers: [['X-Name', lone]] }, 'request_headers[0]'],
      [{ multiValueHeaders: { 'X-Name': [lone] } }, 'multiValueHeaders.X-Name[0]'],
      [{ request_headers: { 'X-Cut-Emoji': 'tea \ud83c' } }, 'request_headers.X-Cut-Emoji'],
    ];
    for (const [fields, path] of cases) {
      const r = map({ ...samplePayload(0), ...fields });
      expect([path, r.ok]).toEqual([path, false]);
      if (!r.ok) expect(r.problems).toEqual([expect.stringMatching(new RegExp(`^${path.replace(/[.[\]]/g, '\\$&')}: has an unpaired surrogate \\(\\\\ud[89a-f][0-9a-f]{2}\\) at character \\d+, which is not text and has no UTF-8 bytes; .*ISO-8859-1`))]);
    }
    // A pair is text: stored as given.
    const ok = map({ ...samplePayload(0), request_headers: { 'X-Tea': 'tea \ud83c\udf75' } });
    expect(ok.ok && ok.exchange.request.headers).toContainEqual(['X-Tea', 'tea \ud83c\udf75']);
  });

  it('the endpoint, a raw query and query parameters: a problem naming the field, not a crash or a stored U+FFFD', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ endpoint: `/files/${lone}` }, 'endpoint'],
      [{ endpoint: `/files?name=${lone}` }, 'endpoint'],
      [{ rawQueryString: `name=${lone}` }, 'rawQueryString'],
      [{ queryStringParameters: { name: lone } }, 'queryStringParameters.name'],
      [{ multiValueQueryStringParameters: { [lone]: ['x'] } }, 'multiValueQueryStringParameters["caf\\udce9"]'],
    ];
    for (const [fields, path] of cases) {
      const r = map({ ...samplePayload(4), ...fields });
      expect([path, r.ok]).toEqual([path, false]);
      if (!r.ok) expect(r.problems).toEqual([expect.stringMatching(new RegExp(`^${path.replace(/[.[\]\\]/g, '\\$&')}: has an unpaired surrogate \\(\\\\udce9\\) at character \\d+, .*percent-encode`))]);
    }
  });

  it('import names the file, line and header; with --skip-invalid the payload is dead-lettered and the rest imported', async () => {
    const file = join(tmp.dir, 'headers.ndjson');
    const bad = JSON.stringify({ ...samplePayload(1), request_headers: { 'X-Name': 'x' } }).replace('"X-Name":"x"', '"X-Name":"caf\\udce9"');
    await writeFile(file, `${JSON.stringify(samplePayload(0))}\n${bad}\n${JSON.stringify(samplePayload(2))}\n`);
    await expect(collect(file)).rejects.toMatchObject({ code: 'APIGW_PAYLOAD_INVALID', location: { file, line: 2 }, message: expect.stringMatching(/^request_headers\.X-Name: has an unpaired surrogate \(\\udce9\) at character 3/) });
    const deadLetter = await openDeadLetter(join(tmp.dir, 'dl.ndjson'));
    const got = await collect(file, { skipInvalid: true, deadLetter });
    await deadLetter.close();
    expect(got.map((e) => e.meta?.requestId)).toEqual(['req-000000', 'req-000002']);
    const [dl] = await deadLetterLines(deadLetter.path);
    expect(dl).toMatchObject({ source: `${file}:2`, problems: [expect.stringContaining('request_headers.X-Name: has an unpaired surrogate')] });
  });
});

describe('capture ingest: POST bodies that are not UTF-8', () => {
  let h: IngestHarness;
  beforeEach(async () => {
    h = await startIngest(tmp.dir);
  });
  afterEach(async () => {
    await h.close();
  });

  it('a JSON body with a bad byte: 400 naming the byte offset, dead-lettered byte for byte, nothing stored', async () => {
    const raw = lineWithRawBody(0, LATIN1_CAFE);
    const r = await h.post(null, { raw });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ accepted: 0, rejected: 1, errors: [{ item: '', problems: [expect.stringContaining(`not UTF-8: invalid byte sequence at byte ${raw.indexOf(0xe9)}`)] }] });
    expect(await storedExchanges(h.store)).toEqual([]);
    const [dl] = await deadLetterLines(h.deadLetter);
    expect(Buffer.from(dl!.textBase64 as string, 'base64').equals(raw)).toBe(true);
  });

  it('NDJSON with one bad line: the others are stored (207), the bad one is named by line and body offset', async () => {
    const lines = [Buffer.from(JSON.stringify(samplePayload(0))), lineWithRawBody(1, Buffer.from([0xff, 0xfe])), Buffer.from(JSON.stringify(samplePayload(2)))];
    const raw = Buffer.concat([lines[0]!, Buffer.from('\r\n'), lines[1]!, Buffer.from('\r\n'), lines[2]!, Buffer.from('\r\n')]);
    for (const contentType of ['application/x-ndjson', 'application/json']) {
      const r = await h.post(null, { raw, contentType });
      expect(r.status).toBe(207);
      expect(r.json).toMatchObject({ rejected: 1, errors: [{ item: 'line 2', problems: [expect.stringContaining(`at byte ${raw.indexOf(0xff)} (ff fe`)] }] });
    }
    const stored = await storedExchanges(h.store);
    expect(stored.map((e) => e.meta?.requestId)).toEqual(['req-000000', 'req-000002']);
    for (const ex of stored) expect(JSON.stringify(ex)).not.toContain('\ufffd');
    const dl = await deadLetterLines(h.deadLetter);
    expect(Buffer.from(dl[0]!.textBase64 as string, 'base64').equals(lines[1]!)).toBe(true);
  });

  it('secret header values are redacted in dead-lettered bytes, every other byte kept', async () => {
    const payload = { ...samplePayload(0), request_headers: { Authorization: 'Bearer byte-secret-1', Accept: 'a' }, body: '@@BODY@@' };
    const [before, after] = JSON.stringify(payload).split('@@BODY@@');
    const raw = Buffer.concat([Buffer.from(before!), LATIN1_CAFE, Buffer.from(after!)]);
    expect((await h.post(null, { raw })).status).toBe(400);
    const [dl] = await deadLetterLines(h.deadLetter);
    const kept = Buffer.from(dl!.textBase64 as string, 'base64');
    expect(kept.includes('byte-secret-1')).toBe(false);
    expect(kept.equals(Buffer.from(raw.toString('latin1').replace('Bearer byte-secret-1', '[REDACTED]'), 'latin1'))).toBe(true);
  });
});

describe('invalidUtf8At', () => {
  it('finds the first ill-formed sequence: stray continuation, overlong, surrogate, above U+10FFFF, cut short', () => {
    const cases: [number[], number][] = [
      [[0x61, 0x62], -1],
      [[0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80], -1], // € 😀
      [[0x61, 0x80], 1],
      [[0xc0, 0xaf], 0], // overlong '/'
      [[0x61, 0xe0, 0x80, 0xaf], 1], // overlong three-byte
      [[0xed, 0xa0, 0x80], 0], // U+D800
      [[0xf4, 0x90, 0x80, 0x80], 0], // U+110000
      [[0x61, 0x62, 0xe2, 0x82], 2], // cut short at the end
      [[0xf5, 0x80, 0x80, 0x80], 0],
    ];
    for (const [bytes, at] of cases) expect([bytes, invalidUtf8At(Buffer.from(bytes))]).toEqual([bytes, at]);
    // Agrees with the decoder Node uses: the first U+FFFD a lossy decode makes is at the same place.
    for (let round = 0; round < 2000; round++) {
      const b = randomBytes(1 + (round % 24));
      const at = invalidUtf8At(b);
      if (at === -1) expect(b.toString('utf8')).not.toContain('\ufffd');
      else expect(Buffer.from(b.subarray(0, at).toString('utf8')).equals(b.subarray(0, at))).toBe(true);
    }
  });
});
