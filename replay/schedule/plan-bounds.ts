/**
 * Limits on the schedule knobs. Without them a typo plans an effectively
 * endless run: `--amplify 1000000000` walks a billion sends per recorded
 * request before `--dry-run` prints anything, and `--speed 0.000000001`
 * stretches a second of recording over 30 years. Each limit is far beyond
 * any real use and is the same for flags, scenarios and library calls
 * (docs/replay.md "The three knobs").
 */

/** 1,000× slower than recorded: a recorded second becomes ~17 minutes. */
export const MIN_SPEED = 0.001;
/** A 1 s gap becomes 1 µs, the plan's resolution; beyond it every send lands on the same instant anyway. */
export const MAX_SPEED = 1_000_000;
/** 10,000 copies of each request: with one request a second recorded, 10,000/s. */
export const MAX_AMPLIFY = 10_000;
/** The longest plan: 30 days, as for rate profiles (rate-profile.ts). */
export const MAX_PLAN_MS = 30 * 24 * 3600 * 1000;
/** Whole seconds a plan can touch: a send at exactly 30 days opens one more. */
export const MAX_PLAN_SECONDS = MAX_PLAN_MS / 1000 + 1;

/** What is wrong with the schedule knobs, one message per problem (library names: speed, amplify, maxDurationMs). */
export function boundProblems(o: { speed?: number | undefined; amplify?: number | undefined; maxDurationMs?: number | undefined }): string[] {
  const problems: string[] = [];
  if (o.speed !== undefined && !(o.speed >= MIN_SPEED && o.speed <= MAX_SPEED)) problems.push(`speed: must be from ${MIN_SPEED} to ${MAX_SPEED} (got ${o.speed})`);
  if (o.amplify !== undefined && !(Number.isInteger(o.amplify) && o.amplify >= 1 && o.amplify <= MAX_AMPLIFY)) problems.push(`amplify: must be a whole number from 1 to ${MAX_AMPLIFY} (got ${o.amplify})`);
  if (o.maxDurationMs !== undefined && !(o.maxDurationMs > 0 && o.maxDurationMs <= MAX_PLAN_MS)) problems.push(`maxDurationMs: must be > 0 and at most 30 days (got ${o.maxDurationMs})`);
  return problems;
}

/**
 * The plan of a recording that spans `spanUs` would run past MAX_PLAN_MS at this speed, and
 * neither `maxGapMs` nor `maxDurationMs` shortens it: said before the run, not 30 days into it.
 */
export function recordedSpanProblem(spanUs: number, o: { speed?: number | undefined; maxGapMs?: number | undefined; maxDurationMs?: number | undefined }): string | undefined {
  if (o.maxGapMs !== undefined || (o.maxDurationMs !== undefined && o.maxDurationMs <= MAX_PLAN_MS)) return undefined;
  const planMs = spanUs / 1000 / (o.speed ?? 1);
  if (planMs <= MAX_PLAN_MS) return undefined;
  return `the recording spans ${formatDays(spanUs / 1000)}, which at speed ${o.speed ?? 1} plans ${formatDays(planMs)} of replay; at most 30 days (raise --speed, or cap it with --duration or --max-gap)`;
}

function formatDays(ms: number): string {
  const days = ms / 86_400_000;
  return days >= 1 ? `${days >= 100 ? Math.round(days) : days.toFixed(1)} days` : `${(ms / 3_600_000).toFixed(1)} h`;
}
