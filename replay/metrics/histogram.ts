/**
 * One place that decides how reprise builds, encodes and summarizes
 * HdrHistograms, so every histogram in a run (and in every shard of a run) has
 * the same bucket layout — the condition for `add()` being an exact merge.
 */
import { inflateSync } from 'node:zlib';
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import { LatencyRecorder } from './latency-recorder.js';

export type { Histogram };

/**
 * The recorders that live through a run (latency-recorder.ts) start empty and
 * grow to the largest value seen, so memory follows the run's real range:
 * ~45 KB for latencies up to 1 s, ~70 KB up to 60 s (3 digits, 32-bit counts
 * until a count passes 2^32). The HdrHistograms below are built from them
 * only for a snapshot, with 64-bit counts so no count can wrap. Negative
 * values (a send a hair before its intended time) are recorded as 0:
 * HdrHistograms hold no negative values.
 */
const INITIAL_HIGHEST_US = 1_000;

/**
 * Run-wide and per-endpoint histograms: µs resolution, 3 significant digits
 * (0.1% error), 64-bit counts. Values are recorded through a LatencyRecorder
 * (same layout, faster index) and turned into one of these for percentiles,
 * encoding and merging.
 */
export function buildLatencyHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: INITIAL_HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 64,
    autoResize: true,
  });
}

/**
 * Per-time-bucket histograms only feed the p50/p99 lines of a chart: 1
 * significant digit (buckets 1/16 of a power of two wide, ≤ 6.25% error)
 * keeps each at ~1 KB, so an hour of 1 s buckets stays near 4 MB.
 */
export function buildSeriesHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: INITIAL_HIGHEST_US,
    numberOfSignificantValueDigits: 1,
    bitBucketSize: 64,
    autoResize: true,
  });
}

export function newLatencyRecorder(): LatencyRecorder {
  return new LatencyRecorder(3, buildLatencyHistogram);
}

export function newSeriesRecorder(): LatencyRecorder {
  return new LatencyRecorder(1, buildSeriesHistogram);
}

/** A recorder holding the counts of an encoded histogram (a shard's summary.json). */
export function decodeRecorder(encoded: string, make: () => LatencyRecorder = newLatencyRecorder): LatencyRecorder {
  const r = make();
  // Decoded into dense 64-bit JS counts (fast to walk), then re-bucketed value by value.
  if (encoded !== '') r.addHistogram(decodeFromCompressedBase64(encoded, 64, false));
  return r;
}

export function encodeHistogram(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}

/** Decodes into a histogram with the same layout as `make()` builds, so it can be added to. */
export function decodeHistogram(encoded: string, make: () => Histogram = buildLatencyHistogram): Histogram {
  const h = make();
  // Decoded into dense counts (fast to walk), then added into the layout of `make()`.
  if (encoded !== '') h.add(decodeFromCompressedBase64(encoded, 64, false));
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

// The HdrHistogram V2 encoding (compressed: cookie, length, zlib of the plain
// encoding; plain: cookie, payload length, offset, digits, lowest, highest, ratio).
const V2_COMPRESSED_COOKIE = 0x1c849304;
const V2_COOKIE = 0x1c849303;
const PLAIN_HEADER_BYTES = 40;
// A 3-digit histogram covering 1 µs .. 2^53 µs has ~45k counts of at most 9
// bytes each: 1 MiB decompressed is more than any real one needs, and keeps a
// hostile file's "zip bomb" from inflating into gigabytes.
const MAX_DECODED_BYTES = 1 << 20;
const MAX_ENCODED_CHARS = 4 << 20;

/**
 * Checks an encoded histogram from a file before hdr-histogram-js sees it:
 * well-formed base64, the V2 cookies, a decompressed size under 1 MiB, the
 * expected precision and lowest value, a sane range — then a trial decode.
 * Returns what is wrong, or undefined.
 */
export function checkEncodedHistogram(encoded: string, digits: 1 | 3): string | undefined {
  if (encoded.length > MAX_ENCODED_CHARS) return `longer than ${MAX_ENCODED_CHARS} characters`;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return 'not base64';
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length < 8 || (bytes.readInt32BE(0) & ~0xf0) !== V2_COMPRESSED_COOKIE) return 'not an HdrHistogram V2 compressed encoding';
  const length = bytes.readInt32BE(4);
  if (length <= 0 || length > bytes.length - 8) return `compressed length ${length} does not fit the ${bytes.length - 8} bytes present (truncated?)`;
  let plain: Buffer;
  try {
    plain = inflateSync(bytes.subarray(8, 8 + length), { maxOutputLength: MAX_DECODED_BYTES });
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? `decompresses beyond ${MAX_DECODED_BYTES} bytes` : 'corrupt compressed data';
  }
  if (plain.length < PLAIN_HEADER_BYTES || (plain.readInt32BE(0) & ~0xf0) !== V2_COOKIE) return 'not an HdrHistogram V2 encoding inside the compression';
  if (plain.readInt32BE(4) < 0 || plain.readInt32BE(4) > plain.length - PLAIN_HEADER_BYTES) return 'payload length does not fit (truncated?)';
  const d = plain.readInt32BE(12);
  if (d !== digits) return `${d} significant digits where reprise writes ${digits}`;
  if (plain.readBigInt64BE(16) !== 1n) return 'lowest discernible value is not 1';
  const highest = plain.readBigInt64BE(24);
  if (highest < 2n || highest > BigInt(Number.MAX_SAFE_INTEGER)) return `highest trackable value ${highest} out of range`;
  try {
    decodeFromCompressedBase64(encoded, 64, false);
  } catch (err) {
    return `does not decode: ${(err as Error).message}`;
  }
  return undefined;
}
