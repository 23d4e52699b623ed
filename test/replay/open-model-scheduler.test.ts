import { describe, expect, it } from 'vitest';
import { runOpenModel } from '../../replay/schedule/open-model-scheduler.js';
import type { PlannedSend } from '../../replay/schedule/replay-plan.js';
import { startRunClock } from '../../replay/schedule/run-clock.js';
import { fixtureExchange } from './replay-fixture.js';

/** Sends at the given ms offsets; exchange i on recorded connection `c${conn(i)}`. */
function plan(offsetsMs: number[], conn: (i: number) => number = (i) => i): AsyncIterable<PlannedSend> {
  return (async function* () {
    for (let i = 0; i < offsetsMs.length; i++) {
      const ex = fixtureExchange(i, 0);
      yield { exchange: { ...ex, id: `ex${i}`, source: { ...ex.source, connection: `c${conn(i)}` } }, copy: 0, intendedUs: offsetsMs[i]! * 1000 };
    }
  })();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('open-model scheduler', () => {
  it('sends on time whether or not earlier responses came back', { retry: 2 }, async () => {
    const clock = startRunClock();
    const started: number[] = [];
    const stats = await runOpenModel(plan([0, 20, 40, 60, 80]), { send: async () => { started.push(clock.nowUs()); await sleep(300); }, drop: () => undefined }, { clock, concurrency: 100 });
    expect(stats).toMatchObject({ planned: 5, started: 5, droppedQueueFull: 0, droppedTooLate: 0 });
    // Each started within a few ms of its time although every response takes 300 ms.
    started.forEach((t, i) => expect(Math.abs(t - i * 20_000)).toBeLessThan(15_000));
    // Wall-clock timing on a 2-core machine running the whole suite: a retry reruns it, same bounds.
  });

  it('at the concurrency cap a due send waits and goes out late, counted', async () => {
    const clock = startRunClock();
    const stats = await runOpenModel(plan([0, 1, 2, 3]), { send: () => sleep(50), drop: () => undefined }, { clock, concurrency: 1 });
    expect(stats).toMatchObject({ planned: 4, started: 4, peakQueued: 3 });
    // The three that waited behind the cap are late; the first is too if this process was descheduled at start.
    expect(stats.startedLate).toBeGreaterThanOrEqual(3);
  });

  it('a full wait queue drops, and a send too far behind is dropped rather than sent', async () => {
    const clock = startRunClock();
    const drops: string[] = [];
    const stats = await runOpenModel(plan([0, 1, 2, 3, 4]), { send: () => sleep(60), drop: (s, why) => drops.push(`${s.exchange.id}:${why}`) }, { clock, concurrency: 1, maxQueue: 2 });
    expect(drops).toEqual(['ex3:queue-full', 'ex4:queue-full']);
    expect(stats).toMatchObject({ started: 3, droppedQueueFull: 2 });

    const late: string[] = [];
    const s2 = await runOpenModel(plan([0, 1, 2]), { send: () => sleep(80), drop: (s, why) => late.push(`${s.exchange.id}:${why}`) }, { clock: startRunClock(), concurrency: 1, maxLateMs: 50 });
    expect(late).toEqual(['ex1:too-late', 'ex2:too-late']);
    expect(s2).toMatchObject({ started: 1, droppedTooLate: 2 });
  });

  it('per-connection lanes: one at a time per recorded connection, in order, others unaffected', async () => {
    const clock = startRunClock();
    const order: string[] = [];
    let inLane0 = 0;
    let maxInLane0 = 0;
    const stats = await runOpenModel(
      plan([0, 1, 2, 3, 4, 5], (i) => i % 2),
      {
        send: async (s) => {
          const lane0 = s.exchange.source.connection === 'c0';
          if (lane0) maxInLane0 = Math.max(maxInLane0, ++inLane0);
          order.push(s.exchange.id);
          await sleep(lane0 ? 30 : 1);
          if (lane0) inLane0--;
        },
        drop: () => undefined,
      },
      { clock, concurrency: 10, laneOf: (s) => s.exchange.source.connection },
    );
    expect(maxInLane0).toBe(1);
    expect(order.filter((id) => ['ex0', 'ex2', 'ex4'].includes(id))).toEqual(['ex0', 'ex2', 'ex4']);
    expect(order.indexOf('ex5')).toBeLessThan(order.indexOf('ex4'));
    expect(stats.started).toBe(6);
  });

  it('an abort stops the plan; waiting sends are cancelled, in-flight ones finish', async () => {
    const clock = startRunClock();
    const ac = new AbortController();
    let finished = 0;
    setTimeout(() => ac.abort(), 30);
    const stats = await runOpenModel(plan([0, 1, 2, 500, 600]), { send: async () => { await sleep(100); finished++; }, drop: () => undefined }, { clock, concurrency: 1, signal: ac.signal });
    expect(stats).toMatchObject({ started: 1, cancelled: 2 });
    expect(finished).toBe(1);
  });
});
