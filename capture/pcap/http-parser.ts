/**
 * Incremental HTTP/1.x parser for one direction of a connection, fed with
 * bytes, capture gaps and the end of the stream (from tcp-reassembler.ts).
 *
 *            ┌──────────── gap / error ◀────────────────────────────────┐
 *            ▼                                                          │
 *   SYNC ──plausible start line──▶ HEAD ──head parsed──▶ framing:       │
 *     ▲                             │  none ──────────────▶ message done ──▶ HEAD (or HOLD / OPAQUE)
 *     │                             │  length ──▶ BODY ───▶ message done
 *     │                             │  chunked ─▶ CHUNK_SIZE ⇄ CHUNK_DATA → CHUNK_END; size 0 → TRAILERS → done
 *     │                             │  close ───▶ UNTIL_CLOSE ── end of stream ──▶ done
 *     │                             │  tunnel (101, CONNECT 2xx) ──▶ done ──▶ OPAQUE
 *     │                             └─ 1xx other than 101: interim, noted, back to HEAD
 *   DEAD ◀── the first message of a stream seen from its SYN is not HTTP
 *
 * - A stream seen from its start (SYN) begins in HEAD, strict: if its first
 *   bytes are not HTTP the parser goes DEAD and reports `notHttp`. A stream
 *   picked up mid-connection begins in SYNC and scans for the next plausible
 *   start line; so does any stream after it lost its framing.
 * - Gaps: inside a Content-Length body or a chunk's data the framing survives
 *   (the missing byte count is known): the message is marked incomplete, its
 *   stored body stops at the gap, and parsing goes on. Anywhere else framing
 *   is lost: the message in progress is finished as incomplete and the parser
 *   resynchronises. A gap that swallowed (part of) a message head reports
 *   `lost`, so the pairing layer knows a message went missing.
 * - Malformed request lines that servers still answer ("OPTIONS", "GET /x"
 *   without a version, "GET / HTTP/1.") are read in HEAD when header fields
 *   follow them (http-head.ts), and noted; never while resynchronising, where
 *   only well-formed start lines count.
 * - HOLD (request side only): after an Upgrade or CONNECT request, further
 *   client bytes wait until the response says whether the connection left
 *   HTTP (`release(true)` → OPAQUE) or not (`release(false)` → replayed).
 * - Bounds: head blocks and trailer sections ≤ maxHeadBytes (64 KiB),
 *   chunk-size lines ≤ 4 KiB, held bytes ≤ maxHeadBytes, bodies stored up to
 *   bodyCap (the rest counted). All kept bytes are charged to the budget.
 */
import type { Header } from '../../store/exchange.js';
import { BodyStore } from './http-body-store.js';
import {
  couldStartLine, mayLeaveHttp, parseChunkSize, parseHead, parseTrailers, requestFraming, responseFraming,
  type Framing, type MessageHead, type MessageKind, type ResponseHead,
} from './http-head.js';
import { BlockBuffer } from './http-block-buffer.js';
import { StartLineScanner } from './http-start-scanner.js';
import type { StreamEndReason } from './tcp-reassembler.js';
import type { ByteBudget } from './tcp-byte-budget.js';

export interface ParsedMessage {
  head: MessageHead;
  /** ts of the segment that carried the first byte of the message. */
  startTs: number;
  /** ts of the segment that carried the last byte seen of the message. */
  endTs: number;
  framing: Framing['kind'];
  body: BodyStore;
  trailers: Header[] | null;
  /** Why bytes of this message are missing; null when it is whole. */
  incomplete: string | null;
  /** A parse error that cut this message short. */
  parseError: string | null;
  /** A response parsed with no request to answer (framing assumed for GET). */
  orphan: boolean;
  notes: string[];
}

export interface HttpParserEvents {
  /** Response side: method of the request the next final response answers; undefined when none is known. */
  requestMethod(): string | undefined;
  /** A head is complete and its framing known; the body follows. */
  head(msg: ParsedMessage): void;
  /** A message ended (completely, or cut short with `incomplete` set). */
  message(msg: ParsedMessage): void;
  /** A 1xx response other than 101 (not the final response). */
  interim(head: ResponseHead, ts: number): void;
  /** Bytes that held (part of) a message head were lost to a gap. */
  lost(reason: string, ts: number): void;
  /** The stream is not HTTP/1.x; the parser is dead. */
  notHttp(reason: string): void;
  /** A head could not be parsed after HTTP was established; the parser resynchronises. */
  error(reason: string): void;
}

