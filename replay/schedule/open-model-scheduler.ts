import type { PlannedSend, ReplayPlan } from './replay-plan.js';
import { waitUntil, yieldToEventLoop, type RunClock } from './run-clock.js';

/**
 * The open-model scheduler: every planned send is started at its intended
 * time whether or not earlier responses came back (wrk2's model, not a
 * closed loop of virtual users that slows down with the server).
 *
 * Two things can still hold a send back, and both are visible, never hidden:
 * - the concurrency cap: with `concurrency` requests in flight, a due send
 *   waits in a FIFO for a free slot and goes out late (its lag is measured);
 * - its lane: with per-connection fidelity, requests of one recorded
 *   connection go one after another on one connection, in order.
 * - its gate: a send that needs a value another send still has to provide
 *   (a `${corr.x}` correlation value, see dispatch/correlation-gate.ts) is
 *   held until it arrives; only such sends wait, the rest stay open-model.
 * A waiting send is dropped (reported with sentUs null) when the wait queue
 * (or the gate) is full or it is already more than `maxLateMs` behind schedule.
 *
 * Memory: the plan is pulled one send at a time; only waiting sends are
 * held, at most `maxQueue` of them, and a lane exists only while busy.
 */

export interface SchedulerOptions {
  clock: RunClock;
  /** Most sends in flight at once (>= 1). */
  concurrency: number;
  /** Sends waiting for a slot or their lane; a send beyond this is dropped. Default 10,000. */
  maxQueue?: number;
  /** A waiting send more than this behind its intended time is dropped instead of sent. Default: never. */
  maxLateMs?: number;
  /** Lane key (recorded connection) for per-connection fidelity; undefined = no lane. */
  laneOf?: (s: PlannedSend) => string | undefined;
  /** Stop pulling the plan; waiting sends are discarded (counted as `cancelled`), in-flight ones finish. */
  signal?: AbortSignal;
  /** Holds back sends that depend on another send's outcome (correlation); undefined = none do. */
  gate?: SendGate;
}

export type GateVerdict = 'go' | 'held' | 'full';

/**
 * What the scheduler asks before a send may start (after its lane, if any).
 * Called in plan order, once per send.
 */
export interface SendGate {
  /** 'go' now; 'held': the gate keeps it and later calls `release(s)` once; 'full': too many held, drop it. */
  admit(s: PlannedSend, release: (s: PlannedSend) => void): GateVerdict;
  /** `s` finished, or will never go: sends held on it may be released (synchronously). */
  settle(s: PlannedSend): void;
  /** Forget every held send (the run stopped); returns how many there were. */
  discard(): number;
  readonly held: number;
}

export interface SchedulerHooks {
  /** Send one request; resolves when it is finished, whatever the outcome. Must not reject. */
  send(s: PlannedSend): Promise<void>;
  /** A send that will never go out, and why. */
  drop(s: PlannedSend, reason: DropReason): void;
}

/** queue-full: the wait queue was full; too-late: past `maxLateMs`; gate-full: too many sends already waiting for a value. */
export type DropReason = 'queue-full' | 'too-late' | 'gate-full';

export interface SchedulerStats {
  planned: number;
  started: number;
  /** Started more than 1 ms after their intended time. */
  startedLate: number;
  droppedQueueFull: number;
  droppedTooLate: number;
  /** Held by the gate until a value they need arrived (they count as late too when they went out late). */
  heldForValue: number;
  /** Refused by the gate: `maxQueue` sends were already waiting for a value. */
  droppedGateFull: number;
  /** Waiting when the run was stopped. */
  cancelled: number;
  /** Most sends waiting at once. */
  peakQueued: number;
}

const LATE_US = 1000;
// An overdue backlog is sent back to back; yield to I/O at least this often so responses keep flowing.
const YIELD_EVERY_US = 1000;

interface Lane {
  pending: PlannedSend[];
}

/**
 * Run `plan` to the end against `hooks`; resolves when every send finished.
 *
 * @example
 * const stats = await runOpenModel(planSends(src, { speed: 10 }), { send: (s) => dispatcher.send(s), drop }, { clock, concurrency: 256 });
 */
