/**
 * The one monotonic clock of a replay run: microseconds since the run
 * started, from process.hrtime.bigint() (never Date.now(), which jumps with
 * NTP, and never performance.now() mixed with it). Intended, sent and done
 * times in a RequestResult all come from here, so they subtract exactly.
 */
export interface RunClock {
  /** µs since the run started (may be fractional-free but is not rounded to ms). */
  nowUs(): number;
  /** Wall-clock ms at the run start, for reports and `${time:…}` templates. */
  readonly startedAtMs: number;
}

export function startRunClock(): RunClock {
  const origin = process.hrtime.bigint();
  return {
    startedAtMs: Date.now(),
    nowUs: () => Number(process.hrtime.bigint() - origin) / 1000,
  };
}

// Timers are millisecond-grained and fire late under load: sleep with
// setTimeout only until this close to the target, then poll with
// setImmediate (which lets I/O run between polls) until the moment arrives.
const SPIN_WINDOW_US = 1500;

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
// A sleep that an abort ends early, so a stopped run does not wait out a long recorded gap.
const sleepMs = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Resolves at (or just after) `targetUs` on `clock`. Returns at once, without
 * yielding, when the target has already passed — the caller decides when a
 * run of overdue sends must yield to I/O.
 */
export async function waitUntil(clock: RunClock, targetUs: number, signal?: AbortSignal): Promise<void> {
  for (;;) {
    if (signal?.aborted) return;
    const remaining = targetUs - clock.nowUs();
    if (remaining <= 0) return;
    if (remaining > SPIN_WINDOW_US) await sleepMs(Math.floor((remaining - SPIN_WINDOW_US) / 1000), signal);
    else await immediate();
  }
}

export { immediate as yieldToEventLoop };
