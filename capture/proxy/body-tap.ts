import { Transform, type TransformCallback } from 'node:stream';

/**
 * The stored copy of a body that streams through the proxy: the first `cap`
 * bytes are kept, every byte is counted, nothing is held back from the peer.
 *
 * Chunks are kept by reference, not copied: the proxy never mutates a chunk
 * after handing it on (Node and undici allocate a fresh buffer per socket
 * read), and a copy of every body on the hot path would cost more than the
 * relay itself. Memory held is at most `cap` bytes plus the rest of the last
 * chunk that crossed the cap.
 */
export class BodyTap {
  readonly cap: number;
  /** Bytes seen so far (the true wire size once the body ended). */
  size = 0;
  private kept = 0;
  private readonly chunks: Buffer[] = [];

  constructor(cap: number) {
    this.cap = cap;
  }

  push(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.kept >= this.cap) return;
    const room = this.cap - this.kept;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.chunks.push(part);
    this.kept += part.length;
  }

  /** Every byte seen is in `bytes()`. */
  get complete(): boolean {
    return this.kept === this.size;
  }

  /** The kept bytes as one buffer (concatenated once, when the record is built). */
  bytes(): Buffer {
    if (this.chunks.length === 1) return this.chunks[0]!;
    return Buffer.concat(this.chunks, this.kept);
  }
}

/**
 * A pass-through stream that feeds a BodyTap: used for request bodies, which
 * undici reads from a stream with backpressure. Its highWaterMark is Node's
 * default (16 KiB) — one socket read — so the tap adds no buffering of note.
 */
export function tapStream(tap: BodyTap): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback) {
      tap.push(chunk);
      callback(null, chunk);
    },
  });
}
