/**
 * How closely the replay kept the planned rate, second by second: for each
 * complete series bucket, (sent − planned) / planned. The last bucket is left
 * out (the run ends inside it, and sends a hair late spill past its end), as
 * are buckets where nothing was planned. This is the figure behind "within
 * ±1% per second".
 */
import type { SeriesSnapshot } from './time-series.js';

export interface RateError {
  /** Buckets compared. */
  buckets: number;
  /** Bucket width, seconds (1 unless a long run was downsampled). */
  bucketS: number;
  /** Largest |sent − planned| / planned over the buckets; 0 when none. */
  maxAbs: number;
  /** Mean of |sent − planned| / planned. */
  meanAbs: number;
  /** The bucket with the largest error (start, seconds), or null. */
  worstAtS: number | null;
}

/**
 * @example
 * const e = rateError(metrics.snapshot().series);
 * console.log(`rate error per second: max ${(e.maxAbs * 100).toFixed(2)}%`);
 */
export function rateError(series: SeriesSnapshot): RateError {
  let buckets = 0;
  let maxAbs = 0;
  let sum = 0;
  let worstAtS: number | null = null;
  for (const p of series.points.slice(0, -1)) {
    if (p.planned === 0) continue;
    const e = Math.abs(p.sent - p.planned) / p.planned;
    buckets++;
    sum += e;
    if (worstAtS === null || e > maxAbs) {
      maxAbs = e;
      worstAtS = p.startS;
    }
  }
  return { buckets, bucketS: series.bucketS, maxAbs, meanAbs: buckets === 0 ? 0 : sum / buckets, worstAtS };
}
