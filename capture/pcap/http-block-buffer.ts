import { TCHAR } from '../../store/http-token.js';
import type { ByteBudget } from './tcp-byte-budget.js';

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;
/** Header names longer than this are not worth waiting for: the line is judged on its first bytes. */
const LINE_HEAD = 256;

export type BlockMode = 'head' | 'trailers' | 'line';

/**
 * Accumulates a block up to the first empty line (a head or a trailer
 * section), or a single line (a chunk-size line), for the HTTP/1 parser. Each
 * field line is checked as soon as it is complete, so bytes that are not HTTP
 * are rejected at their first bad line rather than after 64 KiB. What it keeps
 * is a copy, charged to the shared budget.
 */
export class BlockBuffer {
  private chunks: Buffer[] = [];
  length = 0;
  done = false;
  /** Why the block was abandoned (too large, out of memory, a bad line); null while fine. */
  failure: string | null = null;
  /** Block offset of the line that failed the field-line check, or -1. */
  private badLineAt = -1;
  private lines = 0;
  private lineLen = 0;
  private lineAt = 0;
  private lastByte = -1;
  private readonly lineHead = Buffer.alloc(LINE_HEAD);

  constructor(
    private readonly limit: number,
    private readonly budget: ByteBudget,
    private readonly mode: BlockMode,
  ) {}

  /** Take bytes from `from` up to the end of the block; returns the index after the last byte taken. */
  feed(bytes: Buffer, from: number): number {
    let i = from;
    while (i < bytes.length && !this.done && this.failure === null) {
      const nl = bytes.indexOf(LF, i);
      const stop = nl === -1 ? bytes.length : nl + 1;
      if (this.lineLen < LINE_HEAD) bytes.copy(this.lineHead, this.lineLen, i, Math.min(stop, i + LINE_HEAD - this.lineLen));
      if (nl === -1) {
        this.append(bytes, i, stop);
        this.lineLen += stop - i;
        this.lastByte = bytes[stop - 1]!;
        return stop;
      }
      const contentLen = this.lineLen + (nl - i);
      const beforeLf = nl > i ? bytes[nl - 1]! : this.lastByte;
      this.append(bytes, i, stop);
      i = stop;
      const empty = contentLen === 0 || (contentLen === 1 && beforeLf === CR);
      if (this.failure === null && !empty && (this.mode === 'trailers' || (this.mode === 'head' && this.lines > 0))) {
        if (!fieldLineOk(this.lineHead, Math.min(contentLen, LINE_HEAD))) {
          this.failure = 'bad header line';
          this.badLineAt = this.lineAt;
        }
      }
      this.lines++;
      this.lineLen = 0;
      this.lineAt = this.length;
      this.lastByte = LF;
      if (this.mode === 'line' || empty) this.done = true;
    }
    return i;
  }

  /** The first bytes, for an early look at a start line. */
  prefix(n: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= Math.min(n, this.length)) return first.subarray(0, n);
    return Buffer.concat(this.chunks).subarray(0, n);
  }

  /** The line that failed the field-line check (a real start line is never a valid field line). */
  badLine(): Buffer | null {
    return this.badLineAt < 0 ? null : Buffer.concat(this.chunks).subarray(this.badLineAt);
  }

  /** The block as latin1 text (every byte maps to one char), and reset. */
  takeText(): string {
    const text = Buffer.concat(this.chunks).toString('latin1');
    this.reset();
    return text;
  }

  reset(): void {
    this.budget.release(this.length);
    this.chunks = [];
    this.length = 0;
    this.done = false;
    this.failure = null;
    this.badLineAt = -1;
    this.lines = 0;
    this.lineLen = 0;
    this.lineAt = 0;
    this.lastByte = -1;
  }

  private append(bytes: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n === 0 || this.failure !== null) return;
    if (this.length + n > this.limit) {
      this.failure = `${this.mode === 'line' ? 'line' : 'header block'} longer than ${this.limit} bytes`;
      return;
    }
    if (!this.budget.tryTake(n)) {
      this.failure = 'memory budget exhausted';
      return;
    }
    this.chunks.push(Buffer.from(bytes.subarray(from, to)));
    this.length += n;
  }
}

/** `name:` with a token name, or an obs-fold continuation; judged on the line's first bytes. */
function fieldLineOk(head: Buffer, n: number): boolean {
  const b0 = head[0];
  if (b0 === SP || b0 === HT) return true;
  for (let i = 0; i < n; i++) {
    const b = head[i]!;
    if (b === COLON) return i > 0;
    if (TCHAR[b] !== 1) return false;
  }
  return false;
}
