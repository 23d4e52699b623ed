import { describe, expect, it } from 'vitest';
import { RepriseError } from '../../errors.js';
import type { Exchange } from '../../store/exchange.js';
import { planProblems, planSends } from '../../replay/schedule/plan-sends.js';
import { summarizePlan } from '../../replay/schedule/plan-summary.js';
import type { PlanOptions, PlannedSend } from '../../replay/schedule/replay-plan.js';
import { fixtureExchange } from './replay-fixture.js';

/** Exchanges recorded at these offsets (ms) from the first. */
function recordedAt(offsetsMs: number[]): () => AsyncIterable<Exchange> {
  const base = fixtureExchange(0, 0).start;
  const list = offsetsMs.map((ms, i) => ({ ...fixtureExchange(i, 0), id: `ex${i}`, start: base + ms * 1000 }));
  return async function* () {
    yield* list;
  };
}

async function collect(source: () => AsyncIterable<Exchange>, o: PlanOptions): Promise<Array<[string, number, number]>> {
  const out: Array<[string, number, number]> = [];
  for await (const s of planSends(source, o) as AsyncIterable<PlannedSend>) out.push([s.exchange.id, s.copy, s.intendedUs]);
  return out;
}

describe('planSends: recorded timing', () => {
  it('speed divides every recorded gap', async () => {
    expect(await collect(recordedAt([0, 100, 300, 1300]), { speed: 10 })).toEqual([
      ['ex0', 0, 0],
      ['ex1', 0, 10_000],
      ['ex2', 0, 30_000],
      ['ex3', 0, 130_000],
    ]);
  });

  it('amplify sends each request N times, spread evenly over the gap to the next (the last uses the last gap)', async () => {
    expect(await collect(recordedAt([0, 30, 90]), { amplify: 3 })).toEqual([
      ['ex0', 0, 0],
      ['ex0', 1, 10_000],
      ['ex0', 2, 20_000],
      ['ex1', 0, 30_000],
      ['ex1', 1, 50_000],
      ['ex1', 2, 70_000],
      ['ex2', 0, 90_000],
      ['ex2', 1, 110_000],
      ['ex2', 2, 130_000],
    ]);
  });

  it('speed and amplify compose: N× the volume in 1/speed of the time', async () => {
    const offsets = Array.from({ length: 100 }, (_, i) => i * 100);
    const plan = await summarizePlan(planSends(recordedAt(offsets), { speed: 10, amplify: 4 }));
    expect(plan.sends).toBe(400);
    expect(plan.exchanges).toBe(100);
    expect(plan.durationUs).toBe(99 * 10_000 + 7_500);
    expect(plan.perSecond).toEqual([400]);
  });

  it('the mean rate is (sends − 1) over the span, as the metrics define planned and achieved rates', async () => {
    // 10 sends 100 ms apart: 10/s, not 10 / 0.9 s = 11.1/s (which a perfect run's achieved rate never reaches).
    const plan = await summarizePlan(planSends(recordedAt(Array.from({ length: 10 }, (_, i) => i * 100)), {}));
    expect(plan.meanRate).toBeCloseTo(10, 9);
    expect((await summarizePlan(planSends(recordedAt([0]), {}))).meanRate).toBe(0);
  });

  it('the peak rate is never below the mean: a plan shorter than a second has no whole second to count', async () => {
    // 600 sends in 0.2 s: one per-second bucket of 600, at ~3,000/s.
    const plan = await summarizePlan(planSends(recordedAt(Array.from({ length: 200 }, (_, i) => i)), { amplify: 3 }));
    expect(plan.perSecond).toEqual([600]);
    expect(plan.meanRate).toBeGreaterThan(2_900);
    expect(plan.peakRate).toBe(plan.meanRate);
    const long = await summarizePlan(planSends(recordedAt(Array.from({ length: 30 }, (_, i) => i * 100)), {}));
    expect(long.peakRate).toBe(10);
  });

  it('a long gap is capped after speed is applied', async () => {
    const got = await collect(recordedAt([0, 10, 3_600_010, 3_600_020]), { speed: 2, maxGapMs: 1000 });
    expect(got.map((x) => x[2])).toEqual([0, 5_000, 1_005_000, 1_010_000]);
  });

  it('an exchange stored out of start order goes at once, never in the past', async () => {
    const got = await collect(recordedAt([0, 100, 50, 200]), {});
    expect(got.map((x) => x[2])).toEqual([0, 100_000, 100_000, 200_000]);
  });

  it('loop starts over after the last gap, with new copy numbers, until the duration ends', async () => {
    const got = await collect(recordedAt([0, 100]), { loop: true, maxDurationMs: 450 });
    expect(got).toEqual([
      ['ex0', 0, 0],
      ['ex1', 0, 100_000],
      ['ex0', 1, 200_000],
      ['ex1', 1, 300_000],
      ['ex0', 2, 400_000],
    ]);
  });

  it('maxDurationMs cuts a plan (the time window of the run)', async () => {
    const got = await collect(recordedAt([0, 100, 200, 300]), { maxDurationMs: 250 });
    expect(got.map((x) => x[0])).toEqual(['ex0', 'ex1', 'ex2']);
  });

  it('an empty store plans nothing, even with loop', async () => {
    expect(await collect(recordedAt([]), { loop: true, maxDurationMs: 1000 })).toEqual([]);
    expect(planProblems({ loop: true })).toEqual(['loop: needs a duration (--duration) so the run ends']);
  });
});