export interface HttpParserOptions {
  kind: MessageKind;
  /** The stream is seen from its first byte (SYN seen): garbage there means not HTTP. */
  atMessageStart: boolean;
  bodyCap: number;
  budget: ByteBudget;
  /** Default 64 KiB: four times the 16 KiB most servers accept, so real heads always fit. */
  maxHeadBytes?: number;
}

type State = 'sync' | 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'until-close' | 'hold' | 'opaque' | 'dead';

/** A chunk-size line is a few hex digits; 4 KiB leaves room for extensions and refuses a flood. */
const MAX_CHUNK_LINE = 4096;

interface Held {
  bytes: Buffer | null;
  gap: number;
  ts: number;
}

/**
 * @example
 * const p = new HttpStreamParser({ kind: 'response', atMessageStart: true, bodyCap: 1 << 20, budget }, events);
 * p.write(bytes, ts); p.gap(1448, ts); p.end('fin', ts);
 */
export class HttpStreamParser {
  /** Messages seen; a stream with bytes and no message was not HTTP (or never resynchronised). */
  messages = 0;
  /** Bytes ignored in OPAQUE / DEAD. */
  ignoredBytes = 0;
  private state: State;
  private msg: ParsedMessage | null = null;
  private remaining = 0;
  private crSeen = false;
  private fromSync = false;
  /** The start of the current head passed the cheap "could be a start line" test. */
  private headChecked = false;
  private startTs = 0;
  private readonly block: BlockBuffer;
  private readonly trailerBlock: BlockBuffer;
  private readonly chunkLine: BlockBuffer;
  /** Bytes to read again before the rest of the current write (the line that ended a false start). */
  private pushback: { bytes: Buffer; ts: number } | null = null;
  private readonly scanner: StartLineScanner;
  private held: Held[] = [];
  private heldBytes = 0;
  private readonly maxHead: number;
  /** write() calls in progress on the stack, and an end() that arrived during one. */
  private depth = 0;
  private deferredEnd: { reason: StreamEndReason; ts: number } | null = null;

  constructor(
    private readonly opts: HttpParserOptions,
    private readonly events: HttpParserEvents,
  ) {
    this.maxHead = opts.maxHeadBytes ?? 64 * 1024;
    this.block = new BlockBuffer(this.maxHead, opts.budget, 'head');
    this.trailerBlock = new BlockBuffer(this.maxHead, opts.budget, 'trailers');
    this.chunkLine = new BlockBuffer(MAX_CHUNK_LINE, opts.budget, 'line');
    this.scanner = new StartLineScanner([opts.kind], opts.budget);
    this.state = opts.atMessageStart ? 'head' : 'sync';
  }

  /** Bytes skipped while looking for a start line. */
  get skippedBytes(): number {
    return this.scanner.skipped;
  }

  get dead(): boolean {
    return this.state === 'dead';
  }

  write(bytes: Buffer, ts: number): void {
    this.depth++;
    try {
      this.writeAll(bytes, ts);
    } finally {
      this.depth--;
    }
    const end = this.deferredEnd;
    if (end && this.depth === 0) {
      this.deferredEnd = null;
      this.end(end.reason, end.ts);
    }
  }

  private writeAll(bytes: Buffer, ts: number): void {
    const later: Array<{ bytes: Buffer; i: number; ts: number }> = [];
    let cur = { bytes, i: 0, ts };
    for (;;) {
      while (cur.i < cur.bytes.length) {
        const before = cur.i;
        const state = this.state;
        cur.i = this.step(cur.bytes, cur.i, cur.ts);
        if (cur.i === before && this.state === state) throw new Error(`http parser made no progress in state ${state} (this is a bug)`);
        if (this.pushback) {
          later.push(cur);
          cur = { bytes: this.pushback.bytes, i: 0, ts: this.pushback.ts };
          this.pushback = null;
        }
      }
      const next = later.pop();
      if (!next) return;
      cur = next;
    }
  }

