/**
 * The typed library API as a user's vitest suite would use it: the stages as
 * namespaces from the package entry, real servers on 127.0.0.1, no CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { capture, diff, readExchanges, replay, transform } from '../index.js';
import { startDemoApi, type DemoApi } from '../scenarios/demo/demo-api.js';
import { driveWorkload } from '../scenarios/demo/drive-workload.js';
import { makeTempDir } from './support/temp-dir.js';

const TOKEN = 'library-test-token';
let v1: DemoApi;
let v2: DemoApi;
let tmp: { dir: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  tmp = await makeTempDir('reprise-library-');
  [v1, v2] = await Promise.all([startDemoApi({ version: 1, staticTokens: [TOKEN] }), startDemoApi({ version: 2, staticTokens: [TOKEN] })]);
});
afterAll(async () => {
  await Promise.all([v1?.close(), v2?.close()]);
  await tmp?.cleanup();
});

describe("import { capture, transform, replay, diff } from 'reprise'", () => {
  it('records through the proxy, transforms, replays at 10x into a store, and diffs recorded against replayed', async () => {
    const raw = join(tmp.dir, 'raw');
    const recorder = await capture.openRecorder(raw);
    const proxy = await capture.reverseProxy({ listen: { host: '127.0.0.1', port: 0 }, upstream: v1.url, recorder });
    await driveWorkload(proxy.address.url, 60, 200);
    const stats = await proxy.close();
    expect(stats.recorder.recorded).toBe(60);

    const clean = join(tmp.dir, 'clean');
    const pipeline = transform.validate({
      steps: [
        { type: 'filter', presets: ['drop-health-checks'] },
        { type: 'parameterize', set: [{ header: 'authorization', value: 'Bearer ${LIB_TOKEN}' }] },
        { type: 'redact', detectors: 'default' },
      ],
    });
    const t = await transform.store(raw, clean, pipeline);
    expect(t.out).toBeGreaterThan(40);

    const replayed = join(tmp.dir, 'replayed');
    const run = await replay.run({ store: clean, target: v1.url, speed: 10, allowRecordedHost: true, vars: { LIB_TOKEN: TOKEN }, recordOut: replayed });
    expect(run.metrics.overall.requests).toBe(t.out);
    let recorded2xx = 0;
    let logins = 0;
    for await (const ex of readExchanges(clean)) {
      if (ex.response && ex.response.status < 300) recorded2xx++;
      if (ex.request.path === '/api/login') logins++;
    }
    expect(run.metrics.overall.status['2xx']).toBe(recorded2xx); // the token template was filled at send time: no 401s
    const outcomes = replay.evaluateThresholds(replay.parseThresholds(['error_rate<1%', 'p99<2s']), run.metrics, { targetRate: run.metrics.plannedRate });
    expect(outcomes.every((o) => o.passed)).toBe(true);

    // Replayed against the same release: the responses match the recording apart from volatile values.
    const same = await diff.stores({ baselineStore: raw, candidateStore: replayed });
    // Logins do not pair: their request bodies (e-mail addresses) were redacted, so the requests differ.
    expect(same.unmatched?.candidate).toBe(logins);
    expect(same.pairs).toBe(t.out - logins);
    expect(same.totals.high).toBe(0);

    // Against v2, the planted changes show up as high-risk findings.
    const v2Run = await replay.run({ store: clean, target: v2.url, speed: 10, allowRecordedHost: true, vars: { LIB_TOKEN: TOKEN }, recordOut: join(tmp.dir, 'replayed-v2') });
    expect(v2Run.recordOut?.stats.recorded).toBe(t.out);
    const changed = await diff.stores({ baselineStore: replayed, candidateStore: join(tmp.dir, 'replayed-v2') });
    const fields = changed.endpoints.flatMap((e) => e.findings.map((f) => `${e.endpoint} ${f.field} ${f.risk}`));
    expect(fields).toContain('GET /api/users/:id $.user.id high');
    expect(fields).toContain('GET /api/users/:id $.user.email high');
  });
});
