/**
 * Child process of zstd-bench.ts: decode a zstd stream file in 64 KiB pieces
 * (as a socket or file stream delivers it) and print decoded MB/s and peak RSS.
 *   node --import tsx bench/zstd-worker.ts <guarded|fzstd> FILE ROUNDS
 */
import { readFileSync } from 'node:fs';
import { Decompress } from 'fzstd';
import { ZstdDecoder } from '../store/zstd-decoder.js';

const [mode = 'guarded', file = '', roundsText = '3'] = process.argv.slice(2);
const input = readFileSync(file);
const piece = 64 << 10;

function decodeOnce(): number {
  let out = 0;
  const count = (c: Uint8Array) => {
    out += c.length;
  };
  const d = mode === 'fzstd' ? new Decompress(count) : new ZstdDecoder(count);
  for (let i = 0; i < input.length; i += piece) d.push(input.subarray(i, i + piece));
  d.push(new Uint8Array(0), true);
  return out;
}

decodeOnce(); // warm-up: JIT
let best = Infinity;
let bytes = 0;
for (let r = 0; r < Number(roundsText); r++) {
  const t0 = process.hrtime.bigint();
  bytes = decodeOnce();
  best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
}
process.stdout.write(JSON.stringify({ bytes, seconds: best, mbPerSecond: bytes / 1e6 / best, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