export async function runOpenModel(plan: ReplayPlan, hooks: SchedulerHooks, o: SchedulerOptions): Promise<SchedulerStats> {
  const concurrency = Math.max(1, Math.floor(o.concurrency));
  const maxQueue = o.maxQueue ?? 10_000;
  const maxLateUs = o.maxLateMs === undefined ? Infinity : o.maxLateMs * 1000;
  const stats: SchedulerStats = { planned: 0, started: 0, startedLate: 0, droppedQueueFull: 0, droppedTooLate: 0, heldForValue: 0, droppedGateFull: 0, cancelled: 0, peakQueued: 0 };
  const gate = o.gate;
  const lanes = new Map<string, Lane>();
  // FIFO with a moving head: shift() on a large array is O(n).
  let waiting: PlannedSend[] = [];
  let head = 0;
  let queued = 0; // waiting + lane-pending
  let inFlight = 0;
  let drained: (() => void) | null = null;

  const laneOf = o.laneOf ?? (() => undefined);

  const start = (s: PlannedSend): void => {
    inFlight++;
    stats.started++;
    if (o.clock.nowUs() - s.intendedUs > LATE_US) stats.startedLate++;
    void hooks.send(s).then(() => finish(s));
  };

  const enqueue = (s: PlannedSend, into: PlannedSend[]): void => {
    if (queued >= maxQueue) {
      stats.droppedQueueFull++;
      hooks.drop(s, 'queue-full');
      gate?.settle(s);
      releaseLane(s);
      return;
    }
    into.push(s);
    queued++;
    if (queued > stats.peakQueued) stats.peakQueued = queued;
  };

  // The lane of a send that finished or was dropped passes to its next request, or closes.
  const releaseLane = (s: PlannedSend): void => {
    const key = laneOf(s);
    if (key === undefined) return;
    const lane = lanes.get(key);
    if (!lane) return;
    const next = lane.pending.shift();
    if (next === undefined) {
      lanes.delete(key);
      return;
    }
    queued--;
    admitThenStart(next);
  };

  /** Past --max-late: dropped (counted, its gate and lane freed) instead of sent late. */
  const droppedTooLate = (s: PlannedSend): boolean => {
    if (o.clock.nowUs() - s.intendedUs <= maxLateUs) return false;
    stats.droppedTooLate++;
    hooks.drop(s, 'too-late');
    gate?.settle(s);
    releaseLane(s);
    return true;
  };

  // A send the gate held goes now, unless it is already past --max-late (then like any late waiter: dropped).
  const releaseHeld = (s: PlannedSend): void => {
    if (!droppedTooLate(s)) startOrWait(s);
  };

  // The gate is asked once a send's lane is its own, so a lane's order is kept.
  const admitThenStart = (s: PlannedSend): void => {
    if (!gate) return startOrWait(s);
    const verdict = gate.admit(s, releaseHeld);
    if (verdict === 'go') return startOrWait(s);
    if (verdict === 'held') {
      stats.heldForValue++;
      if (queued + gate.held > stats.peakQueued) stats.peakQueued = queued + gate.held;
      return;
    }
    stats.droppedGateFull++;
    hooks.drop(s, 'gate-full');
    releaseLane(s);
  };

  const startOrWait = (s: PlannedSend): void => {
    if (inFlight < concurrency && head === waiting.length) start(s);
    else enqueue(s, waiting);
  };

  const pump = (): void => {
    while (inFlight < concurrency && head < waiting.length) {
      const s = waiting[head++]!;
      queued--;
      if (!droppedTooLate(s)) start(s);
    }
    if (head > 1024 && head * 2 > waiting.length) {
      waiting = waiting.slice(head);
      head = 0;
    }
  };

  const finish = (s: PlannedSend): void => {
    inFlight--;
    releaseLane(s);
    // After its result was handled (a provider's value learned): sends held on it go now.
    gate?.settle(s);
    pump();
    if (drained && inFlight === 0 && queued === 0 && (gate?.held ?? 0) === 0) drained();
  };

  const offer = (s: PlannedSend): void => {
    stats.planned++;
    const key = laneOf(s);
    if (key !== undefined) {
      const lane = lanes.get(key);
      if (lane) {
        enqueue(s, lane.pending);
        return;
      }
      lanes.set(key, { pending: [] });
    }
    admitThenStart(s);
  };

  // On abort, waiting sends are discarded at once (not when the plan loop next wakes up).
  const cancelWaiting = (): void => {
    stats.cancelled += queued + (gate?.discard() ?? 0);
    waiting = [];
    head = 0;
    for (const lane of lanes.values()) lane.pending.length = 0;
    queued = 0;
  };
  o.signal?.addEventListener('abort', cancelWaiting, { once: true });

  let lastYieldUs = o.clock.nowUs();
  let failure: { error: unknown } | undefined;
  try {
    for await (const s of plan) {
      if (o.signal?.aborted) break;
      const wait = waitUntil(o.clock, s.intendedUs, o.signal);
      if (wait) await wait;
      if (o.signal?.aborted) break;
      offer(s);
      const now = o.clock.nowUs();
      if (now - lastYieldUs > YIELD_EVERY_US) {
        await yieldToEventLoop();
        lastYieldUs = o.clock.nowUs();
      }
    }
  } catch (error) {
    // The plan failed (a corrupt store, a refused host): nothing more is sent, what is in flight finishes.
    failure = { error };
    cancelWaiting();
  }
  o.signal?.removeEventListener('abort', cancelWaiting);
  if (o.signal?.aborted) cancelWaiting();
  if (inFlight > 0 || queued > 0 || (gate?.held ?? 0) > 0) await new Promise<void>((resolve) => (drained = resolve));
  if (failure) throw failure.error;
  return stats;
}
