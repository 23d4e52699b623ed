import { MAX_PLAN_SECONDS } from './plan-bounds.js';
import type { ReplayPlan } from './replay-plan.js';

/** What `--dry-run` prints: the plan's shape, computed by walking it without sending. */
export interface PlanSummary {
  sends: number;
  /** Distinct recorded exchanges in the plan (counted as copy-0 sends). */
  exchanges: number;
  /** Intended time of the last send, µs. */
  durationUs: number;
  /** Sends per second of intended time: `perSecond[i]` counts sends in [i s, i+1 s). */
  perSecond: number[];
  /**
   * Mean rate over the plan, sends/s: (sends − 1) / (last − first intended time), the
   * definition the metrics use for the planned and achieved rates (0 for fewer than two sends).
   */
  meanRate: number;
  /** The most sends in one second of the plan, and never less than the mean rate. */
  peakRate: number;
}

/**
 * The peak rate of a plan from its per-second counts. A plan shorter than a
 * second has no whole second to count (600 sends in 0.2 s is one bucket of
 * 600 at a rate of 3,000/s), so the peak is at least the mean rate.
 */
export function peakOf(perSecond: readonly number[], meanRate: number): number {
  return Math.max(meanRate, perSecond.reduce((m, n) => Math.max(m, n), 0));
}

// Every plan ends within MAX_PLAN_MS (plan-bounds.ts), so one counter per second covers it exactly
// (~20 MB at the bound); the clamp only guards a caller's hand-made plan.
const MAX_SECONDS = MAX_PLAN_SECONDS;

/**
 * Walk a plan and summarize it in O(duration in seconds) memory.
 *
 * @example
 * const s = await summarizePlan(planSends(() => readExchanges(store), { speed: 10 }));
 * console.log(s.sends, s.durationUs / 1e6, s.peakRate);
 */
export async function summarizePlan(plan: ReplayPlan): Promise<PlanSummary> {
  const perSecond: number[] = [];
  let sends = 0;
  let exchanges = 0;
  let durationUs = 0;
  let firstUs = Infinity;
  for await (const s of plan) {
    sends++;
    firstUs = Math.min(firstUs, s.intendedUs);
    if (s.copy === 0) exchanges++;
    durationUs = Math.max(durationUs, s.intendedUs);
    const sec = Math.min(Math.floor(s.intendedUs / 1e6), MAX_SECONDS - 1);
    while (perSecond.length <= sec) perSecond.push(0);
    perSecond[sec]!++;
  }
  // n sends span n − 1 gaps: counting n over the span overstated short plans (10 sends 100 ms apart read
  // as 11.1/s), and `rate>=0.99*target` compared the achieved rate with that.
  const meanRate = sends >= 2 && durationUs > firstUs ? ((sends - 1) * 1e6) / (durationUs - firstUs) : 0;
  return { sends, exchanges, durationUs, perSecond, meanRate, peakRate: peakOf(perSecond, meanRate) };
}
