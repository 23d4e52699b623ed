import type { Exchange } from '../../store/exchange.js';
import type { RateProfile } from './rate-profile.js';

/**
 * A ReplayPlan is a lazy, ordered stream of sends: which recorded exchange,
 * which copy of it, and when (µs after the run starts). It is never
 * materialized — a 10^7-exchange store is planned one record at a time — so
 * the dispatcher, `--dry-run` and tests all consume the same iterator.
 */
export interface PlannedSend {
  exchange: Exchange;
  /** 0-based copy number (amplify, or a later lap of the recorded mix). */
  copy: number;
  /** Intended send time, µs after run start; non-decreasing along the plan. */
  intendedUs: number;
}

export type ReplayPlan = AsyncIterable<PlannedSend>;

/**
 * The knobs, kept separate on purpose (see ARCHITECTURE.md "Replay semantics"):
 * `speed` rescales recorded time, `amplify` multiplies volume within it,
 * `profile` replaces recorded timing with an absolute rate.
 */
export interface PlanOptions {
  /** Divide recorded gaps by this (10 = same requests in a tenth of the time). Default 1. */
  speed?: number;
  /** Send each recorded request this many times, spread over the gap to the next one. Default 1. */
  amplify?: number;
  /** Absolute rate shape; when set, recorded timing is ignored and `speed` must be 1. */
  profile?: RateProfile;
  /** Start over from the first exchange when the recording ends (speed mode: needs `maxDurationMs`). */
  loop?: boolean;
  /** Cap any single gap, in replay time (after `speed`), so idle nights do not stall a run. */
  maxGapMs?: number;
  /** Stop planning at this intended time (ms after start). */
  maxDurationMs?: number;
}

/** A source that can be read again from the start (needed for `loop` and profile laps). */
export type ExchangeSource = () => AsyncIterable<Exchange>;
