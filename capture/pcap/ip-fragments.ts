/**
 * IP fragment reassembly (IPv4 and IPv6) with bounded memory.
 *
 * Fragments are grouped by (version, src, dst, id[, protocol for IPv4]). A
 * datagram is complete once the last fragment (no "more fragments" flag) has
 * fixed its length and the pieces cover every byte up to it; overlapping
 * pieces are written in arrival order. Time is capture time (packet
 * timestamps), so a file reassembles the same way however fast it is read.
 *
 * Bounds, each crossing counted per fragment held:
 * - a datagram whose first fragment is older than `timeoutUs` is dropped as
 *   'fragment-timeout' (so are those still incomplete at the end of input);
 * - when the held bytes exceed `maxBytes` or the datagrams exceed
 *   `maxDatagrams`, the oldest are dropped as 'fragment-memory';
 * - a fragment reaching past 65,535 bytes, or contradicting the datagram's
 *   length, drops the datagram as 'bad-ip-header'.
 */
import { countDrop, type DropCounts } from './tcp-segment.js';

export interface FragmentLimits {
  /** Bytes of fragment data held at once (default 8 MiB: ~130 max-size datagrams, far above real use). */
  maxBytes: number;
  /** Datagrams in progress at once (default 1024). */
  maxDatagrams: number;
  /** Capture-time µs a datagram may take to complete (default 30 s, Linux's ipfrag_time). */
  timeoutUs: number;
}

export const DEFAULT_FRAGMENT_LIMITS: Readonly<FragmentLimits> = Object.freeze({
  maxBytes: 8 * 1024 * 1024,
  maxDatagrams: 1024,
  timeoutUs: 30_000_000,
});

const MAX_DATAGRAM = 65_535;

export interface FragmentInput {
  ts: number;
  /** Byte offset of `data` in the datagram's payload. */
  offset: number;
  more: boolean;
  data: Buffer;
  /** Upper-layer protocol as the fragment's header names it (trusted from the offset-0 fragment). */
  protocol: number;
  frameBytes: number;
}

export interface ReassembledDatagram {
  payload: Buffer;
  protocol: number;
  /** Captured bytes of all the fragments' frames. */
  frameBytes: number;
}

interface Pending {
  firstTs: number;
  protocol: number | undefined;
  length: number | undefined;
  pieces: { offset: number; data: Buffer }[];
  bytes: number;
  frameBytes: number;
}

export class FragmentReassembler {
  private readonly pending = new Map<string, Pending>();
  private heldBytes = 0;
  private readonly limits: FragmentLimits;

  constructor(
    private readonly drops: DropCounts,
    limits: Partial<FragmentLimits> = {},
  ) {
    this.limits = { ...DEFAULT_FRAGMENT_LIMITS, ...limits };
  }

  /** Adds a fragment; returns the datagram when this fragment completes it. */
  add(key: string, fragment: FragmentInput): ReassembledDatagram | undefined {
    this.expire(fragment.ts);
    let entry = this.pending.get(key);
    if (!entry) {
      entry = { firstTs: fragment.ts, protocol: undefined, length: undefined, pieces: [], bytes: 0, frameBytes: 0 };
      this.pending.set(key, entry);
    }
    const end = fragment.offset + fragment.data.length;
    const contradicts =
      end > MAX_DATAGRAM ||
      (entry.length !== undefined && (end > entry.length || (!fragment.more && end !== entry.length)));
    if (contradicts) {
      this.discard(key, entry, 'bad-ip-header', 1);
      return undefined;
    }
    if (!fragment.more) entry.length = end;
    if (fragment.offset === 0) entry.protocol = fragment.protocol;
    // Copy: the fragment is a view into a stream chunk that must not be pinned for up to timeoutUs.
    entry.pieces.push({ offset: fragment.offset, data: Buffer.from(fragment.data) });
    entry.bytes += fragment.data.length;
    entry.frameBytes += fragment.frameBytes;
    this.heldBytes += fragment.data.length;

    const done = this.complete(entry);
    if (done) {
      this.forget(key, entry);
      return done;
    }
    this.enforceBounds();
    return undefined;
  }

  /** Drops every datagram still incomplete (end of input) as timed out. */
  flush(): void {
    for (const [key, entry] of this.pending) this.discard(key, entry, 'fragment-timeout');
  }

  private complete(entry: Pending): ReassembledDatagram | undefined {
    if (entry.length === undefined || entry.protocol === undefined) return undefined;
    const sorted = [...entry.pieces].sort((a, b) => a.offset - b.offset);
    let covered = 0;
    for (const piece of sorted) {
      if (piece.offset > covered) return undefined;
      covered = Math.max(covered, piece.offset + piece.data.length);
    }
    if (covered < entry.length) return undefined;
    const payload = Buffer.alloc(entry.length);
    for (const piece of entry.pieces) piece.data.copy(payload, piece.offset);
    return { payload, protocol: entry.protocol, frameBytes: entry.frameBytes };
  }

  /** Timeouts first, then memory: both evict from the oldest datagram. */
  private expire(now: number): void {
    // Map order is arrival order; a capture out of time order may leave an old
    // entry behind a newer one until the memory bounds reach it.
    for (const [key, entry] of this.pending) {
      if (now - entry.firstTs <= this.limits.timeoutUs) break;
      this.discard(key, entry, 'fragment-timeout');
    }
  }

  private enforceBounds(): void {
    for (const [key, entry] of this.pending) {
      if (this.heldBytes <= this.limits.maxBytes && this.pending.size <= this.limits.maxDatagrams) return;
      this.discard(key, entry, 'fragment-memory');
    }
  }

  private discard(key: string, entry: Pending, reason: 'fragment-timeout' | 'fragment-memory' | 'bad-ip-header', extra = 0): void {
    countDrop(this.drops, reason, entry.pieces.length + extra);
    this.forget(key, entry);
  }

  private forget(key: string, entry: Pending): void {
    this.heldBytes -= entry.bytes;
    this.pending.delete(key);
  }
}
