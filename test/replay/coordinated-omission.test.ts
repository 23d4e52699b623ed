import { afterEach, describe, expect, it } from 'vitest';
import { runReplay } from '../../replay/run-replay.js';
import { makeTempDir } from '../support/temp-dir.js';
import type { Exchange } from '../../store/exchange.js';
import { fixtureExchange, startTarget, writeFixtureStore } from './replay-fixture.js';

/**
 * Must-show 2: a target that stalls for 1 s. With one connection (a
 * closed-model tool's situation) every send due during the stall waits
 * behind it and goes out late; timed from the actual send those requests
 * look fast, so the uncorrected p99 hides the stall. Timed from the intended
 * send (wrk2's correction) the p99 shows it, and the late sends are counted.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

describe('coordinated omission', () => {
  it('the corrected p99 shows a 1 s stall, the uncorrected one does not; late sends are counted', async () => {
    const tmp = await makeTempDir('reprise-co-');
    cleanups.push(tmp.cleanup);
    // 200 GETs 10 ms apart: 2 s at 100/s.
    const store = await writeFixtureStore(tmp.dir, 200, 10_000, 'recorded', fixtureGet);
    let seen = 0;
    const target = await startTarget((_req, res) => {
      seen++;
      // The 50th request (about 0.5 s in) is held for 1 s: the target's GC pause.
      if (seen === 50) setTimeout(() => res.end('late'), 1_000);
      else res.end('ok');
    });
    cleanups.push(() => target.close());

    const summary = await runReplay({ store, target: target.url, concurrency: 1 });
    const o = summary.metrics.overall;
    expect(o).toMatchObject({ requests: 200, sent: 200, completed: 200, errors: 0, dropped: 0 });
    // About 100 sends were due during the stall and went out after it.
    expect(o.late).toBeGreaterThanOrEqual(80);
    expect(summary.scheduler.startedLate).toBeGreaterThanOrEqual(80);
    // The stall itself is in both histograms (max)...
    expect(o.uncorrected.max).toBeGreaterThanOrEqual(990_000);
    expect(o.latency.max).toBeGreaterThanOrEqual(990_000);
    // ...but only the corrected p99 reports it; the uncorrected p99 is a fast request.
    expect(o.latency.p99).toBeGreaterThanOrEqual(900_000);
    expect(o.uncorrected.p99).toBeLessThan(250_000);
    // Schedule lag is what the correction adds: up to the stall.
    expect(o.lag.max).toBeGreaterThanOrEqual(900_000);
  }, 15_000);
});

function fixtureGet(i: number, gapUs: number): Exchange {
  const ex = fixtureExchange(i, gapUs);
  return { ...ex, request: { ...ex.request, method: 'GET', body: null, headers: ex.request.headers.filter(([n]) => !/^content-/i.test(n)) } };
}
