import { afterEach, describe, expect, it } from 'vitest';
import { runMax } from '../../replay/max/run-max.js';
import type { RequestResult } from '../../replay/replay-result.js';
import { makeTempDir } from '../support/temp-dir.js';
import { fixtureExchange, startTarget, writeFixtureStore } from './replay-fixture.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

describe('--max: the recorded mix through autocannon', () => {
  it('drives the mix in a closed loop and converts every response into a RequestResult', async () => {
    const tmp = await makeTempDir('reprise-max-');
    cleanups.push(tmp.cleanup);
    const store = await writeFixtureStore(tmp.dir, 10, 1_000);
    const paths = new Map<string, number>();
    const target = await startTarget((req, res) => {
      const p = req.url!.split('?')[0]!;
      paths.set(p, (paths.get(p) ?? 0) + 1);
      res.statusCode = req.method === 'PUT' ? 503 : 200;
      res.end('answer');
    });
    cleanups.push(() => target.close());
    const results: RequestResult[] = [];
    const s = await runMax({ store, target: target.url, connections: 4, durationMs: 1_000, onResult: (r) => results.push(r) });
    expect(s.mix).toBe(10);
    // Every response autocannon counted arrived as a result, and the metrics saw them all.
    expect(results.length).toBeGreaterThanOrEqual(s.autocannon.requests);
    expect(s.metrics.overall.completed).toBe(results.filter((r) => r.status !== null).length);
    expect(s.metrics.overall.completed).toBeGreaterThan(50);
    // The mix is sent round-robin: every recorded path was hit, PUTs answered 503 and grouped under their endpoint.
    expect([...paths.keys()].sort()).toEqual([...new Set(Array.from({ length: 10 }, (_, i) => fixtureExchange(i, 0).request.path))].sort());
    const put = Object.entries(s.metrics.endpoints).find(([k]) => k.startsWith('PUT '));
    expect(put?.[1].status['5xx']).toBeGreaterThan(0);
    expect(s.metrics.overall.status['5xx']).toBe(results.filter((r) => r.status === 503).length);
    for (const r of results.slice(0, 20)) {
      expect(r.sentUs).toBe(r.intendedUs);
      expect(r.doneUs).toBeGreaterThanOrEqual(r.sentUs!);
    }
  }, 15_000);

  it('refuses the recorded host and an empty mix with one clear error each', async () => {
    const tmp = await makeTempDir('reprise-max-');
    cleanups.push(tmp.cleanup);
    const store = await writeFixtureStore(tmp.dir, 3, 1_000);
    await expect(runMax({ store, target: 'http://api.recorded.test:1', durationMs: 1_000 })).rejects.toMatchObject({ code: 'REPLAY_RECORDED_HOST' });
    await expect(runMax({ store, target: 'http://127.0.0.1:1', durationMs: 1_000, excludeMethods: ['GET', 'POST', 'PUT'] })).rejects.toMatchObject({ code: 'REPLAY_OPTIONS_INVALID' });
    await expect(runMax({ store, target: 'http://127.0.0.1:1', connections: 0 })).rejects.toMatchObject({ code: 'REPLAY_OPTIONS_INVALID' });
  });
});
