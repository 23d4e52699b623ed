import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Exchange } from '../../../store/exchange.js';
import { inspectStore } from '../../../store/inspect-store.js';
import { openStoreWriter } from '../../../store/segment-writer.js';
import { listSegments, newReadReport, readExchanges } from '../../../store/segment-reader.js';
import { openAnyStoreWriter } from '../../../store/open-store-writer.js';
import { openS3StoreWriter } from '../../../store/s3/s3-store-writer.js';
import { readS3Manifest } from '../../../store/s3/s3-store-reader.js';
import { makeS3Client } from '../../../store/s3/s3-client.js';
import { writeExchanges } from '../../../store/write-exchanges.js';
import { startS3TestServer, S3_TEST_CREDENTIALS, type S3TestServer } from '../../support/s3-test-server.js';
import { syntheticExchange } from '../../support/synthetic-exchange.js';
import { makeTempDir } from '../../support/temp-dir.js';

let s3: S3TestServer;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeAll(async () => {
  s3 = await startS3TestServer();
  await s3.createBucket('reprise-test');
});
afterAll(async () => {
  await s3.close();
});
beforeEach(async () => {
  tmp = await makeTempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

async function collect(it: AsyncIterable<Exchange>): Promise<Exchange[]> {
  const out: Exchange[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const KiB = 1024;

describe('S3 store', () => {
  it('reads back 20k exchanges identical and in order, and inspects like the local store', async () => {
    const url = 's3://reprise-test/runs/roundtrip';
    const written = Array.from({ length: 20_000 }, (_, i) => syntheticExchange(i));
    // No timed flushes: segment bytes depend only on the input, so local and S3 stores match byte for byte.
    const writerOptions = { segmentBytes: 256 * KiB, flushIntervalMs: 3_600_000 };
    const summary = await writeExchanges(written, url, { ...writerOptions, s3: { client: s3.client }, spoolDir: join(tmp.dir, 'spool'), scanIntervalMs: 50 });
    expect(summary.exchanges).toBe(20_000);
    expect(summary.segments).toBeGreaterThan(3);
    expect(summary.upload).toMatchObject({ uploaded: summary.segments, pending: 0, retries: 0 });
    expect(await readdir(join(tmp.dir, 'spool', 'segments'))).toEqual([]);

    expect(await collect(readExchanges(url, { s3: { client: s3.client } }))).toEqual(written);

    const manifest = await readS3Manifest(url, { client: s3.client });
    const segments = await listSegments(url, { client: s3.client });
    expect(manifest?.segments.map((s) => s.file)).toEqual(segments.map((s) => s.path.replace('s3://reprise-test/runs/roundtrip/', '')));
    expect(segments.every((s) => s.sealed && s.bytes === s.entry?.bytes)).toBe(true);

    const local = await writeExchanges(written, join(tmp.dir, 'local'), writerOptions);
    expect(local.segments).toBe(summary.segments);
    const [fromS3, fromDisk] = await Promise.all([inspectStore(url, { s3: { client: s3.client } }), inspectStore(join(tmp.dir, 'local'))]);
    expect({ ...fromS3, path: '' }).toEqual({ ...fromDisk, path: '' });
    expect(fromS3.exchanges).toBe(20_000);
  });

  it('appends to an existing S3 store, numbering after what S3 holds, with a fresh spool', async () => {
    const url = 's3://reprise-test/runs/append';
    for (let run = 0; run < 2; run++) {
      const w = await openS3StoreWriter(url, { s3: { client: s3.client }, spoolDir: join(tmp.dir, `spool-${run}`), segmentBytes: 16 * KiB });
      for (let i = 0; i < 500; i++) await w.write(syntheticExchange(run * 500 + i));
      await w.close();
    }
    const all = await collect(readExchanges(url, { s3: { client: s3.client } }));
    expect(all.map((x) => x.start)).toEqual(Array.from({ length: 1000 }, (_, i) => syntheticExchange(i).start));
    const files = (await readS3Manifest(url, { client: s3.client }))!.segments.map((s) => s.file);
    expect(new Set(files).size).toBe(files.length);
    expect(files).toEqual([...files].sort());
  });

  it('uploads a 20 MB segment with multipart', async () => {
    const commands: string[] = [];
    const client: S3Client = await makeS3Client({ endpoint: s3.endpoint, credentials: S3_TEST_CREDENTIALS });
    client.middlewareStack.add((next, context) => (args) => {
      commands.push(String(context.commandName));
      return next(args);
    }, { step: 'initialize' });
    const url = 's3://reprise-test/runs/big';
    // Random bytes as base64 compress to ~66 KB a record: 320 records ≈ 21 MB in one segment.
    const written = Array.from({ length: 320 }, (_, i) => syntheticExchange(i, { randomBody: true, bodyBytes: 64 * KiB }));
    const w = await openAnyStoreWriter(url, { s3: { client }, spoolDir: join(tmp.dir, 'spool'), partSizeBytes: 5 * 1024 * KiB });
    for (const ex of written) await w.write(ex);
    const summary = await w.close();
    expect(summary.segments).toBe(1);
    expect(summary.bytes).toBeGreaterThan(20_000_000);
    expect(commands.filter((c) => c === 'CreateMultipartUploadCommand')).toHaveLength(1);
    expect(commands.filter((c) => c === 'UploadPartCommand').length).toBe(Math.ceil(summary.bytes / (5 * 1024 * KiB)));
    expect(commands).toContain('CompleteMultipartUploadCommand');
    const segments = await listSegments(url, { client });
    expect(segments[0]?.bytes).toBe(summary.bytes);
    expect(await collect(readExchanges(url, { s3: { client } }))).toEqual(written);
    client.destroy();
  });

  it('says STORE_NOT_FOUND for a missing bucket or an empty prefix, and names the object in errors', async () => {
    const access = { s3: { client: s3.client } };
    await expect(collect(readExchanges('s3://no-such-bucket/x', access))).rejects.toMatchObject({ code: 'STORE_NOT_FOUND' });
    await expect(inspectStore('s3://reprise-test/nothing/here', access)).rejects.toMatchObject({ code: 'STORE_NOT_FOUND', location: { file: 's3://reprise-test/nothing/here' } });
    await expect(openS3StoreWriter('s3://no-such-bucket/x', { ...access, spoolDir: join(tmp.dir, 'spool') })).rejects.toMatchObject({ code: 'STORE_NOT_FOUND' });
  });

  it('reads a single segment object by URL, and reports a torn unsealed one like a local store', async () => {
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    const local = join(tmp.dir, 'local');
    const w = await openStoreWriter(local);
    for (let i = 0; i < 50; i++) await w.write(syntheticExchange(i));
    await w.close();
    const { readFile } = await import('node:fs/promises');
    const bytes = await readFile(join(local, 'segments', '000001.ndjson.gz'));
    // An unsealed segment: whole object, but no manifest lists it, and its last record is cut.
    const { gzipSync, gunzipSync } = await import('node:zlib');
    const text = gunzipSync(bytes).toString();
    await s3.client.send(new PutObjectCommand({ Bucket: 'reprise-test', Key: 'torn/segments/000001.ndjson.gz', Body: gzipSync(text.slice(0, -40)) }));
    const report = newReadReport();
    const read = await collect(readExchanges('s3://reprise-test/torn', { s3: { client: s3.client }, report }));
    expect(read).toHaveLength(49);
    expect(report).toMatchObject({ tornTails: 1, unsealedSegments: ['s3://reprise-test/torn/segments/000001.ndjson.gz'] });
    expect(await collect(readExchanges('s3://reprise-test/torn/segments/000001.ndjson.gz', { s3: { client: s3.client } }))).toHaveLength(49);
    // Corruption in an object names it with the byte offset. (A wrong compression method in the gzip
    // header: garbage appended mid-stream can decode as valid codes up to the end, which in an unsealed
    // segment is a torn tail, not corruption.)
    const bad = Buffer.from(bytes);
    bad[2] = 7;
    await s3.client.send(new PutObjectCommand({ Bucket: 'reprise-test', Key: 'bad/segments/000001.ndjson.gz', Body: bad }));
    const err = await collect(readExchanges('s3://reprise-test/bad', { s3: { client: s3.client } })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORE_CORRUPT', location: { file: 's3://reprise-test/bad/segments/000001.ndjson.gz' } });
    // zlib judges the method byte together with the flags byte after it.
    expect((err as { location: { offset: number } }).location.offset).toBeOneOf([2, 3]);
  });
});
