import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberListFlag, pinnedNode, type BenchFlags, type BenchResult } from './bench-support.js';

/**
 * Diff throughput on typical ~2 KB JSON responses (bench/diff-pairs.ts), each
 * phase in a child process pinned to one core:
 *  - compare: pairs through the engine (stored body → bytes + sha256 → parse →
 *    structural walk → volatile set-aside → field statistics), at 10^5 and
 *    10^6 pairs to show RSS does not grow; and with a second baseline (two
 *    comparisons per request).
 *  - stores: `diffStores` over two gzip stores, reading and pairing included.
 * Anchor, in the same run: JSON.parse of both bodies + util.isDeepStrictEqual,
 * the least any structural comparison of the same pairs must do.
 */
export async function benchDiff(options: { sizes?: number[]; storePairs?: number } = {}): Promise<BenchResult[]> {
  const worker = fileURLToPath(new URL('./diff-worker.ts', import.meta.url));
  const run = (...args: string[]) => JSON.parse(pinnedNode([worker, ...args])) as { perSecond: number; maxRssMB: number; count: number; findings?: unknown };
  const results: BenchResult[] = [];
  for (const n of options.sizes ?? [100_000, 1_000_000]) {
    const anchor = run('anchor', String(n));
    const r = run('compare', String(n));
    results.push({ name: `diff compare ${n}`, value: r.perSecond, unit: 'pairs/s', anchor: 'JSON.parse+isDeepStrictEqual', anchorValue: anchor.perSecond, rssMB: r.maxRssMB, extra: `anchor RSS ${anchor.maxRssMB.toFixed(0)} MB` });
  }
  const n3 = (options.sizes ?? [100_000])[0]!;
  const anchor3 = run('anchor', String(n3));
  const r3 = run('compare', String(n3), 'noise');
  results.push({ name: `diff compare+baseline2 ${n3}`, value: r3.perSecond, unit: 'requests/s', anchor: 'JSON.parse+isDeepStrictEqual', anchorValue: anchor3.perSecond, rssMB: r3.maxRssMB, extra: 'two comparisons per request' });
  const dir = mkdtempSync(join(tmpdir(), 'reprise-bench-diff-'));
  try {
    const sp = options.storePairs ?? 100_000;
    run('make', dir, String(sp));
    const s = run('stores', dir);
    const readOnly = run('pair-only', dir);
    results.push({ name: `diff stores ${sp}`, value: s.perSecond, unit: 'pairs/s', anchor: 'same stores read+paired, no compare', anchorValue: readOnly.perSecond, rssMB: s.maxRssMB, extra: 'two gzip stores read, paired by id, compared' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

/** `npm run bench -- diff [--diff-sizes=100000,1000000] [--diff-store-pairs=100000]` */
export function runBench(flags: BenchFlags): Promise<BenchResult[]> {
  return benchDiff({ sizes: numberListFlag(flags, 'diff-sizes'), storePairs: numberListFlag(flags, 'diff-store-pairs')?.[0] });
}