  gap(n: number, ts: number): void {
    const msg = this.msg;
    switch (this.state) {
      case 'sync':
        this.scanner.skipped += n;
        this.scanner.reset();
        return;
      case 'head': {
        const partial = this.block.length > 0 || this.fromSync;
        this.events.lost(partial ? `capture gap of ${n} bytes inside a message head` : `capture gap of ${n} bytes between messages`, ts);
        return this.resync(true);
      }
      case 'body':
      case 'chunk-data': {
        if (!msg) return;
        if (n < this.remaining) {
          this.remaining -= n;
          return this.markGap(msg, n);
        }
        const left = n - this.remaining;
        this.markGap(msg, this.remaining);
        if (this.state === 'chunk-data') {
          this.finish(ts);
          return this.resync(true);
        }
        this.finish(ts);
        if (left > 0) this.gap(left, ts);
        return;
      }
      case 'chunk-size':
      case 'chunk-end':
      case 'trailers':
        if (!msg) return;
        msg.incomplete ??= `capture gap of ${n} bytes in the chunked ${this.opts.kind} body`;
        msg.body.gap(0);
        this.finish(ts);
        return this.resync(true);
      case 'until-close':
        if (msg) this.markGap(msg, n);
        return;
      case 'hold':
        this.held.push({ bytes: null, gap: n, ts });
        return;
      default:
        return;
    }
  }

  end(reason: StreamEndReason, ts: number): void {
    if (this.depth > 0) {
      // Called back from inside write() (an event handler closed the stream): finish that write first.
      this.deferredEnd = { reason, ts };
      return;
    }
    const msg = this.msg;
    switch (this.state) {
      case 'head':
        if (this.block.length > 0 || this.fromSync) this.events.lost(`stream ended (${reason}) inside a message head`, ts);
        break;
      case 'until-close':
        if (msg && (reason === 'fin' || reason === 'reset')) {
          if (reason === 'reset') msg.notes.push(`${this.opts.kind} body read until close ended with a connection reset`);
        } else if (msg) {
          msg.incomplete ??= `capture ended before the connection closed (${this.opts.kind} body is read until close)`;
        }
        this.finish(ts);
        break;
      case 'body':
      case 'chunk-size':
      case 'chunk-data':
      case 'chunk-end':
      case 'trailers':
        if (msg) {
          msg.incomplete ??= `stream ended (${reason}) before the ${this.opts.kind} body ended`;
          msg.body.gap(this.state === 'body' || this.state === 'chunk-data' ? this.remaining : 0);
        }
        this.finish(ts);
        break;
      default:
        break;
    }
    this.dropHeld();
    this.resetBuffers();
    this.state = 'dead';
  }

  /** Request side: the response to an Upgrade/CONNECT request decided whether the connection left HTTP. */
  release(tunnel: boolean): void {
    if (this.state !== 'hold') {
      if (tunnel && this.state !== 'dead') this.toOpaque();
      return;
    }
    const held = this.held;
    this.dropHeld();
    if (tunnel) return this.toOpaque();
    this.state = 'head';
    for (const h of held) {
      if (h.bytes) this.write(h.bytes, h.ts);
      else this.gap(h.gap, h.ts);
    }
  }

  /** The connection left HTTP: ignore everything from now on. */
  toOpaque(): void {
    const msg = this.msg;
    if (msg) {
      msg.incomplete ??= `the connection left HTTP before the ${this.opts.kind} ended`;
      this.finish(msg.endTs);
    }
    this.dropHeld();
    this.resetBuffers();
    this.state = 'opaque';
  }

  /** Stop parsing for good, silently (the connection is not HTTP). */
  kill(): void {
    this.msg?.body.release();
    this.msg = null;
    this.dropHeld();
    this.resetBuffers();
    this.state = 'dead';
  }

