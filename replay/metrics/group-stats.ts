/**
 * Counters and histograms for one group of results: the whole run, or one
 * endpoint template. Everything here merges exactly (sums, and bucket-wise
 * adds over the HdrHistogram layout), which is what makes sharded runs add up
 * to the same report as one big run.
 */
import type { RequestResult } from '../replay-result.js';
import { decodeRecorder, encodeHistogram, newLatencyRecorder, summarizeHistogram, type LatencySummary } from './histogram.js';
import type { LatencyRecorder } from './latency-recorder.js';

export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'other';
export const STATUS_CLASSES: readonly StatusClass[] = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'];

/** The serializable form of a GroupStats: summaries to read, encoded histograms to merge. */
export interface GroupSnapshot {
  /** Results recorded (sent or dropped). */
  requests: number;
  sent: number;
  /** Results with a response status. */
  completed: number;
  /** Never sent (sentUs null): the concurrency cap or the engine gave up on them. */
  dropped: number;
  /** Sent later than `lateThresholdUs` after the intended time. */
  late: number;
  /** Results that carry an `error` (no usable response, including dropped ones). */
  errors: number;
  /** errors / requests (0 when there were none). */
  errorRate: number;
  status: Record<StatusClass, number>;
  errorsByKind: Record<string, number>;
  bytesSent: number;
  bytesReceived: number;
  /** Latency from the intended send time: coordinated-omission corrected (µs). */
  latency: LatencySummary;
  /** Latency from the actual send time (µs): what a closed-model tool would report. */
  uncorrected: LatencySummary;
  /** Schedule lag, actual − intended send (µs). */
  lag: LatencySummary;
  /** Base64 compressed HdrHistograms, for exact merging across shards. */
  histograms: { latency: string; uncorrected: string; lag: string };
}

function emptyStatus(): Record<StatusClass, number> {
  return { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, other: 0 };
}

export function statusClass(status: number): StatusClass {
  if (status >= 100 && status < 600) return `${Math.floor(status / 100)}xx` as StatusClass;
  return 'other';
}

export class GroupStats {
  requests = 0;
  sent = 0;
  completed = 0;
  dropped = 0;
  late = 0;
  errors = 0;
  status = emptyStatus();
  errorsByKind: Record<string, number> = {};
  bytesSent = 0;
  bytesReceived = 0;
  readonly latency: LatencyRecorder;
  readonly uncorrected: LatencyRecorder;
  readonly lag: LatencyRecorder;

  constructor(recorders?: { latency: LatencyRecorder; uncorrected: LatencyRecorder; lag: LatencyRecorder }) {
    this.latency = recorders?.latency ?? newLatencyRecorder();
    this.uncorrected = recorders?.uncorrected ?? newLatencyRecorder();
    this.lag = recorders?.lag ?? newLatencyRecorder();
  }

  record(r: RequestResult, lateThresholdUs: number): void {
    this.requests++;
    this.bytesSent += r.bytesSent;
    this.bytesReceived += r.bytesReceived;
    if (r.status !== null) {
      this.completed++;
      this.status[statusClass(r.status)]++;
    }
    if (r.error) {
      this.errors++;
      this.errorsByKind[r.error.kind] = (this.errorsByKind[r.error.kind] ?? 0) + 1;
    }
    if (r.sentUs === null) {
      // A dropped send has no latency to speak of: counting it would invent a
      // number; it is reported as a count (and in errorsByKind) instead.
      this.dropped++;
      return;
    }
    this.sent++;
    const lag = r.sentUs - r.intendedUs;
    if (lag > lateThresholdUs) this.late++;
    this.lag.record(lag);
    this.latency.record(r.doneUs - r.intendedUs);
    this.uncorrected.record(r.doneUs - r.sentUs);
  }

  /** Adds `other` into this one (exact). */
  add(other: GroupStats): void {
    this.requests += other.requests;
    this.sent += other.sent;
    this.completed += other.completed;
    this.dropped += other.dropped;
    this.late += other.late;
    this.errors += other.errors;
    for (const c of STATUS_CLASSES) this.status[c] += other.status[c];
    for (const [kind, n] of Object.entries(other.errorsByKind)) this.errorsByKind[kind] = (this.errorsByKind[kind] ?? 0) + n;
    this.bytesSent += other.bytesSent;
    this.bytesReceived += other.bytesReceived;
    this.latency.add(other.latency);
    this.uncorrected.add(other.uncorrected);
    this.lag.add(other.lag);
  }

  toSnapshot(): GroupSnapshot {
    const latency = this.latency.toHistogram();
    const uncorrected = this.uncorrected.toHistogram();
    const lag = this.lag.toHistogram();
    return {
      requests: this.requests,
      sent: this.sent,
      completed: this.completed,
      dropped: this.dropped,
      late: this.late,
      errors: this.errors,
      errorRate: this.requests === 0 ? 0 : this.errors / this.requests,
      status: { ...this.status },
      errorsByKind: { ...this.errorsByKind },
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      latency: summarizeHistogram(latency),
      uncorrected: summarizeHistogram(uncorrected),
      lag: summarizeHistogram(lag),
      histograms: {
        latency: encodeHistogram(latency),
        uncorrected: encodeHistogram(uncorrected),
        lag: encodeHistogram(lag),
      },
    };
  }

  static fromSnapshot(s: GroupSnapshot): GroupStats {
    const g = new GroupStats({
      latency: decodeRecorder(s.histograms.latency),
      uncorrected: decodeRecorder(s.histograms.uncorrected),
      lag: decodeRecorder(s.histograms.lag),
    });
    g.requests = s.requests;
    g.sent = s.sent;
    g.completed = s.completed;
    g.dropped = s.dropped;
    g.late = s.late;
    g.errors = s.errors;
    g.status = { ...emptyStatus(), ...s.status };
    g.errorsByKind = { ...s.errorsByKind };
    g.bytesSent = s.bytesSent;
    g.bytesReceived = s.bytesReceived;
    return g;
  }
}
