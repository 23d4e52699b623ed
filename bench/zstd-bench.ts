import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberListFlag, pinnedNode, type BenchFlags, type BenchResult } from './bench-support.js';

/**
 * zstd body decoding (store/zstd-decoder.ts: fzstd behind a window bound, a
 * content-size check and the XXH64 frame checksum), on one core, over a
 * stream of real zstd CLI frames (test/fixtures/zstd/orders.json.zst, ~300 KB
 * of JSON each, repeated). Anchor: the native `zstd -d` CLI on the same file,
 * which also verifies checksums. A second row gives bare fzstd (no bound, no
 * checksum) to show what the guards cost.
 */
export async function benchZstd(options: { frames?: number } = {}): Promise<BenchResult[]> {
  const worker = fileURLToPath(new URL('./zstd-worker.ts', import.meta.url));
  const frame = readFileSync(new URL('../test/fixtures/zstd/orders.json.zst', import.meta.url));
  const frames = options.frames ?? 200;
  const dir = mkdtempSync(join(tmpdir(), 'reprise-bench-zstd-'));
  try {
    const file = join(dir, 'stream.zst');
    writeFileSync(file, Buffer.concat(Array.from({ length: frames }, () => frame)));
    const guarded = JSON.parse(pinnedNode([worker, 'guarded', file, '5']));
    const bare = JSON.parse(pinnedNode([worker, 'fzstd', file, '5']));
    const cli = bestOf(5, () => timed(() => execFileSync('taskset', ['-c', '0', 'zstd', '-q', '-d', '-c', file], { stdio: ['ignore', 'ignore', 'ignore'] })));
    const cliMBs = guarded.bytes / 1e6 / cli;
    const size = `${frames} frames, ${(guarded.bytes / 1e6).toFixed(0)} MB decoded`;
    return [
      { name: 'zstd decode (reprise decoder)', value: guarded.mbPerSecond, unit: 'MB/s', anchor: 'zstd -d', anchorValue: cliMBs, rssMB: guarded.maxRssMB, extra: size },
      { name: 'zstd decode (bare fzstd)', value: bare.mbPerSecond, unit: 'MB/s', anchor: 'zstd -d', anchorValue: cliMBs, rssMB: bare.maxRssMB, extra: 'no window bound, no checksum' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function timed(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function bestOf(n: number, f: () => number): number {
  let best = Infinity;
  for (let i = 0; i < n; i++) best = Math.min(best, f());
  return best;
}

/** `npm run bench -- zstd [--zstd-frames=200]` */
export function runBench(flags: BenchFlags): Promise<BenchResult[]> {
  return benchZstd({ frames: numberListFlag(flags, 'zstd-frames')?.[0] });
}
