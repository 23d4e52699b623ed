/**
 * Streaming XXH64 (seed 0), the checksum a zstd frame carries in its last 4
 * bytes (the low 32 bits). fzstd skips that checksum; checking it is what
 * tells a corrupted body from a decoded one, since a flipped byte inside a
 * literal run decodes to wrong bytes without any format error.
 *
 * BigInt arithmetic: simple and exact; ~10 BigInt operations per 8 input
 * bytes is fast enough for bodies bounded by the store's cap (see the test's
 * timing note), and only zstd bodies pay it.
 */

const M = (1n << 64n) - 1n;
const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
const P5 = 2870177450012600261n;

const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M;
const round = (acc: bigint, input: bigint): bigint => (rotl((acc + input * P2) & M, 31n) * P1) & M;
const mergeRound = (acc: bigint, val: bigint): bigint => (((acc ^ round(0n, val)) * P1) + P4) & M;

export class XxHash64 {
  private v1 = (P1 + P2) & M;
  private v2 = P2;
  private v3 = 0n;
  private v4 = (0n - P1) & M;
  private total = 0;
  /** Bytes of an unfinished 32-byte stripe. */
  private readonly tail = new Uint8Array(32);
  private tailLength = 0;

  update(data: Uint8Array): void {
    this.total += data.length;
    let i = 0;
    if (this.tailLength > 0) {
      const take = Math.min(32 - this.tailLength, data.length);
      this.tail.set(data.subarray(0, take), this.tailLength);
      this.tailLength += take;
      i = take;
      if (this.tailLength < 32) return;
      this.stripe(new DataView(this.tail.buffer), 0);
      this.tailLength = 0;
    }
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (; i + 32 <= data.length; i += 32) this.stripe(view, i);
    if (i < data.length) {
      this.tail.set(data.subarray(i), 0);
      this.tailLength = data.length - i;
    }
  }

  /** The 64-bit digest of everything passed to update(). */
  digest(): bigint {
    let h: bigint;
    if (this.total >= 32) {
      h = (rotl(this.v1, 1n) + rotl(this.v2, 7n) + rotl(this.v3, 12n) + rotl(this.v4, 18n)) & M;
      h = mergeRound(h, this.v1);
      h = mergeRound(h, this.v2);
      h = mergeRound(h, this.v3);
      h = mergeRound(h, this.v4);
    } else {
      h = P5;
    }
    h = (h + BigInt(this.total)) & M;
    const view = new DataView(this.tail.buffer, 0, this.tailLength);
    let i = 0;
    for (; i + 8 <= this.tailLength; i += 8) h = ((rotl(h ^ round(0n, view.getBigUint64(i, true)), 27n) * P1) + P4) & M;
    if (i + 4 <= this.tailLength) {
      h = ((rotl(h ^ ((BigInt(view.getUint32(i, true)) * P1) & M), 23n) * P2) + P3) & M;
      i += 4;
    }
    for (; i < this.tailLength; i++) h = (rotl(h ^ ((BigInt(this.tail[i]!) * P5) & M), 11n) * P1) & M;
    h ^= h >> 33n;
    h = (h * P2) & M;
    h ^= h >> 29n;
    h = (h * P3) & M;
    h ^= h >> 32n;
    return h;
  }

  private stripe(view: DataView, at: number): void {
    this.v1 = round(this.v1, view.getBigUint64(at, true));
    this.v2 = round(this.v2, view.getBigUint64(at + 8, true));
    this.v3 = round(this.v3, view.getBigUint64(at + 16, true));
    this.v4 = round(this.v4, view.getBigUint64(at + 24, true));
  }
}
