/**
 * The hot-path side of an HdrHistogram. hdr-histogram-js computes each
 * bucket index with Math.log2 and Math.pow (~200–400 ns per value); a replay
 * records 7 values per result, at 20k results/s that is up to 8% of a core.
 * This recorder uses the same bucket layout (lowest discernible value 1,
 * unit magnitude 0, the same sub-bucket count for the same significant
 * digits) but finds the index with Math.clz32 and shifts (~15 ns), counting
 * into a typed array that grows one HdrHistogram bucket at a time.
 *
 * Because the layout is identical, `toHistogram()` is exact: every count
 * lands in the very bucket hdr-histogram-js would have put it in, so
 * percentiles, encoding and merging are HdrHistogram's own. Values of 2^31 µs
 * (35 minutes) and more go to a real HdrHistogram (the shift trick needs
 * 32-bit integers).
 */
import type { Histogram } from 'hdr-histogram-js';

/** What a recorder can be built from (a decoded histogram from a shard's summary.json). */
interface IndexedHistogram {
  countsArrayLength: number;
  getCountAtIndex(i: number): number;
  valueFromIndex(i: number): number;
}

/** hdr-histogram-js's JS histograms' own count access (public in JS, absent from its typings). */
interface DirectCounts {
  countsArrayLength: number;
  resize(highestTrackableValue: number): void;
  addToCountAtIndex(index: number, count: number): void;
  establishInternalTackingValues(): void;
}

const MAX_FAST = 2 ** 31;
const EMPTY = new Uint32Array(0);

export class LatencyRecorder {
  /** log2 of half the sub-bucket count; HdrHistogram's subBucketHalfCountMagnitude. */
  private readonly halfMag: number;
  private readonly halfCount: number;
  // 32-bit counts until one would pass 2^32 − 1 (a multi-day soak test puts
  // ~20k lag values a second into the 0 µs bucket), then 64-bit floats
  // (exact to 2^53) for this recorder from then on.
  private counts: Uint32Array | Float64Array = EMPTY;
  private overflow: Histogram | undefined;
  totalCount = 0;

  /**
   * @param digits significant digits, as HdrHistogram's numberOfSignificantValueDigits
   * @param make builds the HdrHistogram this recorder converts to (same digits, lowest 1)
   */
  constructor(
    readonly digits: 1 | 2 | 3,
    private readonly make: () => Histogram,
  ) {
    // As JsHistogram: sub-bucket count is the power of two ≥ 2·10^digits.
    this.halfMag = Math.ceil(Math.log2(2 * 10 ** digits)) - 1;
    this.halfCount = 1 << this.halfMag;
  }

  /** Records one value in µs; negative counts as 0, fractions round. */
  record(us: number): void {
    this.recordCount(us, 1);
  }

  private recordCount(us: number, count: number): void {
    const v = us > 0 ? Math.round(us) : 0;
    this.totalCount += count;
    if (v >= MAX_FAST) {
      this.overflow ??= this.make();
      this.overflow.recordValueWithCount(v, count);
      return;
    }
    // floor(log2 v) − halfMag, at least 0 (v = 0 has clz32 = 32).
    const bucket = Math.max(0, 31 - Math.clz32(v) - this.halfMag);
    const index = ((bucket + 1) << this.halfMag) + (v >>> bucket) - this.halfCount;
    if (index >= this.counts.length) this.grow((bucket + 2) << this.halfMag);
    this.addAt(index, count);
  }

  private addAt(index: number, count: number): void {
    const next = this.counts[index]! + count;
    if (next > 0xffffffff && this.counts instanceof Uint32Array) this.counts = Float64Array.from(this.counts);
    this.counts[index] = next;
  }

  private grow(length: number): void {
    const next = this.counts instanceof Float64Array ? new Float64Array(length) : new Uint32Array(length);
    next.set(this.counts);
    this.counts = next;
  }

  /** HdrHistogram's valueFromIndex for this layout: the lowest value of the bucket. */
  private valueAt(index: number): number {
    let bucket = (index >> this.halfMag) - 1;
    let sub = (index & (this.halfCount - 1)) + this.halfCount;
    if (bucket < 0) {
      sub -= this.halfCount;
      bucket = 0;
    }
    return sub * 2 ** bucket;
  }

  /**
   * The value at a percentile, as HdrHistogram reports it (the highest value
   * equivalent to the bucket reached). Cheap enough for a progress line.
   */
  valueAtPercentile(p: number): number {
    if (this.totalCount === 0) return 0;
    const target = Math.max(Math.ceil((Math.min(p, 100) / 100) * this.totalCount - 1e-9), 1);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= target) {
        const bucket = Math.max(0, (i >> this.halfMag) - 1);
        return this.valueAt(i) + 2 ** bucket - 1;
      }
    }
    // The rank falls among the ≥ 2^31 µs values: find it inside the overflow histogram.
    return this.overflow ? this.overflow.getValueAtPercentile((100 * (target - seen)) / this.overflow.totalCount) : 0;
  }

  /** Adds another recorder's counts (same digits) into this one. */
  add(other: LatencyRecorder): void {
    if (other.digits !== this.digits) throw new RangeError('cannot add recorders of different precision');
    if (other.counts.length > this.counts.length) this.grow(other.counts.length);
    for (let i = 0; i < other.counts.length; i++) if (other.counts[i] !== 0) this.addAt(i, other.counts[i]!);
    if (other.overflow) {
      this.overflow ??= this.make();
      this.overflow.add(other.overflow);
    }
    this.totalCount += other.totalCount;
  }

  /** Adds the counts of a decoded HdrHistogram, value by value (exact when the layouts match). */
  addHistogram(h: Histogram): void {
    const indexed = h as unknown as Partial<IndexedHistogram>;
    if (typeof indexed.getCountAtIndex !== 'function' || typeof indexed.valueFromIndex !== 'function' || typeof indexed.countsArrayLength !== 'number') {
      throw new TypeError('expected a JS HdrHistogram');
    }
    for (let i = 0; i < indexed.countsArrayLength; i++) {
      const n = indexed.getCountAtIndex(i);
      if (n > 0) this.recordCount(indexed.valueFromIndex(i), n);
    }
  }

  /** The same counts as a real HdrHistogram, for percentiles, encoding and merging. */
  toHistogram(): Histogram {
    const h = this.make();
    let maxIndex = -1;
    for (let i = this.counts.length - 1; i >= 0; i--) {
      if (this.counts[i] !== 0) {
        maxIndex = i;
        break;
      }
    }
    if (maxIndex >= 0) {
      const direct = h as unknown as Partial<DirectCounts>;
      if (typeof direct.resize === 'function' && typeof direct.addToCountAtIndex === 'function' && typeof direct.establishInternalTackingValues === 'function') {
        // Same layout, so the same indexes: copy counts straight in (re-deriving
        // each index through recordValueWithCount costs ~300 ns per bucket,
        // seconds for a run's worth of histograms), then let the histogram
        // recompute its total, min and max from them.
        if ((direct.countsArrayLength ?? 0) <= maxIndex) direct.resize(this.valueAt(maxIndex) + 2 ** Math.max(0, (maxIndex >> this.halfMag) - 1) - 1);
        for (let i = 0; i <= maxIndex; i++) if (this.counts[i] !== 0) direct.addToCountAtIndex(i, this.counts[i]!);
        direct.establishInternalTackingValues();
      } else {
        for (let i = 0; i <= maxIndex; i++) if (this.counts[i] !== 0) h.recordValueWithCount(this.valueAt(i), this.counts[i]!);
      }
    }
    if (this.overflow) h.add(this.overflow);
    return h;
  }
}
