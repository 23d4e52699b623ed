/**
 * Per-time-bucket counts and latency for the charts: planned vs achieved sends
 * per second, p50/p99 corrected latency and errors over time.
 *
 * Memory is bounded for runs of any length: buckets start 1 s wide and, when
 * the run outgrows `maxBuckets`, neighbouring pairs are merged and the width
 * doubles (1 s → 2 s → 4 s …). Widths are always 1 s × 2^k and pairs are
 * aligned on even indexes, so two shards downsampled independently still
 * merge exactly — the finer one is first brought to the coarser width.
 */
import type { RequestResult } from '../replay-result.js';
import { decodeRecorder, encodeHistogram, newSeriesRecorder } from './histogram.js';
import type { LatencyRecorder } from './latency-recorder.js';

export interface SeriesPoint {
  /** Bucket start, seconds since the run start. */
  startS: number;
  /** Results whose intended send time falls in the bucket (the plan, as recorded × speed/amplify/profile). */
  planned: number;
  /** Results actually sent in the bucket (by sentUs): the achieved rate. */
  sent: number;
  /** Results with an error, by intended time. */
  errors: number;
  /** Corrected latency of the results intended in this bucket (µs); 0 when none. */
  p50Us: number;
  p99Us: number;
  /** Encoded latency histogram of the bucket, for exact merging. */
  histogram: string;
}

export interface SeriesSnapshot {
  bucketS: number;
  /** The bound the series downsamples at; shards must share it to merge exactly. */
  maxBuckets: number;
  points: SeriesPoint[];
}

interface Bucket {
  planned: number;
  sent: number;
  errors: number;
  latency: LatencyRecorder | undefined;
}

const US_PER_S = 1_000_000;

function emptyBucket(): Bucket {
  return { planned: 0, sent: 0, errors: 0, latency: undefined };
}

function mergeBucket(into: Bucket, from: Bucket): void {
  into.planned += from.planned;
  into.sent += from.sent;
  into.errors += from.errors;
  if (from.latency) {
    into.latency ??= newSeriesRecorder();
    into.latency.add(from.latency);
  }
}

export class TimeSeries {
  private bucketS = 1;
  private buckets: (Bucket | undefined)[] = [];

  /**
   * 3600 buckets: one hour at 1 s resolution; a 24 h run ends with 2400 buckets
   * of 64 s. Each bucket holds a 1-digit histogram (~1 KB for latencies up to
   * 1 s), so the series stays within a few megabytes.
   */
  constructor(readonly maxBuckets = 3600) {
    if (maxBuckets < 2) throw new RangeError('maxBuckets must be >= 2');
  }

  get widthS(): number {
    return this.bucketS;
  }

  record(r: RequestResult): void {
    const planned = this.bucketAt(r.intendedUs);
    planned.planned++;
    if (r.error) planned.errors++;
    if (r.sentUs !== null) {
      planned.latency ??= newSeriesRecorder();
      planned.latency.record(r.doneUs - r.intendedUs);
      this.bucketAt(r.sentUs).sent++;
    }
  }

  /**
   * Sends in the most recent complete bucket before `nowUs` — the live achieved rate. Before the first
   * bucket is complete, the sends so far over the time so far: a run shorter than a bucket would else
   * end on "rate 0/s" (from 50 ms on, so that the first few sends do not read as a huge rate).
   */
  sentPerSecondBefore(nowUs: number): number {
    const i = Math.floor(nowUs / US_PER_S / this.bucketS) - 1;
    if (i >= 0) return (this.buckets[i]?.sent ?? 0) / this.bucketS;
    return nowUs < 50_000 ? 0 : (this.buckets[0]?.sent ?? 0) / (nowUs / US_PER_S);
  }

  private bucketAt(us: number): Bucket {
    let i = Math.floor(Math.max(0, us) / US_PER_S / this.bucketS);
    while (i >= this.maxBuckets) {
      this.downsample();
      i = Math.floor(i / 2);
    }
    let b = this.buckets[i];
    if (!b) {
      b = emptyBucket();
      this.buckets[i] = b;
    }
    return b;
  }

  /** Halves the resolution: bucket 2k and 2k+1 become bucket k. */
  private downsample(): void {
    const next: (Bucket | undefined)[] = [];
    this.buckets.forEach((b, i) => {
      if (!b) return;
      const j = Math.floor(i / 2);
      const into = next[j];
      if (into) mergeBucket(into, b);
      else next[j] = b;
    });
    this.buckets = next;
    this.bucketS *= 2;
  }

  /** Adds `other` into this one; the result has the coarser of the two widths. */
  add(other: TimeSeries): void {
    while (this.bucketS < other.bucketS) this.downsample();
    const factor = this.bucketS / other.bucketS;
    other.buckets.forEach((b, i) => {
      if (!b) return;
      const into = this.bucketAt(Math.floor(i / factor) * this.bucketS * US_PER_S);
      mergeBucket(into, b);
    });
  }

  toSnapshot(): SeriesSnapshot {
    const points: SeriesPoint[] = [];
    // Emit every bucket up to the last one, empty ones included, so a chart
    // shows a stall as a dip to zero rather than a line across the gap.
    for (let i = 0; i < this.buckets.length; i++) {
      const b = this.buckets[i] ?? emptyBucket();
      const h = b.latency?.toHistogram();
      points.push({
        startS: i * this.bucketS,
        planned: b.planned,
        sent: b.sent,
        errors: b.errors,
        p50Us: h ? h.getValueAtPercentile(50) : 0,
        p99Us: h ? h.getValueAtPercentile(99) : 0,
        histogram: h ? encodeHistogram(h) : '',
      });
    }
    return { bucketS: this.bucketS, maxBuckets: this.maxBuckets, points };
  }

  static fromSnapshot(s: SeriesSnapshot): TimeSeries {
    const t = new TimeSeries(Math.max(s.maxBuckets, s.points.length));
    t.bucketS = s.bucketS;
    s.points.forEach((p, i) => {
      if (p.planned === 0 && p.sent === 0 && p.errors === 0 && p.histogram === '') return;
      t.buckets[i] = {
        planned: p.planned,
        sent: p.sent,
        errors: p.errors,
        latency: p.histogram === '' ? undefined : decodeRecorder(p.histogram, newSeriesRecorder),
      };
    });
    return t;
  }
}
