import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { importApigw, newApigwImportReport, type ApigwImportOptions } from '../../../capture/apigw/apigw-import.js';
import { makePointerResolver, POINTER_CLASS } from '../../../capture/apigw/apigw-pointer.js';
import { openDeadLetter } from '../../../capture/apigw/dead-letter.js';
import type { Exchange } from '../../../store/exchange.js';
import { startS3TestServer, type S3TestServer } from '../../support/s3-test-server.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { samplePayload } from './apigw-fixtures.js';
import { comparable, deadLetterLines } from './ingest-support.js';

const N = 12;
const payloads = Array.from({ length: N }, (_, i) => samplePayload(i));
const ndjson = (items: unknown[]): string => `${items.map((p) => JSON.stringify(p)).join('\n')}\n`;

let s3: S3TestServer;
beforeAll(async () => {
  s3 = await startS3TestServer();
  await s3.createBucket('archive');
});
afterAll(async () => {
  await s3.close();
});
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  tmp = await makeTempDir('reprise-apigw-import-');
});
afterEach(async () => {
  await tmp.cleanup();
});

async function collect(input: string, options: ApigwImportOptions = {}): Promise<Exchange[]> {
  const out: Exchange[] = [];
  for await (const ex of importApigw(input, { s3: () => Promise.resolve(s3.client), resolvePointer: makePointerResolver({ client: s3.client }), ...options })) out.push(ex);
  return out;
}

