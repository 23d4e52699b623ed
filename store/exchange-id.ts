import { randomFillSync } from 'node:crypto';

// UUIDv7 (RFC 9562): 48-bit millisecond timestamp then random bits, so ids sort
// by creation time and stay unique across processes without coordination.
// Random bytes come from a pool: one syscall per 4096 ids, not per id.
const POOL_IDS = 4096;
const pool = Buffer.alloc(10 * POOL_IDS);
let poolPos = pool.length;
const hex: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A new UUIDv7 string; `ms` defaults to now (pass the record time when importing). */
export function newExchangeId(ms: number = Date.now()): string {
  if (poolPos >= pool.length) {
    randomFillSync(pool);
    poolPos = 0;
  }
  const r = pool.subarray(poolPos, poolPos + 10);
  poolPos += 10;
  const t = Math.max(0, Math.floor(ms));
  const th = Math.floor(t / 0x1000000); // upper 24 bits
  const tl = t % 0x1000000; // lower 24 bits
  const b = [
    (th >>> 16) & 0xff, (th >>> 8) & 0xff, th & 0xff,
    (tl >>> 16) & 0xff, (tl >>> 8) & 0xff, tl & 0xff,
    0x70 | (r[0]! & 0x0f), r[1]!,
    0x80 | (r[2]! & 0x3f), r[3]!, r[4]!, r[5]!, r[6]!, r[7]!, r[8]!, r[9]!,
  ];
  const h = b.map((x) => hex[x]!);
  return `${h.slice(0, 4).join('')}-${h.slice(4, 6).join('')}-${h.slice(6, 8).join('')}-${h.slice(8, 10).join('')}-${h.slice(10).join('')}`;
}
