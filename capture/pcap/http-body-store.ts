import type { ByteBudget } from './tcp-byte-budget.js';

/**
 * The stored prefix of one message body as it arrives (after de-chunking,
 * before Content-Encoding is undone). Bytes past the cap are counted, not
 * kept; after a capture gap nothing more is kept either, because bytes after
 * a hole must never be spliced onto bytes before it.
 */
export class BodyStore {
  private chunks: Buffer[] = [];
  private held = 0;
  /** Bytes kept. */
  stored = 0;
  /** Bytes the body really had on the wire, gaps included. */
  size = 0;
  /** A gap or a refused budget stopped storage. */
  stopped = false;
  /** The shared memory budget refused bytes below the cap. */
  refused = false;

  constructor(
    private readonly cap: number,
    private readonly budget: ByteBudget,
  ) {}

  add(bytes: Buffer): void {
    this.size += bytes.length;
    if (this.stopped) return;
    const take = Math.min(bytes.length, this.cap - this.stored);
    if (take <= 0) return;
    if (!this.budget.tryTake(take)) {
      this.stopped = true;
      this.refused = true;
      return;
    }
    this.chunks.push(Buffer.from(bytes.subarray(0, take))); // copy: `bytes` is a view into a segment
    this.stored += take;
    this.held += take;
  }

  /** `n` bytes of the body are missing from the capture. */
  gap(n: number): void {
    this.size += n;
    this.stopped = true;
  }

  /** Every wire byte is stored. */
  get complete(): boolean {
    return this.stored === this.size;
  }

  /** The stored bytes; the store is emptied and its budget given back. */
  take(): Buffer {
    const out = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.release();
    return out;
  }

  release(): void {
    this.budget.release(this.held);
    this.chunks = [];
    this.held = 0;
  }
}
