/**
 * The one monotonic clock of a replay run: microseconds since the run
 * started, from performance.now() (monotonic, from the same high-resolution
 * source as process.hrtime; never Date.now(), which jumps with NTP). Intended,
 * sent and done times in a RequestResult all come from here, so they
 * subtract exactly.
 *
 * Not process.hrtime.bigint(): that allocates BigInts on every reading, and
 * the scheduler reads the clock on every poll while it waits for a send (see
 * waitUntil) — at a few thousand sends a second the garbage alone made a
 * minor GC every ~50 ms, each one delaying the sends due during it.
 */
export interface RunClock {
  /** µs since the run started (fractional, not rounded). */
  nowUs(): number;
  /** Wall-clock ms at the run start, for reports and `${time:…}` templates. */
  readonly startedAtMs: number;
}

export function startRunClock(): RunClock {
  const origin = performance.now();
  return {
    startedAtMs: Date.now(),
    nowUs: () => (performance.now() - origin) * 1000,
  };
}

// Timers are millisecond-grained and fire late under load: sleep with
// setTimeout only until this close to the target, then poll with
// setImmediate (which lets I/O run between polls) until the moment arrives.
const SPIN_WINDOW_US = 1500;

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Resolves at (or just after) `targetUs` on `clock`, or when `signal`
 * aborts. Returns undefined, without yielding, when the target has already
 * passed — the caller decides when a run of overdue sends must yield to I/O.
 *
 * One promise and one callback per wait, not a promise per poll: the last
 * 1.5 ms before a send are hundreds of turns of the event loop at low rates,
 * and their garbage made minor GCs (each one delaying the sends due during
 * it) twice as frequent. Napping between polls (Atomics.wait) was tried to cut
 * the rest: it doubled the measured latency p50 on loopback (responses read
 * up to ~60 µs late) for 17 % less CPU and no better lag, so polls stay busy.
 */
export function waitUntil(clock: RunClock, targetUs: number, signal?: AbortSignal): Promise<void> | undefined {
  if (signal?.aborted || targetUs - clock.nowUs() <= 0) return undefined;
  return new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let listening = false;
    const done = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      if (listening) signal!.removeEventListener('abort', done);
      resolve();
    };
    const poll = (): void => {
      timer = undefined;
      if (signal?.aborted) return done();
      const remaining = targetUs - clock.nowUs();
      if (remaining <= 0) return done();
      if (remaining <= SPIN_WINDOW_US) return void setImmediate(poll);
      // A stopped run does not wait out a long recorded gap (polls check the signal themselves).
      if (signal && !listening) {
        signal.addEventListener('abort', done, { once: true });
        listening = true;
      }
      timer = setTimeout(poll, Math.floor((remaining - SPIN_WINDOW_US) / 1000));
    };
    poll();
  });
}

export { immediate as yieldToEventLoop };

/** Resolves at the wall-clock instant `atMs` (ms since the epoch): processes of one run (shards) start together. */
export async function waitForWallClock(atMs: number): Promise<void> {
  const remaining = atMs - Date.now();
  if (remaining > 2) await new Promise((r) => setTimeout(r, remaining - 2));
  while (Date.now() < atMs) await immediate();
}
