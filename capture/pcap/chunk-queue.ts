/**
 * A queue of stream chunks that capture-file readers pull from on demand:
 * "make sure n bytes are here", then "take n bytes". It never joins the whole
 * input: a record that lies inside one chunk is returned as a view of that
 * chunk, and only a record that spans chunks is copied into a buffer of its own
 * size. Bytes are pulled from the stream only when a reader asks for them, so
 * the stream's own backpressure applies and a live `tcpdump -w -` pipe is read
 * as it is written.
 *
 * Memory: the queue holds at most the bytes a reader asked for plus the rest of
 * the last chunk read. Readers bound what they ask for (see MAX_RECORD_BYTES),
 * and a request can only be satisfied by bytes that really arrived, so a
 * corrupt length field never turns into an allocation by itself.
 */
import type { Readable } from 'node:stream';

export class ChunkQueue {
  private readonly source: AsyncIterator<unknown>;
  private readonly chunks: Buffer[] = [];
  /** Bytes of chunks[0] already consumed. */
  private head = 0;
  private buffered = 0;
  private ended = false;
  /** Offset in the input of the next unread byte. */
  offset = 0;

  constructor(input: Readable) {
    this.source = input[Symbol.asyncIterator]();
  }

  /** Bytes buffered and not yet consumed. */
  get length(): number {
    return this.buffered;
  }

  /** Pulls chunks until at least `n` bytes are buffered; false if the input ended first. */
  async fill(n: number): Promise<boolean> {
    while (this.buffered < n) {
      if (this.ended) return false;
      const next = await this.source.next();
      if (next.done) {
        this.ended = true;
        return false;
      }
      const chunk = toBuffer(next.value);
      if (chunk.length === 0) continue;
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    return true;
  }

  /** The next `n` buffered bytes without consuming them (n ≤ length). A view when they lie in one chunk. */
  peek(n: number): Buffer {
    if (n > this.buffered) throw new Error(`ChunkQueue.peek(${n}) with only ${this.buffered} bytes buffered`);
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = Buffer.allocUnsafe(n);
    let copied = 0;
    let start = this.head;
    for (const chunk of this.chunks) {
      copied += chunk.copy(out, copied, start, Math.min(chunk.length, start + n - copied));
      start = 0;
      if (copied === n) break;
    }
    return out;
  }

  /** Consumes and returns the next `n` buffered bytes (n ≤ length). */
  take(n: number): Buffer {
    const out = this.peek(n);
    this.drop(n);
    return out;
  }

  /** Discards `n` bytes, pulling them from the input as needed without keeping them; false if it ended first. */
  async skip(n: number): Promise<boolean> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0 && !(await this.fill(1))) return false;
      const k = Math.min(left, this.buffered);
      this.drop(k);
      left -= k;
    }
    return true;
  }

  /** Stops reading: an input we stop early is destroyed, as `for await` over a stream does. */
  async close(): Promise<void> {
    this.chunks.length = 0;
    this.buffered = 0;
    if (!this.ended) {
      this.ended = true;
      await this.source.return?.();
    }
  }

  private drop(n: number): void {
    if (n > this.buffered) throw new Error(`ChunkQueue.drop(${n}) with only ${this.buffered} bytes buffered`);
    this.buffered -= n;
    this.offset += n;
    let left = n;
    while (left > 0) {
      const first = this.chunks[0]!;
      const avail = first.length - this.head;
      if (left < avail) {
        this.head += left;
        return;
      }
      left -= avail;
      this.chunks.shift();
      this.head = 0;
    }
  }
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') throw new TypeError('capture input must be a byte stream (do not call setEncoding on it)');
  throw new TypeError(`capture input yielded a ${typeof chunk} chunk; expected bytes`);
}
