import { RepriseError } from '../../errors.js';
import type { Exchange } from '../../store/exchange.js';
import { MAX_PLAN_MS, boundProblems } from './plan-bounds.js';
import { profileSendTimesUs } from './rate-profile.js';
import type { ExchangeSource, PlanOptions, PlannedSend, ReplayPlan } from './replay-plan.js';

/**
 * Turn recorded exchanges into a ReplayPlan, lazily.
 *
 * Recorded mode (no profile): intended time = recorded offset from the first
 * exchange ÷ speed, gap by gap, each gap capped at `maxGapMs`. With
 * `amplify` N, copy c of a request goes at t + c·gap/N where gap is the
 * (scaled) time to the next request, so volume is exactly N× and the copies
 * fill the gap instead of bursting. Holding one exchange back is all the
 * lookahead that needs, so memory stays O(1) in the store size.
 *
 * Profile mode: the recorded mix is drawn in store order (looping) and placed
 * at the profile's send times; recorded timing is ignored.
 *
 * @example
 * const plan = planSends(() => readExchanges('./store'), { speed: 10, amplify: 3 });
 * for await (const s of plan) console.log(s.intendedUs, s.exchange.id, s.copy);
 */
export function planSends(source: ExchangeSource, options: PlanOptions = {}): ReplayPlan {
  const problems = planProblems(options);
  if (problems.length > 0) throw new RepriseError('REPLAY_OPTIONS_INVALID', problems.join('; '));
  return options.profile ? profilePlan(source, options) : recordedPlan(source, options);
}

export function planProblems(o: PlanOptions): string[] {
  const problems: string[] = [];
  const speed = o.speed ?? 1;
  const amplify = o.amplify ?? 1;
  problems.push(...boundProblems(o));
  if (o.maxGapMs !== undefined && !(o.maxGapMs >= 0)) problems.push(`maxGapMs: must be >= 0 (got ${o.maxGapMs})`);
  if (o.profile && speed !== 1) problems.push('speed: cannot be combined with a profile (the profile sets the absolute rate)');
  if (o.profile && amplify !== 1) problems.push('amplify: cannot be combined with a profile (raise the profile rate instead)');
  // A profile ends by itself; a looped recording would plan forever.
  if (o.loop && !o.profile && o.maxDurationMs === undefined) problems.push('loop: needs a duration (--duration) so the run ends');
  return problems;
}

async function* recordedPlan(source: ExchangeSource, o: PlanOptions): AsyncGenerator<PlannedSend> {
  const speed = o.speed ?? 1;
  const amplify = o.amplify ?? 1;
  const maxGapUs = o.maxGapMs === undefined ? Infinity : o.maxGapMs * 1000;
  const endUs = o.maxDurationMs === undefined ? Infinity : o.maxDurationMs * 1000;

  let pending: { ex: Exchange; t: number; lap: number } | undefined;
  let lastGapUs = 0;
  let lap = 0;
  let t = 0;

  // Emits the held exchange's copies across `gapUs`; false once past the end of the run.
  function* release(gapUs: number): Generator<PlannedSend, boolean> {
    if (!pending) return true;
    for (let c = 0; c < amplify; c++) {
      const at = pending.t + (c * gapUs) / amplify;
      if (at >= endUs) return false;
      yield { exchange: pending.ex, copy: pending.lap * amplify + c, intendedUs: Math.round(at) };
    }
    return true;
  }

  for (;;) {
    let seen = 0;
    // A running max, so an exchange written out of start order goes out at once rather than in the past.
    let lastStart: number | undefined;
    for await (const ex of source()) {
      seen++;
      if (lastStart === undefined) {
        // First of a lap: lap 0 starts at 0; later laps continue after the last gap seen.
        if (pending) t += lastGapUs;
      } else {
        const gap = Math.min(Math.max(0, ex.start - lastStart) / speed, maxGapUs);
        t += gap;
        lastGapUs = gap;
      }
      lastStart = Math.max(lastStart ?? ex.start, ex.start);
      // Backstop for what runReplay cannot see up front (unsealed segments, laps, many capped gaps).
      if (t > MAX_PLAN_MS * 1000 && t < endUs) throw new RepriseError('REPLAY_OPTIONS_INVALID', `the plan runs past 30 days of replay time at speed ${speed}; at most 30 days (raise --speed, or cap it with --duration or --max-gap)`);
      if (!(yield* release(t - (pending?.t ?? t)))) return;
      pending = { ex, t, lap };
    }
    if (seen === 0 || !o.loop) break;
    lap++;
  }
  yield* release(lastGapUs);
}

async function* profilePlan(source: ExchangeSource, o: PlanOptions): AsyncGenerator<PlannedSend> {
  const endUs = o.maxDurationMs === undefined ? Infinity : o.maxDurationMs * 1000;
  const times = profileSendTimesUs(o.profile!);
  let lap = 0;
  for (;;) {
    let seen = 0;
    for await (const exchange of source()) {
      seen++;
      const next = times.next();
      if (next.done || next.value >= endUs) return;
      yield { exchange, copy: lap, intendedUs: next.value };
    }
    // The profile decides the length of the run; the recorded mix repeats as often as it needs.
    if (seen === 0) return;
    lap++;
  }
}
