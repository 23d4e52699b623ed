import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { makeTempDir } from '../../support/temp-dir.js';
import { ISSUE_EXAMPLE, samplePayload } from './apigw-fixtures.js';
import { API_KEY, deadLetterLines, startIngest, storedExchanges, type IngestHarness } from './ingest-support.js';

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let h: IngestHarness;
beforeEach(async () => {
  tmp = await makeTempDir('reprise-ingest-');
  h = await startIngest(tmp.dir);
});
afterEach(async () => {
  await h.close();
  await tmp.cleanup();
});

describe('capture ingest server', () => {
  it('stores a single payload, and the record is on disk when the 202 arrives', async () => {
    const r = await h.post(ISSUE_EXAMPLE);
    expect(r).toEqual({ status: 202, json: { status: 202, accepted: 1, duplicates: 0, rejected: 0, errors: [] } });
    // The writer is still open and its timer flush is an hour away: only the ack path flushed.
    const stored = await storedExchanges(h.store);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.request).toMatchObject({ method: 'POST', authority: 'abc123.execute-api.eu-west-1.amazonaws.com', path: '/api/v1/users' });
    expect(stored[0]!.redactions).toEqual(['request.headers.authorization']);
  });

  it('accepts a JSON array, NDJSON by Content-Type, and NDJSON sniffed without one', async () => {
    const batch = [0, 1, 2].map((i) => samplePayload(i));
    expect((await h.post(batch)).json).toMatchObject({ accepted: 3, rejected: 0 });
    const nd = [3, 4, 5].map((i) => JSON.stringify(samplePayload(i))).join('\n');
    expect((await h.post(null, { raw: `${nd}\n`, contentType: 'application/x-ndjson' })).json).toMatchObject({ accepted: 3 });
    const nd2 = [6, 7].map((i) => JSON.stringify(samplePayload(i))).join('\r\n');
    expect((await h.post(null, { raw: nd2, contentType: 'text/plain' })).json).toMatchObject({ accepted: 2 });
    const stored = await storedExchanges(h.store);
    expect(stored.map((e) => e.meta?.requestId)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `req-${i.toString().padStart(6, '0')}`));
  });

  it('refuses without the key or with a wrong one (401), and stores nothing', async () => {
    expect((await h.post(ISSUE_EXAMPLE, { key: null })).status).toBe(401);
    expect((await h.post(ISSUE_EXAMPLE, { key: 'test-key-5f1d2c9a8b7f' })).status).toBe(401);
    expect((await h.post(ISSUE_EXAMPLE, { key: 'short' })).json).toEqual({ error: 'missing or wrong x-api-key' });
    expect(h.server.stats.unauthorized).toBe(3);
    expect(await storedExchanges(h.store)).toEqual([]);
  });

  it('answers 413 over the body limit, declared or streamed, and keeps serving', async () => {
    await h.close();
    h = await startIngest(tmp.dir, { maxBodyBytes: 2048 });
    const big = { ...ISSUE_EXAMPLE, body: 'x'.repeat(5000) };
    expect((await h.post(big)).status).toBe(413);
    const chunked = await h.post(big, { chunked: true });
    expect(chunked.status).toBe(413);
    expect(chunked.json.error).toMatch(/over the 2048-byte limit/);
    expect((await h.post(ISSUE_EXAMPLE)).status).toBe(202);
    expect(h.server.stats.tooLarge).toBe(2);
  });

  it('answers 400 with the reasons for a malformed payload and dead-letters it (secrets redacted)', async () => {
    const bad = { from: 'abc123.execute-api.eu-west-1.amazonaws.com', endpoint: '/x', method: 'GET', request_headers: { Authorization: 'Bearer s3cret' } };
    const r = await h.post(bad);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ accepted: 0, rejected: 1, errors: [{ item: '', problems: ['status: missing (the response status code)'] }] });
    const notJson = await h.post(null, { raw: '{"from": "a", ' });
    expect(notJson.status).toBe(400);
    expect((notJson.json.errors as { problems: string[] }[])[0]!.problems[0]).toMatch(/^invalid JSON/);
    const dl = await deadLetterLines(h.deadLetter);
    expect(dl).toHaveLength(2);
    expect(dl[0]).toMatchObject({ source: 'ingest 127.0.0.1', item: '', problems: ['status: missing (the response status code)'], payload: { ...bad, request_headers: { Authorization: '[REDACTED]' } } });
    expect(Date.parse(dl[0]!.receivedAt as string)).toBeGreaterThan(Date.now() - 60_000);
    expect(dl[1]).toMatchObject({ text: '{"from": "a", ' });
    expect(await storedExchanges(h.store)).toEqual([]);
  });

  it('refuses hostile payloads cleanly: deep nesting, wrong types everywhere', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const r = await h.post(null, { raw: `{"from":"a.b","endpoint":"/","method":"GET","status":200,"body":${deep}}` });
    expect(r.status).toBe(400);
    expect((r.json.errors as { problems: string[] }[])[0]!.problems).toEqual(['(payload): nests deeper than 260 levels']);
    const wrong = await h.post({ from: [], endpoint: {}, method: null, status: true, request_headers: 'x', response_headers: [1], body: 1, query_string: 5 });
    expect(wrong.status).toBe(400);
    expect((wrong.json.errors as { problems: string[] }[])[0]!.problems).toHaveLength(7);
    const dl = await deadLetterLines(h.deadLetter);
    expect(dl[0]).toMatchObject({ problems: ['(payload): nests deeper than 260 levels'], payloadOmitted: expect.stringMatching(/could not be serialized/) });
    expect(dl).toHaveLength(2);
  });

  it('stores the valid items of a mixed batch and answers 207 naming the invalid ones', async () => {
    const r = await h.post([samplePayload(0), { ...samplePayload(1), status: 'oops' }, samplePayload(2), 42]);
    expect(r.status).toBe(207);
    expect(r.json).toMatchObject({ accepted: 2, rejected: 2, errors: [{ item: '[1]', problems: ['status: must be an integer 100–599, not a string'] }, { item: '[3]', problems: ['(payload): must be a JSON object, not a number'] }] });
    expect(await storedExchanges(h.store)).toHaveLength(2);
    expect((await deadLetterLines(h.deadLetter)).map((l) => l.item)).toEqual(['[1]', '[3]']);
  });

  it('an unpaired surrogate in a header or query parameter is that payload\'s 400 problem, not a 503 that has the whole batch retried', async () => {
    const raw = `[${JSON.stringify(samplePayload(0))},${JSON.stringify({ ...samplePayload(1), request_headers: { 'X-Name': '@@' } }).replace('"@@"', '"caf\\udce9"')},`
      + `${JSON.stringify({ ...samplePayload(5), queryStringParameters: { q: '@@' } }).replace('"@@"', '"\\ud83c"')}]`;
    const r = await h.post(null, { raw });
    expect(r.status).toBe(207);
    expect(r.json).toMatchObject({ accepted: 1, rejected: 2, errors: [
      { item: '[1]', problems: [expect.stringMatching(/^request_headers\.X-Name: has an unpaired surrogate \(\\udce9\)/)] },
      { item: '[2]', problems: [expect.stringMatching(/^queryStringParameters\.q: has an unpaired surrogate \(\\ud83c\)/)] },
    ] });
    expect(await storedExchanges(h.store)).toHaveLength(1);
  });

  it('a path with a character beyond U+FFFF (an emoji) is stored percent-encoded, not a 503 that has the whole batch retried', async () => {
    const r = await h.post([samplePayload(0), { ...samplePayload(4), endpoint: '/menu/🍵' }]);
    expect(r.status).toBe(202);
    expect((await storedExchanges(h.store)).map((ex) => ex.request.path)).toEqual(['/api/v1/users/0', '/menu/%F0%9F%8D%B5']);
  });

  it('stores a redelivered payload once: by request id, by content hash, within a batch, and under concurrency', async () => {
    const withId = samplePayload(1);
    expect((await h.post(withId)).json).toMatchObject({ accepted: 1, duplicates: 0 });
    // Same request id, different bytes (the forwarder re-serialized it): still the same request.
    expect((await h.post({ ...withId, latency: 99 })).json).toMatchObject({ accepted: 0, duplicates: 1 });
    const noId = samplePayload(2, { withId: false });
    expect((await h.post(noId)).json).toMatchObject({ accepted: 1 });
    expect((await h.post(noId)).json).toMatchObject({ accepted: 0, duplicates: 1 });
    expect((await h.post([samplePayload(3), samplePayload(3)])).json).toMatchObject({ accepted: 1, duplicates: 1 });
    const storm = await Promise.all(Array.from({ length: 20 }, () => h.post([samplePayload(4), samplePayload(5, { withId: false })])));
    expect(storm.every((r) => r.status === 202)).toBe(true);
    expect(storm.reduce((n, r) => n + (r.json.accepted as number), 0)).toBe(2);
    const stored = await storedExchanges(h.store);
    expect(stored).toHaveLength(5);
    expect(h.server.stats).toMatchObject({ accepted: 5, duplicates: 3 + 38 });
  });

  it('serves /healthz without a key, /stats with one, and only POST otherwise', async () => {
    const get = async (path: string, key?: string): Promise<[number, unknown]> => {
      const res = await request(`${h.server.url}${path}`, { headers: key ? { 'x-api-key': key } : {} });
      return [res.statusCode, await res.body.json()];
    };
    await h.post(ISSUE_EXAMPLE);
    expect(await get('/healthz')).toEqual([200, { ok: true }]);
    expect((await get('/stats'))[0]).toBe(401);
    expect(await get('/stats', API_KEY)).toEqual([200, expect.objectContaining({ deliveries: 1, accepted: 1, unauthorized: 1, dedupeKeys: 1 })]);
    expect((await get('/anything', API_KEY))[0]).toBe(405);
  });

  it('shuts down gracefully: seals the store and reports stats', async () => {
    await h.post([samplePayload(0), samplePayload(1)]);
    const summary = await h.server.close();
    expect(summary).toMatchObject({ accepted: 2, deliveries: 1, store: { exchanges: 2, segments: 1 } });
    expect(await storedExchanges(h.store)).toHaveLength(2);
  });
});