  private step(bytes: Buffer, i: number, ts: number): number {
    switch (this.state) {
      case 'sync': return this.readSync(bytes, i, ts);
      case 'head': return this.readHead(bytes, i, ts);
      case 'body':
      case 'chunk-data': return this.readData(bytes, i, ts);
      case 'chunk-size': return this.readChunkSize(bytes, i, ts);
      case 'chunk-end': return this.readChunkEnd(bytes, i, ts);
      case 'trailers': return this.readTrailers(bytes, i, ts);
      case 'until-close':
        this.msg?.body.add(i === 0 ? bytes : bytes.subarray(i));
        return bytes.length;
      case 'hold':
        this.hold(bytes.subarray(i), ts);
        return bytes.length;
      default:
        this.ignoredBytes += bytes.length - i;
        return bytes.length;
    }
  }

  private readSync(bytes: Buffer, i: number, ts: number): number {
    const match = this.scanner.scan(bytes, i, ts);
    if (!match) return bytes.length;
    this.state = 'head';
    this.fromSync = true;
    this.startTs = match.ts;
    this.block.feed(match.line, 0);
    return match.next;
  }

  private readHead(bytes: Buffer, i: number, ts: number): number {
    if (this.block.length === 0 && !this.fromSync) {
      // RFC 9112 §2.2: empty lines before a start line are ignored.
      while (i < bytes.length && (bytes[i] === 0x0d || bytes[i] === 0x0a)) i++;
      if (i === bytes.length) return i;
      this.startTs = ts;
    }
    const next = this.block.feed(bytes, i);
    if (this.block.failure !== null) {
      this.headFailed(this.block.failure);
      return next;
    }
    if (!this.headChecked) {
      if (!couldStartLine(this.block.prefix(24), this.opts.kind)) {
        this.headFailed(`not an HTTP/1 ${this.opts.kind} line`);
        return next;
      }
      this.headChecked = this.block.length >= 24 || this.block.done;
    }
    if (!this.block.done) return next;
    this.headChecked = false;
    const head = parseHead(this.block.takeText(), this.opts.kind);
    if (typeof head === 'string') this.headFailed(head);
    else this.startMessage(head, ts);
    return next;
  }

  private startMessage(head: MessageHead, ts: number): void {
    const notes: string[] = [];
    let orphan = false;
    let framing: Framing | string;
    if (head.kind === 'request') {
      if (head.malformed) notes.push(`malformed request line: ${head.malformed}`);
      framing = requestFraming(head, notes);
    } else {
      if (head.status >= 100 && head.status < 200 && head.status !== 101) {
        this.fromSync = false;
        this.events.interim(head, ts);
        return;
      }
      let method = this.events.requestMethod();
      if (method === undefined) {
        orphan = true;
        method = 'GET';
      }
      framing = responseFraming(head, method, notes);
    }
    if (typeof framing === 'string') return this.headFailed(framing);
    this.fromSync = false;
    const msg: ParsedMessage = {
      head, startTs: this.startTs, endTs: ts, framing: framing.kind, body: new BodyStore(this.opts.bodyCap, this.opts.budget),
      trailers: null, incomplete: null, parseError: null, orphan, notes,
    };
    this.msg = msg;
    this.events.head(msg);
    if (this.msg !== msg) return; // the head event ended the stream
    if (framing.kind === 'length') {
      this.remaining = framing.length;
      this.state = 'body';
    } else if (framing.kind === 'chunked') {
      this.state = 'chunk-size';
    } else if (framing.kind === 'close') {
      this.state = 'until-close';
    } else {
      this.finish(ts);
    }
  }

  private readData(bytes: Buffer, i: number, ts: number): number {
    const take = Math.min(this.remaining, bytes.length - i);
    this.msg?.body.add(i === 0 && take === bytes.length ? bytes : bytes.subarray(i, i + take));
    this.remaining -= take;
    if (this.remaining === 0) {
      if (this.state === 'body') this.finish(ts);
      else {
        this.state = 'chunk-end';
        this.crSeen = false;
      }
    }
    return i + take;
  }

  private readChunkSize(bytes: Buffer, i: number, ts: number): number {
    const next = this.chunkLine.feed(bytes, i);
    if (this.chunkLine.failure !== null) {
      this.bodyFailed(`chunk-size ${this.chunkLine.failure}`, ts);
      return next;
    }
    if (!this.chunkLine.done) return next;
    const size = parseChunkSize(this.chunkLine.takeText().replace(/\r?\n$/, ''));
    if (typeof size === 'string') this.bodyFailed(size, ts);
    else if (size === 0) this.state = 'trailers';
    else {
      this.remaining = size;
      this.state = 'chunk-data';
    }
    return next;
  }

