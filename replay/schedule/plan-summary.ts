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
  /** Mean rate over the plan, sends/s. */
  meanRate: number;
  peakRate: number;
}

// Bounds the per-second histogram (11.5 days of plan); later seconds fold into the last bucket.
const MAX_SECONDS = 1_000_000;

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
  for await (const s of plan) {
    sends++;
    if (s.copy === 0) exchanges++;
    durationUs = Math.max(durationUs, s.intendedUs);
    const sec = Math.min(Math.floor(s.intendedUs / 1e6), MAX_SECONDS - 1);
    while (perSecond.length <= sec) perSecond.push(0);
    perSecond[sec]!++;
  }
  const meanRate = durationUs > 0 ? sends / (durationUs / 1e6) : sends;
  return { sends, exchanges, durationUs, perSecond, meanRate, peakRate: perSecond.reduce((m, n) => Math.max(m, n), 0) };
}