describe('planSends: profiles draw the recorded mix in order', () => {
  it('constant 10/s for 2 s: 20 sends 100 ms apart, the mix repeated in order', async () => {
    const got = await collect(recordedAt([0, 5, 7]), { profile: { type: 'constant', rate: 10, duration: 2 } });
    expect(got).toHaveLength(20);
    expect(got.map((x) => x[2])).toEqual(Array.from({ length: 20 }, (_, i) => i * 100_000));
    expect(got.slice(0, 4).map((x) => `${x[0]}/${x[1]}`)).toEqual(['ex0/0', 'ex1/0', 'ex2/0', 'ex0/1']);
  });

  it('ramp 0 → 100/s over 10 s sends the integral (500), faster as it goes', async () => {
    const plan = await summarizePlan(planSends(recordedAt([0]), { profile: { type: 'ramp', from: 0, to: 100, duration: 10 } }));
    expect(plan.sends).toBe(500);
    // Second s of a linear ramp holds ∫ = 10·(2s+1)/2·… : 5, 15, 25, … 95.
    expect(plan.perSecond).toEqual([5, 15, 25, 35, 45, 55, 65, 75, 85, 95]);
  });

  it('spike and steps shapes', async () => {
    const spike = await summarizePlan(planSends(recordedAt([0]), { profile: { type: 'spike', base: 10, peak: 100, duration: 6, at: 2, spikeDuration: 1 } }));
    expect(spike.perSecond).toEqual([10, 10, 100, 10, 10, 10]);
    const steps = await summarizePlan(planSends(recordedAt([0]), { profile: { type: 'steps', steps: [{ rate: 5, duration: 2 }, { rate: 0, duration: 1 }, { rate: 20, duration: 1 }] } }));
    expect(steps.perSecond).toEqual([5, 5, 0, 20]);
    expect(steps.sends).toBe(30);
  });
});

describe('plan options are checked once, every problem at once', () => {
  it('reports bad speed, amplify and knob mixes', () => {
    expect(planProblems({ speed: 0, amplify: 1.5 })).toEqual([
      'speed: must be from 0.001 to 1000000 (got 0)',
      'amplify: must be a whole number from 1 to 10000 (got 1.5)',
    ]);
    expect(planProblems({ profile: { type: 'constant', rate: 1, duration: 1 }, speed: 2 })[0]).toMatch(/cannot be combined with a profile/);
    expect(() => planSends(recordedAt([0]), { speed: Number.NaN })).toThrow(RepriseError);
    try {
      planSends(recordedAt([0]), { speed: -1 });
    } catch (err) {
      expect((err as RepriseError).code).toBe('REPLAY_OPTIONS_INVALID');
    }
  });

  it('bounds the knobs, so a typo cannot plan an endless run: amplify ≤ 10,000, speed 0.001 to 10^6, at most 30 days', async () => {
    expect(planProblems({ amplify: 1_000_000_000, speed: 0.000000001, maxDurationMs: 31 * 86_400_000 })).toEqual([
      'speed: must be from 0.001 to 1000000 (got 1e-9)',
      'amplify: must be a whole number from 1 to 10000 (got 1000000000)',
      `maxDurationMs: must be > 0 and at most 30 days (got ${31 * 86_400_000})`,
    ]);
    expect(planProblems({ amplify: 10_000, speed: 0.001, maxDurationMs: 30 * 86_400_000 })).toEqual([]);
    // Allowed knobs can still stretch a long recording past 30 days: the plan stops at the bound with an error.
    const hourly = recordedAt([0, 3_600_000, 7_200_000]);
    await expect(collect(hourly, { speed: 0.001 })).rejects.toMatchObject({ code: 'REPLAY_OPTIONS_INVALID', message: expect.stringMatching(/past 30 days/) });
    expect(await collect(hourly, { speed: 0.001, maxDurationMs: 86_400_000 })).toHaveLength(1);
  });

  it('a plan up to the bound keeps every second: nothing is folded into the last one', async () => {
    const plan = await summarizePlan(planSends(recordedAt([0, 1000, 20 * 86_400_000]), {}));
    expect(plan.perSecond).toHaveLength(20 * 86_400 + 1);
    expect(plan.perSecond.slice(0, 2)).toEqual([1, 1]);
    expect(plan.perSecond.at(-1)).toBe(1);
    expect(plan.peakRate).toBe(1);
  });
});
