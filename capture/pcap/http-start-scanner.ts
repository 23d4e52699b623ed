import { isStartLine, type MessageKind } from './http-head.js';
import type { ByteBudget } from './tcp-byte-budget.js';

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;

export interface StartLineMatch {
  kind: MessageKind;
  /** The whole start line, LF included. */
  line: Buffer;
  /** ts of the segment that carried the line's first byte (approximately, when it began in an earlier one). */
  ts: number;
  /** Index in the scanned buffer just after the line. */
  next: number;
}

/** Longest start line considered while resynchronising (URLs beyond 8 KiB are rare and refused by many servers). */
const MAX_START_LINE = 8 * 1024;
const STATUS_MARK = Buffer.from('HTTP/1.');
const REQUEST_MARK = Buffer.from(' HTTP/1.');
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH', 'REPORT', 'PURGE'];

/**
 * Finds the next plausible request or status line anywhere in a stream — a
 * message can follow a body without a line break. It looks for "HTTP/1." with
 * `indexOf`, then checks the whole line: a status line starts at the mark; a
 * request line ends with it, and its method and target are found by walking
 * back. Only the tail after the last LF is carried between calls (≤ 8 KiB).
 */
export class StartLineScanner {
  skipped = 0;
  private carry: Buffer = Buffer.alloc(0);
  private carryTs = 0;

  constructor(
    private readonly kinds: readonly MessageKind[],
    private readonly budget: ByteBudget,
  ) {}

  /** Forget the carried tail (after a gap: bytes on either side of a hole are not one line). */
  reset(): void {
    this.setCarry(Buffer.alloc(0), 0);
  }

  scan(bytes: Buffer, from: number, ts: number): StartLineMatch | null {
    const fresh = bytes.subarray(from);
    const base = this.carry.length;
    const window = base > 0 ? Buffer.concat([this.carry, fresh]) : fresh;
    const tsAt = (offset: number): number => (offset < base ? this.carryTs : ts);
    let pos = 0;
    for (;;) {
      const cand = this.candidate(window, pos);
      if (!cand) break;
      const lf = window.indexOf(LF, cand.mark);
      if (lf === -1) {
        // The line is not complete yet: carry it from its start.
        this.skipped += Math.max(0, cand.start - base);
        this.setCarry(window.length - cand.start <= MAX_START_LINE ? Buffer.from(window.subarray(cand.start)) : Buffer.alloc(0), tsAt(cand.start));
        return null;
      }
      const end = lf > 0 && window[lf - 1] === CR ? lf - 1 : lf;
      if (end - cand.start <= MAX_START_LINE && isStartLine(window.toString('latin1', cand.start, end), cand.kind, true)) {
        this.skipped += Math.max(0, cand.start - base);
        const match = { kind: cand.kind, line: Buffer.from(window.subarray(cand.start, lf + 1)), ts: tsAt(cand.start), next: from + (lf + 1 - base) };
        this.reset();
        return match;
      }
      pos = cand.mark + 1;
    }
    // No candidate: carry only the tail that could still become one.
    const lineAt = Math.max(window.lastIndexOf(LF) + 1, window.length - MAX_START_LINE);
    let tailAt = window.length;
    if (this.kinds.includes('response')) tailAt = Math.min(tailAt, markPrefixAt(window, lineAt, STATUS_MARK));
    if (this.kinds.includes('request')) tailAt = Math.min(tailAt, requestPrefixAt(window, lineAt));
    this.skipped += Math.max(0, tailAt - base);
    this.setCarry(Buffer.from(window.subarray(tailAt)), tsAt(tailAt));
    return null;
  }

  /** The earliest candidate at or after `pos`: where its line would start, and where its "HTTP/1." mark is. */
  private candidate(w: Buffer, pos: number): { kind: MessageKind; start: number; mark: number } | null {
    let best: { kind: MessageKind; start: number; mark: number } | null = null;
    if (this.kinds.includes('response')) {
      const at = w.indexOf(STATUS_MARK, pos);
      if (at !== -1) best = { kind: 'response', start: at, mark: at };
    }
    if (this.kinds.includes('request')) {
      let at = w.indexOf(REQUEST_MARK, pos);
      while (at !== -1 && (!best || at < best.start)) {
        const start = requestLineStart(w, at);
        if (start !== -1) {
          if (!best || start < best.start) best = { kind: 'request', start, mark: at };
          break;
        }
        at = w.indexOf(REQUEST_MARK, at + 1);
      }
    }
    return best;
  }

  private setCarry(carry: Buffer, ts: number): void {
    this.budget.release(this.carry.length);
    // Without budget the partial line is forgotten: at worst one message start is missed.
    this.carry = carry.length > 0 && this.budget.tryTake(carry.length) ? carry : Buffer.alloc(0);
    this.carryTs = ts;
  }
}

/** Start of the longest suffix of w[from..] that is a proper prefix of `mark` (w.length when none). */
function markPrefixAt(w: Buffer, from: number, mark: Buffer): number {
  for (let n = Math.min(mark.length - 1, w.length - from); n > 0; n--) {
    if (w.subarray(w.length - n).equals(mark.subarray(0, n))) return w.length - n;
  }
  return w.length;
}

/**
 * Start of the suffix of w[from..] that could grow into a request line
 * ("METHOD", "METHOD /target", "METHOD /target HTTP/1"), or w.length.
 */
function requestPrefixAt(w: Buffer, from: number): number {
  const end = w.length;
  let i = end - 1;
  while (i >= from && isMethodByte(w[i]!)) i--;
  let best = end - i - 1 > 0 && end - i - 1 <= 20 ? i + 1 : end; // "METH"
  // Up to two spaces back: "METHOD SP target" or "METHOD SP target SP HTTP/1 partial".
  let sp = end;
  for (let k = 0; k < 2; k++) {
    sp = w.lastIndexOf(SP, sp - 1);
    if (sp < from || sp < 0) break;
    let m = sp - 1;
    while (m >= from && sp - m <= 20 && isMethodByte(w[m]!)) m--;
    if (sp - m - 1 >= 3 && !hasCtl(w, sp + 1, end)) best = Math.min(best, m + 1);
  }
  return best;
}

function hasCtl(w: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (w[i]! < SP || w[i] === 0x7f) return true;
  return false;
}

/** Walk back from " HTTP/1." over the target and the method; -1 when they are not there. */
function requestLineStart(w: Buffer, mark: number): number {
  let i = mark - 1;
  const floor = Math.max(0, mark - MAX_START_LINE);
  while (i >= floor && w[i]! > SP && w[i] !== 0x7f) i--;
  if (i === mark - 1 || i < floor || w[i] !== SP) return -1;
  const sp = i;
  i--;
  while (i >= 0 && sp - i <= 20 && isMethodByte(w[i]!)) i--;
  const start = i + 1;
  if (sp - start < 3) return -1;
  // "…bodyGET /x" — prefer a known method that ends the run of capitals.
  const run = w.toString('latin1', start, sp);
  if (METHODS.includes(run)) return start;
  let best = '';
  for (const m of METHODS) if (m.length > best.length && run.endsWith(m)) best = m;
  return best === '' ? start : sp - best.length;
}

function isMethodByte(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || b === 0x2d || b === 0x5f;
}