  private readChunkEnd(bytes: Buffer, i: number, ts: number): number {
    const b = bytes[i];
    if (b === 0x0d && !this.crSeen) {
      this.crSeen = true;
      return i + 1;
    }
    if (b === 0x0a) {
      this.state = 'chunk-size';
      return i + 1;
    }
    this.bodyFailed('chunk data not followed by CRLF', ts);
    return i;
  }

  private readTrailers(bytes: Buffer, i: number, ts: number): number {
    const next = this.trailerBlock.feed(bytes, i);
    if (this.trailerBlock.failure !== null) {
      this.bodyFailed(`trailer section: ${this.trailerBlock.failure}`, ts);
      return next;
    }
    if (!this.trailerBlock.done) return next;
    const trailers = parseTrailers(this.trailerBlock.takeText());
    if (typeof trailers === 'string') return this.bodyFailed(trailers, ts), next;
    if (this.msg && trailers.length > 0) this.msg.trailers = trailers;
    this.finish(ts);
    return next;
  }

  /** The message in progress ends (whole or not); choose the next state, then tell the consumer. */
  private finish(ts: number): void {
    const msg = this.msg;
    this.msg = null;
    this.remaining = 0;
    this.fromSync = false;
    if (!msg) return;
    msg.endTs = ts;
    this.messages++;
    if (msg.framing === 'tunnel') this.state = 'opaque';
    else if (msg.head.kind === 'request' && mayLeaveHttp(msg.head)) this.state = 'hold';
    else this.state = 'head';
    this.events.message(msg);
  }

  private markGap(msg: ParsedMessage, n: number): void {
    msg.body.gap(n);
    msg.incomplete ??= `capture gap of ${n} bytes in the ${this.opts.kind} body`;
  }

  private headFailed(reason: string): void {
    const badLine = this.block.badLine();
    this.block.reset();
    this.headChecked = false;
    if (this.fromSync) {
      // A false start found while resynchronising: keep scanning, from the line that gave it away
      // (a real start line is never a valid field line, so it may be that one).
      this.fromSync = false;
      if (badLine) this.pushback = { bytes: badLine, ts: this.startTs };
      return this.resync(false);
    }
    if (this.messages === 0 && this.opts.atMessageStart) {
      this.state = 'dead';
      return this.events.notHttp(reason);
    }
    this.events.error(reason);
    if (badLine) this.pushback = { bytes: badLine, ts: this.startTs };
    this.resync(false);
  }

  private bodyFailed(reason: string, ts: number): void {
    const msg = this.msg;
    if (msg) {
      msg.parseError = reason;
      msg.incomplete ??= `HTTP parse error in the ${this.opts.kind} body: ${reason}`;
    }
    this.finish(ts);
    this.resync(false);
  }

  /** Look for the next start line; `afterGap` when bytes were lost just before. */
  private resync(afterGap: boolean): void {
    this.block.reset();
    this.trailerBlock.reset();
    this.chunkLine.reset();
    this.headChecked = false;
    this.fromSync = false;
    if (afterGap) this.scanner.reset();
    if (this.state === 'dead' || this.state === 'opaque') return;
    this.state = 'sync';
  }

  private resetBuffers(): void {
    this.block.reset();
    this.trailerBlock.reset();
    this.chunkLine.reset();
    this.scanner.reset();
    this.pushback = null;
  }

  private hold(bytes: Buffer, ts: number): void {
    if (this.heldBytes + bytes.length > this.maxHead || !this.opts.budget.tryTake(bytes.length)) {
      // The client kept talking without waiting for the verdict: it is speaking the new protocol.
      this.toOpaque();
      this.ignoredBytes += bytes.length;
      return;
    }
    this.held.push({ bytes: Buffer.from(bytes), gap: 0, ts });
    this.heldBytes += bytes.length;
  }

  private dropHeld(): void {
    this.opts.budget.release(this.heldBytes);
    this.held = [];
    this.heldBytes = 0;
  }
}
