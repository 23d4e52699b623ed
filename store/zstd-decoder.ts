import { Decompress } from 'fzstd';
import { XxHash64 } from './xxhash64.js';

/**
 * zstd Content-Encoding decoder shared by capture (stored bodies) and diff
 * (live responses): node:zlib has zstd only from Node 22.15, so both use fzstd
 * (pure JS) through this wrapper, which adds what a decoder of hostile input
 * needs and fzstd leaves out:
 *
 * - Window bound. fzstd allocates a frame's whole declared window up front
 *   (up to 2 GiB from an 18-byte header). Frame headers are read here first
 *   and a window over 8 MiB is refused before fzstd sees it: RFC 9659 limits
 *   the window of the `zstd` content coding to 8 MiB, so no conforming server
 *   sends more.
 * - Output bound. `maxOutput` stops decoding once that many bytes came out
 *   (a 1 KiB bomb of RLE blocks expands to ~32 MiB); `exceeded` says so.
 * - Integrity. A frame's declared content size and its XXH64 checksum are
 *   checked (fzstd skips both), so corrupt input is an error rather than wrong
 *   bytes. Bytes reach `onData` block by block before the frame's checksum is
 *   known: a caller that must not keep wrong bytes keeps them only when
 *   push(…, true) returned without throwing.
 *
 * The frame walker is a small state machine over the byte stream: frame
 * magic → frame header → (block header → block content)* → checksum, with
 * skippable frames passed over. It never buffers more than one header.
 */

/** RFC 9659 §3: decoders of the zstd content coding need not support larger windows. */
export const ZSTD_MAX_WINDOW = 8 << 20;

export const ZSTD_MAGIC = 0xfd2fb528;

/** Why zstd input could not be decoded; `truncated` when the input simply stopped early. */
export class ZstdDecodeError extends Error {
  constructor(message: string, readonly truncated = false) {
    super(message);
    this.name = 'ZstdDecodeError';
  }
}

export interface ZstdDecoderOptions {
  /** Stop after this many decoded bytes (the bytes past it are not produced). */
  maxOutput?: number;
  /** Largest frame window accepted (default ZSTD_MAX_WINDOW). */
  maxWindow?: number;
}

type Phase = 'magic' | 'frame-header' | 'skippable-size' | 'block-header' | 'block' | 'checksum' | 'skip';

const OUTPUT_LIMIT = Symbol('zstd output limit');
const EMPTY = new Uint8Array(0);

export class ZstdDecoder {
  /** Decoding stopped at `maxOutput`. */
  exceeded = false;
  /** Decoded bytes handed to onData. */
  produced = 0;
  private readonly maxOutput: number;
  private readonly maxWindow: number;
  // Frame walker state: the phase, the header bytes gathered for it, and the bytes still to pass over.
  private phase: Phase = 'magic';
  private readonly header = new Uint8Array(18);
  private headerLength = 0;
  private need = 4;
  private remaining = 0;
  private afterBlock: Phase = 'block-header';
  // The frame being decoded: one fzstd instance per frame, ended with final=true so every block of the
  // frame has come out before its size and checksum are checked.
  private fz: Decompress | undefined;
  private frameSize = -1;
  private frameProduced = 0;
  private hash: XxHash64 | undefined;
  private hasChecksum = false;
  private failed: Error | undefined;
  // The chunk being walked, the walker's position in it, and where its unfed frame bytes start (-1: none).
  private chunk: Uint8Array = EMPTY;
  private pos = 0;
  private feedFrom = -1;

  constructor(private readonly onData: (chunk: Uint8Array) => void, options: ZstdDecoderOptions = {}) {
    this.maxOutput = options.maxOutput ?? Infinity;
    this.maxWindow = options.maxWindow ?? ZSTD_MAX_WINDOW;
  }

