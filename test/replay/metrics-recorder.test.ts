import { build, type JsHistogram } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { LatencyRecorder } from '../../replay/metrics/latency-recorder.js';

/**
 * The fast recorder must put every value in the very bucket hdr-histogram-js
 * would: hdr-histogram-js itself is the oracle, fed the same values.
 */

function hdr(digits: 1 | 2 | 3) {
  return () => build({ lowestDiscernibleValue: 1, highestTrackableValue: 1000, numberOfSignificantValueDigits: digits, bitBucketSize: 32, autoResize: true });
}

const hdr64 = () => build({ lowestDiscernibleValue: 1, highestTrackableValue: 1000, numberOfSignificantValueDigits: 3, bitBucketSize: 64, autoResize: true });

function counts(h: unknown): [number, number][] {
  const j = h as JsHistogram;
  const out: [number, number][] = [];
  for (let i = 0; i < j.countsArrayLength; i++) {
    const n = j.getCountAtIndex(i);
    if (n > 0) out.push([j.valueFromIndex(i), n]);
  }
  return out;
}

function values(n: number, seed: number): number[] {
  let x = seed;
  const rnd = (): number => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out = [0, 1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 2 ** 31 - 1, 2 ** 31, 2 ** 33 + 7, -5, 3.5];
  for (let i = 0; i < n; i++) out.push(Math.floor(10 ** (rnd() * 9.5)));
  return out;
}

describe('LatencyRecorder', () => {
  for (const digits of [1, 2, 3] as const) {
    it(`puts every value in hdr-histogram-js's bucket (${digits} significant digits)`, () => {
      const oracle = hdr(digits)();
      const r = new LatencyRecorder(digits, hdr(digits));
      for (const v of values(20_000, digits)) {
        r.record(v);
        oracle.recordValue(v > 0 ? Math.round(v) : 0);
      }
      const h = r.toHistogram();
      expect(h.totalCount).toBe(oracle.totalCount);
      expect(r.totalCount).toBe(oracle.totalCount);
      expect(counts(h)).toEqual(counts(oracle));
      for (const p of [0, 1, 10, 50, 90, 99, 99.9, 99.99, 100]) {
        expect(h.getValueAtPercentile(p)).toBe(oracle.getValueAtPercentile(p));
        // The progress-line percentile agrees too, into the ≥ 2^31 µs overflow range.
        expect(r.valueAtPercentile(p)).toBe(oracle.getValueAtPercentile(p));
      }
    });
  }

  it('adds exactly, and rebuilds itself from a decoded histogram', () => {
    const a = new LatencyRecorder(3, hdr(3));
    const b = new LatencyRecorder(3, hdr(3));
    const both = new LatencyRecorder(3, hdr(3));
    values(5000, 11).forEach((v, i) => {
      (i % 2 ? a : b).record(v);
      both.record(v);
    });
    a.add(b);
    expect(counts(a.toHistogram())).toEqual(counts(both.toHistogram()));
    const rebuilt = new LatencyRecorder(3, hdr(3));
    rebuilt.addHistogram(both.toHistogram());
    expect(counts(rebuilt.toHistogram())).toEqual(counts(both.toHistogram()));
    expect(() => a.add(new LatencyRecorder(1, hdr(1)))).toThrow(RangeError);
  });

  it('counts past 2^32 in one bucket (a multi-day soak test\'s 0 µs lag) switch to 64-bit counts instead of wrapping', () => {
    const r = new LatencyRecorder(3, hdr64);
    const big = hdr64();
    big.recordValueWithCount(0, 3e9);
    big.recordValueWithCount(1500, 10);
    r.addHistogram(big);
    r.addHistogram(big);
    r.record(0);
    expect(r.totalCount).toBe(6e9 + 21);
    const h = r.toHistogram();
    expect(h.totalCount).toBe(6e9 + 21);
    expect(counts(h)).toEqual([[0, 6e9 + 1], [1500, 20]]);
    expect(r.valueAtPercentile(100)).toBe(1500);
    const sum = new LatencyRecorder(3, hdr64);
    sum.add(r);
    sum.add(r);
    expect(sum.toHistogram().totalCount).toBe(12e9 + 42);
  });

  it('an empty recorder answers 0 and converts to an empty histogram', () => {
    const r = new LatencyRecorder(3, hdr(3));
    expect(r.valueAtPercentile(99)).toBe(0);
    expect(r.toHistogram().totalCount).toBe(0);
  });
});
