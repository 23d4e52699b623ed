import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { checkPointer, makePointerResolver, POINTER_CLASS } from '../../../capture/apigw/apigw-pointer.js';
import { startS3TestServer, type S3TestServer } from '../../support/s3-test-server.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { samplePayload } from './apigw-fixtures.js';
import { deadLetterLines, startIngest, storedExchanges, type IngestHarness } from './ingest-support.js';

const BUCKET = 'forwarder-offload';
let s3: S3TestServer;
beforeAll(async () => {
  s3 = await startS3TestServer();
  await s3.createBucket(BUCKET);
});
afterAll(async () => {
  await s3.close();
});

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let h: IngestHarness;
beforeEach(async () => {
  tmp = await makeTempDir('reprise-pointer-');
  h = await startIngest(tmp.dir, { resolvePointer: makePointerResolver({ client: s3.client, maxBytes: 64 * 1024 }) });
});
afterEach(async () => {
  await h.close();
  await tmp.cleanup();
});

const pointer = (key: string): unknown[] => [POINTER_CLASS, { s3BucketName: BUCKET, s3Key: key }];
const put = (key: string, body: string): Promise<unknown> => s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

describe('SQS extended client pointers', () => {
  it('recognizes the array form and the JSON-string form, and reports malformed ones', () => {
    expect(checkPointer(pointer('k'))).toEqual({ pointer: { bucket: BUCKET, key: 'k' } });
    expect(checkPointer(JSON.stringify(pointer('k')))).toEqual({ pointer: { bucket: BUCKET, key: 'k' } });
    expect(checkPointer([POINTER_CLASS, { s3BucketName: BUCKET }])).toEqual({ problem: 'payload pointer: s3Key must be a non-empty string' });
    expect(checkPointer(`["${POINTER_CLASS}", {`)).toEqual({ problem: 'a JSON-encoded payload pointer that is not valid JSON' });
    expect(checkPointer(['a', 'b'])).toBeNull();
    expect(checkPointer('plain text body')).toBeNull();
  });

  it('resolves a pointer posted as the whole body, as a batch element, and JSON-encoded, from s3rver', async () => {
    await put('one', JSON.stringify(samplePayload(1)));
    await put('batch', JSON.stringify([samplePayload(2), samplePayload(3)]));
    await put('enc', JSON.stringify(samplePayload(4)));
    expect((await h.post(pointer('one'))).json).toMatchObject({ accepted: 1, rejected: 0 });
    expect((await h.post([samplePayload(0), pointer('batch'), JSON.stringify(pointer('enc'))])).json).toMatchObject({ accepted: 4, rejected: 0 });
    const stored = await storedExchanges(h.store);
    expect(stored.map((e) => e.meta?.requestId)).toEqual(['req-000001', 'req-000000', 'req-000002', 'req-000003', 'req-000004']);
    expect(h.server.stats.pointers).toBe(3);
    // Redelivery of the pointer message: same payload inside, stored once.
    expect((await h.post(pointer('one'))).json).toMatchObject({ accepted: 0, duplicates: 1 });
  });

  it('dead-letters a pointer to a missing or oversized object (no retry can fix it), naming bucket and key', async () => {
    await put('huge', JSON.stringify({ ...samplePayload(5), body: 'x'.repeat(100 * 1024) }));
    const r = await h.post([pointer('no-such-key'), pointer('huge')]);
    expect(r.status).toBe(400);
    const errors = r.json.errors as { item: string; problems: string[] }[];
    expect(errors[0]!.problems[0]).toMatch(/^s3:\/\/forwarder-offload\/no-such-key: GetObject failed: NoSuchKey/);
    expect(errors[1]!.problems[0]).toMatch(/^s3:\/\/forwarder-offload\/huge: object is \d+ bytes, over the 65536-byte limit/);
    expect((await deadLetterLines(h.deadLetter)).map((l) => l.item)).toEqual(['[0]', '[1]']);
  });

  it('answers 503 while S3 is unreachable (the forwarder retries), and stores it once S3 is back', async () => {
    await put('later', JSON.stringify(samplePayload(6)));
    await s3.stop();
    try {
      const r = await h.post(pointer('later'));
      expect(r.status).toBe(503);
      expect(r.json.error).toMatch(/forwarder-offload\/later: GetObject failed/);
    } finally {
      await s3.restart();
    }
    expect((await h.post(pointer('later'))).json).toMatchObject({ accepted: 1 });
    expect(await deadLetterLines(h.deadLetter)).toEqual([]);
  });
});
