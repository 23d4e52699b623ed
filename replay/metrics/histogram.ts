/**
 * One place that decides how reprise builds, encodes and summarizes
 * HdrHistograms, so every histogram in a run (and in every shard of a run) has
 * the same bucket layout — the condition for `add()` being an exact merge.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

export type { Histogram };

/**
 * Histograms start sized for 1 ms and grow (autoResize) to the largest value
 * seen, so memory follows the run's real range: ~45 KB for latencies up to
 * 1 s, ~70 KB up to 60 s (3 digits, 32-bit counts).
 */
const INITIAL_HIGHEST_US = 1_000;

/**
 * Run-wide and per-endpoint histograms: µs resolution, 3 significant digits
 * (0.1% error), 32-bit counts. Dense counts record in ~0.2 µs where the
 * 'packed' layout takes ~1 µs and its percentile walk ~10 ms — this is the
 * engine's hot path, called 3 times per group per result at 20k results/s.
 */
export function buildLatencyHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: INITIAL_HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 32,
    autoResize: true,
  });
}

/**
 * Per-time-bucket histograms only feed p50/p99 lines of a chart, where 1%
 * error is invisible; 2 digits and 'packed' counts keep thousands of them to
 * a few hundred bytes each (a dense one would be ~8 KB).
 */
export function buildSeriesHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: INITIAL_HIGHEST_US,
    numberOfSignificantValueDigits: 2,
    bitBucketSize: 'packed',
    autoResize: true,
  });
}

/** Negative values (a send a hair before its intended time) count as 0: HdrHistogram cannot hold them. */
export function recordUs(h: Histogram, us: number): void {
  h.recordValue(us > 0 ? Math.round(us) : 0);
}

export function encodeHistogram(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}

/** Decodes into a histogram with the same layout as `make()` builds, so it can be added to. */
export function decodeHistogram(encoded: string, make: () => Histogram = buildLatencyHistogram): Histogram {
  const h = make();
  // Decoded into dense counts (fast to walk), then added into the layout of `make()`.
  if (encoded !== '') h.add(decodeFromCompressedBase64(encoded, 32, false));
  return h;
}

/** Percentiles in µs; all 0 for an empty histogram. */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  'p99.9': number;
  max: number;
}

export const PERCENTILES = ['p50', 'p90', 'p95', 'p99', 'p99.9'] as const;

export function summarizeHistogram(h: Histogram): LatencySummary {
  const count = h.totalCount;
  if (count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, 'p99.9': 0, max: 0 };
  return {
    count,
    // Both ends are read from the buckets, not from the raw extremes the
    // histogram tracks, so a histogram rebuilt from its encoding (a shard's
    // summary.json) reports exactly what the original did. Within 0.1%.
    min: h.getValueAtPercentile(0),
    mean: Math.round(h.mean),
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p95: h.getValueAtPercentile(95),
    p99: h.getValueAtPercentile(99),
    'p99.9': h.getValueAtPercentile(99.9),
    max: h.getValueAtPercentile(100),
  };
}
