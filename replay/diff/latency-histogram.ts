import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from './diff-report.js';

/** Per-endpoint, per-side latency for the diff report: HdrHistogram in microseconds, summarized in milliseconds. */

export function newHistogram(): hdr.Histogram {
  // Microseconds, 1 µs to 1 h, 3 significant digits: the precision replay metrics use too.
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

export function recordLatency(h: hdr.Histogram, ms: number | null): void {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return;
  h.recordValue(Math.min(3_600_000_000, Math.max(1, Math.round(ms * 1000))));
}

export function summarize(h: hdr.Histogram): LatencySummary | null {
  if (h.totalCount === 0) return null;
  const ms = (us: number) => Math.round(us) / 1000;
  return { count: h.totalCount, p50: ms(h.getValueAtPercentile(50)), p95: ms(h.getValueAtPercentile(95)), p99: ms(h.getValueAtPercentile(99)), max: ms(h.maxValue) };
}