  /**
   * Decode the next piece of input; `final` says no more follows. Throws
   * ZstdDecodeError on corrupt or truncated input (and again on every later
   * call). After `exceeded`, input is ignored.
   *
   * @example
   * const out: Uint8Array[] = [];
   * new ZstdDecoder((c) => out.push(c)).push(zstdBytes, true);
   */
  push(chunk: Uint8Array, final = false): void {
    if (this.exceeded) return;
    if (this.failed) throw this.failed;
    try {
      this.walk(chunk);
      if (final && !(this.phase === 'magic' && this.headerLength === 0)) throw new ZstdDecodeError('zstd stream ends early', true);
    } catch (err) {
      if (err === OUTPUT_LIMIT) {
        this.exceeded = true;
        return;
      }
      this.failed = err instanceof ZstdDecodeError ? err : fromFzstd(err);
      throw this.failed;
    }
  }

  private emit(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.frameProduced += chunk.length;
    if (this.frameSize >= 0 && this.frameProduced > this.frameSize) throw new ZstdDecodeError('zstd frame decodes to more bytes than its header declares');
    this.hash?.update(chunk);
    const room = this.maxOutput - this.produced;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (part.length > 0) {
      this.produced += part.length;
      this.onData(part);
    }
    if (chunk.length > room) throw OUTPUT_LIMIT;
  }

  /**
   * Advance the frame walker over `chunk`. fzstd is given the frame's bytes
   * of this chunk in one piece (from `feedFrom`), at the frame's end or the
   * chunk's end, so only after the walker has checked every header in them.
   */
  private walk(chunk: Uint8Array): void {
    this.chunk = chunk;
    this.pos = 0;
    this.feedFrom = this.fz ? 0 : -1;
    while (this.pos < chunk.length) {
      if (this.phase === 'block' || this.phase === 'skip') {
        const n = Math.min(this.remaining, chunk.length - this.pos);
        this.remaining -= n;
        this.pos += n;
        if (this.remaining === 0) this.afterBytes();
        continue;
      }
      const n = Math.min(this.need - this.headerLength, chunk.length - this.pos);
      this.header.set(chunk.subarray(this.pos, this.pos + n), this.headerLength);
      this.headerLength += n;
      this.pos += n;
      if (this.headerLength === this.need) this.step();
    }
    this.feed();
    this.chunk = EMPTY;
  }

  /** Give fzstd the current frame's bytes of this chunk that it has not had. */
  private feed(): void {
    if (this.feedFrom >= 0 && this.pos > this.feedFrom) this.fz!.push(this.chunk.subarray(this.feedFrom, this.pos));
    this.feedFrom = -1;
  }

  /** A whole header of the current phase is in `this.header`. */
  private step(): void {
    const h = this.header;
    const view = new DataView(h.buffer, 0, this.headerLength);
    switch (this.phase) {
      case 'magic': {
        const magic = view.getUint32(0, true);
        if (magic === ZSTD_MAGIC) {
          // The frame header descriptor (byte 4) says how long the whole frame header is.
          if (this.headerLength === 4) this.need = 5;
          else {
            this.phase = 'frame-header';
            this.need = frameHeaderLength(h[4]!);
            if (this.need === this.headerLength) this.step();
          }
        } else if ((magic & 0xfffffff0) === 0x184d2a50) {
          this.phase = 'skippable-size';
          this.need = 8;
        } else {
          throw new ZstdDecodeError(this.produced === 0 ? 'not zstd data (bad magic number)' : 'bytes after the last zstd frame are not a zstd frame');
        }
        return;
      }
      case 'skippable-size':
        return this.passOver(view.getUint32(4, true), 'skip');
      case 'frame-header':
        this.startFrame(h, view);
        // The frame header may have come in pieces: give fzstd the gathered copy, then this chunk from here on.
        this.fz!.push(h.slice(0, this.headerLength));
        this.feedFrom = this.pos;
        return this.expectHeader('block-header', 3);
      case 'block-header': {
        const bits = h[0]! | (h[1]! << 8) | (h[2]! << 16);
        const type = (bits >> 1) & 3;
        const size = bits >>> 3;
        if (type === 3) throw new ZstdDecodeError('zstd block has the reserved type');
        if (size > 128 << 10) throw new ZstdDecodeError('zstd block is larger than 128 KiB');
        this.afterBlock = (bits & 1) === 0 ? 'block-header' : this.hasChecksum ? 'checksum' : 'magic';
        return this.passOver(type === 1 ? 1 : size, 'block');
      }
      case 'checksum':
        return this.endFrame(view.getUint32(0, true));
      default:
        return;
    }
  }

