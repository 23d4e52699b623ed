/**
 * The contract between the replay engine (schedule → dispatch) and what
 * measures and reports it (metrics, thresholds, reports). The dispatcher emits
 * one RequestResult per send; the metrics side never sees sockets.
 *
 * Times are in microseconds on one monotonic clock (performance.now(), see run-clock.ts),
 * relative to the run's start, so intended and actual can be subtracted.
 */

export type ErrorKind = 'timeout' | 'refused' | 'reset' | 'tls' | 'dns' | 'protocol' | 'dropped' | 'other';

export interface RequestResult {
  /** Endpoint template of the recorded request (`GET /users/:id`), for per-endpoint metrics. */
  endpoint: string;
  /** Recorded exchange id, and the copy number when amplified (0-based). */
  exchangeId: string;
  copy: number;
  /** When the schedule said to send it (µs since run start). */
  intendedUs: number;
  /** When it was actually handed to the connection (µs since run start); null if never sent (dropped). */
  sentUs: number | null;
  /** When the last response byte arrived, or the failure happened (µs since run start). */
  doneUs: number;
  /** Response status, or null when there was no response. */
  status: number | null;
  error?: { kind: ErrorKind; message: string };
  bytesSent: number;
  bytesReceived: number;
}

/**
 * Latency corrected for coordinated omission is `doneUs − intendedUs` (what a
 * user arriving on schedule would have waited); uncorrected is
 * `doneUs − sentUs`; schedule lag is `sentUs − intendedUs`.
 */
export function correctedLatencyUs(r: RequestResult): number {
  return r.doneUs - r.intendedUs;
}

export function uncorrectedLatencyUs(r: RequestResult): number | null {
  return r.sentUs === null ? null : r.doneUs - r.sentUs;
}

export function scheduleLagUs(r: RequestResult): number | null {
  return r.sentUs === null ? null : r.sentUs - r.intendedUs;
}
