import { afterEach, describe, expect, it } from 'vitest';
import { runReplaySharded } from '../../replay/run-sharded.js';
import { makeTempDir } from '../support/temp-dir.js';
import { fixtureExchange, startTarget, writeFixtureStore } from './replay-fixture.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

describe('sharded replay (several sending processes)', () => {
  it('the shards together send exactly the plan, once, and their metrics merge', async () => {
    const tmp = await makeTempDir('reprise-sharded-');
    cleanups.push(tmp.cleanup);
    const store = await writeFixtureStore(tmp.dir, 60, 20_000); // 1.2 s of recording
    const traces = new Map<string, number>();
    const target = await startTarget((req, res) => {
      const t = String(req.headers['x-trace']);
      traces.set(t, (traces.get(t) ?? 0) + 1);
      res.end('ok');
    });
    cleanups.push(() => target.close());
    const s = await runReplaySharded({ store, target: target.url, amplify: 2, workers: 2 });
    expect(s.metrics.overall).toMatchObject({ requests: 120, sent: 120, completed: 120, errors: 0, dropped: 0 });
    expect(s.scheduler.planned).toBe(120);
    expect(traces.size).toBe(60);
    for (const n of traces.values()) expect(n).toBe(2);
    // The plan's timing survives the split: planned rate over the merged results is the plan's (120 sends over ~1.2 s).
    expect(s.metrics.plannedRate).toBeGreaterThan(90);
    expect(s.metrics.plannedRate).toBeLessThan(110);
  }, 20_000);

  it("each error kind's first message comes back from the workers (the results stay there)", async () => {
    const tmp = await makeTempDir('reprise-sharded-');
    cleanups.push(tmp.cleanup);
    const store = await writeFixtureStore(tmp.dir, 6, 1_000, 'templated', (i, gap) => {
      const ex = fixtureExchange(i, gap);
      // Odd exchanges cannot be built (a variable nobody sets): "other", with the reason.
      if (i % 2 === 1) {
        ex.request.query = 'k=${REPRISE_TEST_NEVER_SET}';
        ex.meta = { replay: { templates: ['request.query'] } };
      }
      return ex;
    });
    const target = await startTarget();
    cleanups.push(() => target.close());
    const s = await runReplaySharded({ store, target: target.url, workers: 2 });
    expect(s.metrics.overall).toMatchObject({ requests: 6, completed: 3, errors: 3 });
    expect(s.errorExamples?.other).toMatch(/\$\{REPRISE_TEST_NEVER_SET\} has no value/);
  }, 20_000);

  it('a worker error comes back as the same one-line error', async () => {
    const tmp = await makeTempDir('reprise-sharded-');
    cleanups.push(tmp.cleanup);
    const store = await writeFixtureStore(tmp.dir, 3, 1_000);
    await expect(runReplaySharded({ store, target: 'http://api.recorded.test:1', workers: 2 })).rejects.toMatchObject({ code: 'REPLAY_RECORDED_HOST' });
    await expect(runReplaySharded({ store, target: 'http://127.0.0.1:1', workers: 0 })).rejects.toMatchObject({ code: 'REPLAY_OPTIONS_INVALID' });
  }, 20_000);
});
