import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberListFlag, pinnedNode, type BenchFlags, type BenchResult } from './bench-support.js';

/**
 * Store write/read throughput for small exchanges, each phase in a child
 * process pinned to one core. Anchors: `gzip -3` compressing the same NDJSON
 * (write) and `zcat | wc -l` (read) — the floor any gzip-NDJSON store pays.
 * RSS is measured at 10^5 and 10^6 records to show it does not grow.
 */
export async function benchStore(options: { sizes?: number[] } = {}): Promise<BenchResult[]> {
  const worker = fileURLToPath(new URL('./store-worker.ts', import.meta.url));
  const results: BenchResult[] = [];
  for (const n of options.sizes ?? [100_000, 1_000_000]) {
    const dir = mkdtempSync(join(tmpdir(), 'reprise-bench-store-'));
    try {
      const w = JSON.parse(pinnedNode([worker, 'write', dir, String(n)]));
      const r = JSON.parse(pinnedNode([worker, 'read', dir]));
      const segDir = join(dir, 'segments');
      const files = readdirSync(segDir).map((f) => join(segDir, f));
      const bytes = files.reduce((a, f) => a + statSync(f).size, 0);
      const anchorRead = timeShell(`zcat ${files.join(' ')} | wc -l`);
      const raw = join(dir, 'raw.ndjson');
      execFileSync('sh', ['-c', `zcat ${files.join(' ')} > ${raw}`]);
      const anchorWrite = timeShell(`gzip -3 -c ${raw} > /dev/null`);
      results.push(
        { name: `store write ${n}`, value: w.perSecond, unit: 'exchanges/s', anchor: 'gzip -3', anchorValue: n / anchorWrite, rssMB: w.maxRssMB, extra: `${(bytes / 1048576).toFixed(1)} MiB on disk` },
        { name: `store read ${n}`, value: r.perSecond, unit: 'exchanges/s', anchor: 'zcat | wc -l', anchorValue: n / anchorRead, rssMB: r.maxRssMB },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return results;
}

function timeShell(cmd: string): number {
  const t0 = process.hrtime.bigint();
  execFileSync('taskset', ['-c', '0', 'sh', '-c', cmd], { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** `npm run bench -- store [--store-sizes=100000,1000000]` */
export function runBench(flags: BenchFlags): Promise<BenchResult[]> {
  return benchStore({ sizes: numberListFlag(flags, 'store-sizes') });
}
