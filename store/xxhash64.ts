/**
 * Streaming XXH64 (seed 0), the checksum a zstd frame carries in its last 4
 * bytes (the low 32 bits). fzstd skips that checksum; checking it is what
 * tells a corrupted body from a decoded one, since a flipped byte inside a
 * literal run decodes to wrong bytes without any format error.
 *
 * 64-bit words are (hi, lo) pairs of uint32 and products are built from
 * 16-bit partial products: ~5× faster than BigInt here, which matters
 * because every zstd body a capture stores is hashed once more.
 */

// Primes as [hi, lo].
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

const LANES_START = (() => {
  const m = (1n << 64n) - 1n;
  const p1 = (BigInt(P1H) << 32n) | BigInt(P1L);
  const p2 = (BigInt(P2H) << 32n) | BigInt(P2L);
  return [(p1 + p2) & m, p2, 0n, (0n - p1) & m].flatMap((x) => [Number(x >> 32n), Number(x & 0xffffffffn)]);
})();

// Results of the helpers below (no allocation per operation).
let rh = 0;
let rl = 0;

/** (ah, al) * (bh, bl) mod 2^64. */
function mul(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  rl = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  rh = (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + Math.imul(al, bh) + Math.imul(ah, bl)) >>> 0;
}

/** (ah, al) + (bh, bl) mod 2^64. */
function add(ah: number, al: number, bh: number, bl: number): void {
  const lo = al + bl;
  rl = lo >>> 0;
  rh = (ah + bh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

/** Rotate left by r, 0 < r < 32. */
function rotl(h: number, l: number, r: number): void {
  rh = ((h << r) | (l >>> (32 - r))) >>> 0;
  rl = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** round(acc, input) = rotl(acc + input * P2, 31) * P1. */
function round(acch: number, accl: number, inh: number, inl: number): void {
  mul(inh, inl, P2H, P2L);
  add(acch, accl, rh, rl);
  rotl(rh, rl, 31);
  mul(rh, rl, P1H, P1L);
}

/** h = (h ^ round(0, v)) * P1 + P4. */
function mergeRound(hh: number, hl: number, vh: number, vl: number): void {
  round(0, 0, vh, vl);
  mul((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, P1H, P1L);
  add(rh, rl, P4H, P4L);
}

export class XxHash64 {
  /** The four lanes as [hi, lo] pairs: v1 = P1 + P2, v2 = P2, v3 = 0, v4 = -P1 (mod 2^64). */
  private readonly v = Uint32Array.from(LANES_START);
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

  /** The low 32 bits of the digest: what a zstd frame stores. */
  digestLow32(): number {
    this.finish();
    return rl;
  }

  /** The 64-bit digest as 16 hex digits. */
  digestHex(): string {
    this.finish();
    return rh.toString(16).padStart(8, '0') + rl.toString(16).padStart(8, '0');
  }

  /** Leaves the digest in (rh, rl); the state is not changed. */
  private finish(): void {
    const v = this.v;
    let hh: number;
    let hl: number;
    if (this.total >= 32) {
      rotl(v[0]!, v[1]!, 1);
      let sh = rh, sl = rl;
      rotl(v[2]!, v[3]!, 7);
      add(sh, sl, rh, rl);
      sh = rh; sl = rl;
      rotl(v[4]!, v[5]!, 12);
      add(sh, sl, rh, rl);
      sh = rh; sl = rl;
      rotl(v[6]!, v[7]!, 18);
      add(sh, sl, rh, rl);
      for (let k = 0; k < 8; k += 2) mergeRound(rh, rl, v[k]!, v[k + 1]!);
      hh = rh; hl = rl;
    } else {
      hh = P5H; hl = P5L;
    }
    // + total length (a body is far below 2^53 bytes).
    add(hh, hl, Math.floor(this.total / 0x100000000) >>> 0, this.total >>> 0);
    hh = rh; hl = rl;
    const view = new DataView(this.tail.buffer, 0, this.tailLength);
    let i = 0;
    for (; i + 8 <= this.tailLength; i += 8) {
      round(0, 0, view.getUint32(i + 4, true), view.getUint32(i, true));
      rotl((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 27);
      mul(rh, rl, P1H, P1L);
      add(rh, rl, P4H, P4L);
      hh = rh; hl = rl;
    }
    if (i + 4 <= this.tailLength) {
      mul(0, view.getUint32(i, true), P1H, P1L);
      rotl((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 23);
      mul(rh, rl, P2H, P2L);
      add(rh, rl, P3H, P3L);
      hh = rh; hl = rl;
      i += 4;
    }
    for (; i < this.tailLength; i++) {
      mul(0, this.tail[i]!, P5H, P5L);
      rotl((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 11);
      mul(rh, rl, P1H, P1L);
      hh = rh; hl = rl;
    }
    // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
    hl = (hl ^ (hh >>> 1)) >>> 0;
    mul(hh, hl, P2H, P2L);
    hh = rh; hl = rl;
    hl = (hl ^ ((hh << 3) | (hl >>> 29))) >>> 0;
    hh = (hh ^ (hh >>> 29)) >>> 0;
    mul(hh, hl, P3H, P3L);
    rl = (rl ^ rh) >>> 0;
  }

  private stripe(view: DataView, at: number): void {
    const v = this.v;
    for (let k = 0; k < 8; k += 2) {
      round(v[k]!, v[k + 1]!, view.getUint32(at + k * 4 + 4, true), view.getUint32(at + k * 4, true));
      v[k] = rh;
      v[k + 1] = rl;
    }
  }
}
