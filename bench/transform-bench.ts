import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberListFlag, pinnedNode, type BenchFlags, type BenchResult } from './bench-support.js';

/**
 * The full transform pipeline (filter, sample, dedupe, correlate, redact with
 * every detector in hash mode, parameterize, a plugin) on one pinned core, on
 * ~1 KB JSON API records with personal data (transform-records.ts), at 10^5
 * and 10^6 exchanges so a growing RSS would show. Two figures: in memory
 * (the steps' own cost; records come from a pool, so building them is cheap)
 * and store → store (gunzip + parse, the steps, serialize + gzip). Anchors:
 * the same runs with no steps, i.e. what producing or copying the records
 * costs by itself. Throughput counts input exchanges.
 */
export async function benchTransform(options: { sizes?: number[] } = {}): Promise<BenchResult[]> {
  const worker = fileURLToPath(new URL('./transform-worker.ts', import.meta.url));
  const results: BenchResult[] = [];
  for (const n of options.sizes ?? [100_000, 1_000_000]) {
    const mem = JSON.parse(pinnedNode([worker, 'pipeline', String(n)]));
    const memAnchor = JSON.parse(pinnedNode([worker, 'pipeline', String(n), 'none']));
    results.push({
      name: `transform in memory ${n}`,
      value: mem.perSecond,
      unit: 'exchanges/s',
      anchor: 'no steps',
      anchorValue: memAnchor.perSecond,
      rssMB: mem.maxRssMB,
      extra: `${mem.out} out; per CPU-second ${cpuRate(mem)} (no steps ${cpuRate(memAnchor)}); RSS with no steps ${Math.round(memAnchor.maxRssMB)} MB`,
    });
    const dir = mkdtempSync(join(tmpdir(), 'reprise-bench-transform-'));
    try {
      pinnedNode([worker, 'make', join(dir, 'in'), String(n)]);
      const store = JSON.parse(pinnedNode([worker, 'store', join(dir, 'in'), join(dir, 'out')]));
      const copy = JSON.parse(pinnedNode([worker, 'store', join(dir, 'in'), join(dir, 'copy'), 'none']));
      results.push({
        name: `transform store→store ${n}`,
        value: store.perSecond,
        unit: 'exchanges/s',
        anchor: 'store copy',
        anchorValue: copy.perSecond,
        rssMB: store.maxRssMB,
        extra: `${store.out} out; per CPU-second ${cpuRate(store)} (copy ${cpuRate(copy)}); RSS of the copy ${Math.round(copy.maxRssMB)} MB`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // Where the time goes, step by step (one process, in memory).
  const n = Math.min(...(options.sizes ?? [100_000]));
  const steps = JSON.parse(pinnedNode([worker, 'steps', String(n)])) as { generatorUs: number; stepUs: Record<string, number> };
  for (const [type, us] of Object.entries(steps.stepUs)) {
    results.push({
      name: `step ${type} alone ${n}`,
      value: 1e6 / us,
      unit: 'exchanges/s (CPU)',
      anchor: 'no steps',
      anchorValue: 1e6 / steps.generatorUs,
      extra: `${us.toFixed(1)} µs per record, of which producing the record ${steps.generatorUs.toFixed(1)}`,
    });
  }
  return results;
}

/** Exchanges per second of CPU time: what the wall-clock figure would be with the core to itself. */
function cpuRate(run: { perCpuSecond: number }): string {
  return Math.round(run.perCpuSecond).toLocaleString('en-US');
}

/** `npm run bench -- transform [--transform-sizes=100000,1000000]` */
export function runBench(flags: BenchFlags): Promise<BenchResult[]> {
  return benchTransform({ sizes: numberListFlag(flags, 'transform-sizes') });
}