  /** The bytes of a block or a skippable frame have all passed. */
  private afterBytes(): void {
    if (this.phase === 'skip') return this.expectHeader('magic', 4);
    if (this.afterBlock === 'magic') return this.endFrame(undefined);
    this.expectHeader(this.afterBlock, this.afterBlock === 'checksum' ? 4 : 3);
  }

  /** Check a frame header (window within the bound, no dictionary, reserved bit clear) and start decoding it. */
  private startFrame(h: Uint8Array, view: DataView): void {
    const fhd = h[4]!;
    if (fhd & 0x08) throw new ZstdDecodeError('zstd frame header has the reserved bit set');
    const singleSegment = (fhd >> 5) & 1;
    const dictBytes = [0, 1, 2, 4][fhd & 3]!;
    const fcsBytes = [singleSegment, 2, 4, 8][fhd >> 6]!;
    let at = 5 + (singleSegment ? 0 : 1);
    const dictId = dictBytes === 0 ? 0 : dictBytes === 1 ? h[at]! : dictBytes === 2 ? view.getUint16(at, true) : view.getUint32(at, true);
    if (dictId !== 0) throw new ZstdDecodeError('zstd frame needs a dictionary');
    at += dictBytes;
    let contentSize = -1;
    if (fcsBytes === 1) contentSize = h[at]!;
    else if (fcsBytes === 2) contentSize = view.getUint16(at, true) + 256;
    else if (fcsBytes === 4) contentSize = view.getUint32(at, true);
    else if (fcsBytes === 8) contentSize = Number(view.getBigUint64(at, true));
    let window = contentSize;
    if (!singleSegment) {
      const wd = h[5]!;
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
    }
    if (window > this.maxWindow) throw new ZstdDecodeError(`zstd frame needs a ${window}-byte window, over the ${this.maxWindow}-byte limit (RFC 9659)`);
    this.frameSize = contentSize;
    this.frameProduced = 0;
    this.hasChecksum = ((fhd >> 2) & 1) === 1;
    this.hash = this.hasChecksum ? new XxHash64() : undefined;
    this.fz = new Decompress((chunk) => this.emit(chunk));
  }

  /** Every byte of the frame was given to fzstd: flush it, then check size and checksum. */
  private endFrame(checksum: number | undefined): void {
    this.feed();
    this.fz!.push(EMPTY, true);
    this.fz = undefined;
    this.feedFrom = -1;
    if (this.frameSize >= 0 && this.frameProduced !== this.frameSize) {
      throw new ZstdDecodeError(`zstd frame decoded to ${this.frameProduced} bytes, its header declares ${this.frameSize}`);
    }
    if (checksum !== undefined && this.hash && this.hash.digestLow32() !== checksum) {
      throw new ZstdDecodeError('zstd content checksum does not match');
    }
    this.expectHeader('magic', 4);
  }

  private expectHeader(phase: Phase, need: number): void {
    this.phase = phase;
    this.need = need;
    this.headerLength = 0;
  }

  private passOver(bytes: number, phase: 'block' | 'skip'): void {
    this.headerLength = 0;
    this.phase = phase;
    this.remaining = bytes;
    if (bytes === 0) this.afterBytes();
  }
}

/** Frame header length from its descriptor byte: magic, descriptor, window byte, dictionary id, content size. */
function frameHeaderLength(fhd: number): number {
  const singleSegment = (fhd >> 5) & 1;
  return 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][fhd & 3]! + [singleSegment, 2, 4, 8][fhd >> 6]!;
}

function fromFzstd(err: unknown): ZstdDecodeError {
  const code = (err as { code?: unknown } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return new ZstdDecodeError(`zstd: ${message}`, code === 5);
}
