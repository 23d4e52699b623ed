import { fileURLToPath } from 'node:url';
import { numberListFlag, pinnedNode, type BenchFlags, type BenchResult } from './bench-support.js';

/**
 * What measuring costs the replay engine: ReplayMetrics.record() per result
 * (corrected, uncorrected and lag histograms overall and per endpoint, the
 * per-second series, counters) against autocannon's own per-response
 * latency recording (one WebAssembly HdrHistogram recordValue) — the anchor a
 * replay at 20k requests/s competes with. Each phase runs in its own process
 * pinned to one core; peak RSS at 10^6 and 10^7 results shows memory does not
 * grow with the number of requests. Results are spaced as a 20k/s run
 * (10^7 results = 500 s of run, 500 series buckets).
 */
export async function benchMetrics(options: { sizes?: number[] } = {}): Promise<BenchResult[]> {
  const worker = fileURLToPath(new URL('./metrics-worker.ts', import.meta.url));
  const results: BenchResult[] = [];
  for (const n of options.sizes ?? [1_000_000, 10_000_000]) {
    const r = JSON.parse(pinnedNode([worker, 'reprise', String(n)]));
    const a = JSON.parse(pinnedNode([worker, 'anchor', String(n)]));
    results.push({
      name: `metrics record ${n.toLocaleString('en-US')}`,
      value: r.perSecond,
      unit: 'results/s',
      anchor: 'autocannon histogram',
      anchorValue: a.perSecond,
      rssMB: r.maxRssMB,
      extra: `snapshot ${r.snapshotMs.toFixed(0)} ms, ${(r.summaryBytes / 1e6).toFixed(1)} MB JSON; anchor RSS ${a.maxRssMB.toFixed(0)} MB; ${(1e9 / r.perSecond).toFixed(0)} ns/result`,
    });
  }
  return results;
}

/** `npm run bench -- metrics [--metrics-sizes=1000000,10000000]` */
export function runBench(flags: BenchFlags): Promise<BenchResult[]> {
  return benchMetrics({ sizes: numberListFlag(flags, 'metrics-sizes') });
}