describe('import apigw', () => {
  it('a JSON array file, an NDJSON file, a directory tree and an s3:// prefix give the same exchanges', async () => {
    const arrayFile = join(tmp.dir, 'all.json');
    await writeFile(arrayFile, JSON.stringify(payloads, null, 2)); // pretty: elements span lines
    const ndFile = join(tmp.dir, 'all.ndjson');
    await writeFile(ndFile, ndjson(payloads));
    const dir = join(tmp.dir, 'tree');
    await mkdir(join(dir, 'a'), { recursive: true });
    await mkdir(join(dir, 'b'), { recursive: true });
    for (let i = 0; i < 4; i++) await writeFile(join(dir, 'a', `000${i}.json`), JSON.stringify(payloads[i], null, 2));
    await writeFile(join(dir, 'b', 'batch.json'), JSON.stringify(payloads.slice(4, 8)));
    await writeFile(join(dir, 'b', 'more'), ndjson(payloads.slice(8))); // no extension, NDJSON sniffed
    await writeFile(join(dir, 'README.txt'), 'not a payload');
    await writeFile(join(dir, '.hidden.json'), '{ broken');
    const put = (Key: string, Body: string): Promise<unknown> => s3.client.send(new PutObjectCommand({ Bucket: 'archive', Key, Body }));
    await put('offload/p5', JSON.stringify(payloads[5]));
    const withPointer = payloads.slice(0, 6).map((p, i) => (i === 5 ? [POINTER_CLASS, { s3BucketName: 'archive', s3Key: 'offload/p5' }] : p));
    await put('fwd/2026/p-00.ndjson', ndjson(withPointer));
    await put('fwd/2026/p-01.json', JSON.stringify(payloads.slice(6), null, 1));
    await put('fwd/2026x/not-this.json', '{ broken');

    const reference = (await collect(arrayFile)).map(comparable);
    expect(reference).toHaveLength(N);
    expect((await collect(ndFile)).map(comparable)).toEqual(reference);
    const report = newApigwImportReport();
    expect((await collect(dir, { report })).map(comparable)).toEqual(reference);
    expect(report).toMatchObject({ sources: 6, imported: N, skippedFiles: [join(dir, 'README.txt')] });
    expect((await collect('s3://archive/fwd/2026/')).map(comparable)).toEqual(reference);
    const first = (await collect(ndFile))[0]!;
    expect(first.source).toEqual({ kind: 'apigw', captureId: ndFile });
    expect(first.start).toBe(Date.UTC(2026, 2, 1, 10, 0, 0) * 1000);
  });

  it('reads a whole-file pointer, and a file with a BOM and CRLF lines', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: 'archive', Key: 'offload/batch', Body: JSON.stringify(payloads.slice(0, 3)) }));
    const pointerFile = join(tmp.dir, 'pointer.json');
    await writeFile(pointerFile, JSON.stringify([POINTER_CLASS, { s3BucketName: 'archive', s3Key: 'offload/batch' }], null, 2));
    expect((await collect(pointerFile)).map((e) => e.meta?.requestId)).toEqual(['req-000000', 'req-000001', 'req-000002']);
    const crlf = join(tmp.dir, 'win.ndjson');
    await writeFile(crlf, `\uFEFF${payloads.slice(0, 2).map((p) => JSON.stringify(p)).join('\r\n')}\r\n`);
    expect(await collect(crlf)).toHaveLength(2);
  });

  it('stops at a malformed item with file:line, or with skipInvalid counts and dead-letters it', async () => {
    const file = join(tmp.dir, 'bad.ndjson');
    const lines = payloads.slice(0, 5).map((p) => JSON.stringify(p));
    lines[2] = JSON.stringify({ ...payloads[2], status: undefined });
    lines[3] = '{"from": "x", oops';
    await writeFile(file, `${lines.join('\n')}\n`);
    await expect(collect(file)).rejects.toMatchObject({ code: 'APIGW_PAYLOAD_INVALID', location: { file, line: 3 }, message: 'status: missing (the response status code)' });

    const deadLetter = await openDeadLetter(join(tmp.dir, 'dl.ndjson'));
    const report = newApigwImportReport();
    const got = await collect(file, { skipInvalid: true, deadLetter, report });
    await deadLetter.close();
    expect(got).toHaveLength(3);
    expect(report).toMatchObject({ invalid: 2, imported: 3 });
    expect(report.problems[0]).toBe(`${file}:3: status: missing (the response status code)`);
    const dl = await deadLetterLines(deadLetter.path);
    expect(dl.map((l) => l.source)).toEqual([`${file}:3`, `${file}:4`]);
    expect(dl[1]).toMatchObject({ text: '{"from": "x", oops' });
  });

  it('dead-letters a malformed payload with secrets redacted in [name, value] pair lists too', async () => {
    const file = join(tmp.dir, 'pairs.ndjson');
    const bad = {
      ...payloads[0], status: 'oops',
      request_headers: [['Authorization', 'Bearer pair-secret-1'], ['Accept', 'a']],
      response_headers: [['Set-Cookie', 'sid=pair-secret-2'], ['set-cookie', 'b=pair-secret-3']],
    };
    await writeFile(file, ndjson([bad]));
    const deadLetter = await openDeadLetter(join(tmp.dir, 'dl.ndjson'));
    await collect(file, { skipInvalid: true, deadLetter });
    await deadLetter.close();
    const [line] = await deadLetterLines(deadLetter.path);
    expect(JSON.stringify(line)).not.toMatch(/pair-secret/);
    expect(line!.payload).toMatchObject({
      request_headers: [['Authorization', '[REDACTED]'], ['Accept', 'a']],
      response_headers: [['Set-Cookie', '[REDACTED]'], ['set-cookie', '[REDACTED]']],
    });
  });

  it('dead-letters a line that is not JSON with the secret header values in its text redacted', async () => {
    const file = join(tmp.dir, 'broken.ndjson');
    const line = '{"from":"h","endpoint":"/a","method":"GET","status":200,"request_headers":{"Authorization":"Bearer text-secret-1","Accept":"a"},'
      + '"response_headers":[["Set-Cookie","sid=text-secret-2"]] oops}';
    await writeFile(file, `${line}\n`);
    const deadLetter = await openDeadLetter(join(tmp.dir, 'dl.ndjson'));
    await collect(file, { skipInvalid: true, deadLetter });
    await deadLetter.close();
    const [dl] = await deadLetterLines(deadLetter.path);
    expect(dl!.text).toBe(line.replace('Bearer text-secret-1', '[REDACTED]').replace('sid=text-secret-2', '[REDACTED]'));
  });

  it('dead-letters with the extra --redact-header names redacted too, not only the defaults', async () => {
    const file = join(tmp.dir, 'extra.ndjson');
    const bad = { ...payloads[0], status: 'oops', request_headers: { 'X-Session': 'extra-secret-1', Authorization: 'Bearer extra-secret-2' } };
    await writeFile(file, `${JSON.stringify(bad)}\n{"request_headers":{"x-session":"extra-secret-3"} oops}\n`);
    const deadLetter = await openDeadLetter(join(tmp.dir, 'dl.ndjson'), { redactHeaders: ['X-Session'] });
    await collect(file, { skipInvalid: true, deadLetter, redactHeaders: ['X-Session'] });
    await deadLetter.close();
    const lines = await deadLetterLines(deadLetter.path);
    expect(lines).toHaveLength(2);
    expect(JSON.stringify(lines)).not.toMatch(/extra-secret/);
    expect(lines[0]!.payload).toMatchObject({ request_headers: { 'X-Session': '[REDACTED]', Authorization: '[REDACTED]' } });
  });

  it('names the array element and its line in a JSON array, and moves past a broken file with skipInvalid', async () => {
    const file = join(tmp.dir, 'arr.json');
    await writeFile(file, JSON.stringify([payloads[0], payloads[1], { ...payloads[2], method: 7 }], null, 2));
    const err = await collect(file).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'APIGW_PAYLOAD_INVALID', message: '[2] method: must be a string, not a number' });
    expect((err as { location: { line: number } }).location.line).toBeGreaterThan(20);

    const dir = join(tmp.dir, 'mixed');
    await mkdir(dir);
    await writeFile(join(dir, '1.json'), `[${JSON.stringify(payloads[0])}, }`);
    await writeFile(join(dir, '2.json'), JSON.stringify(payloads[1]));
    const report = newApigwImportReport();
    expect(await collect(dir, { skipInvalid: true, report })).toHaveLength(2); // payload 0 came before the damage
    expect(report.problems).toEqual([`${join(dir, '1.json')}:1: invalid JSON: unexpected "}"`]);
  });
});
