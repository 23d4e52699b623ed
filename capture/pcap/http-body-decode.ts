import * as zlib from 'node:zlib';
import { ZstdDecodeError, ZstdDecoder } from '../../store/zstd-decoder.js';

/**
 * Undo Content-Encoding on a captured body so the store holds readable bytes,
 * keeping the wire encoding's name (Body.contentEncoding) for replay and diff.
 *
 * Bounds: the output of every layer is capped at `cap` bytes with the sync
 * APIs' `maxOutputLength`, so a decompression bomb costs at most `cap` bytes
 * per probe (and ~log2(input) probes to find the largest prefix that fits).
 * zstd goes through store/zstd-decoder.ts (fzstd, also used by the diff) on
 * every Node: it stops at `cap` itself, refuses windows over 8 MiB and checks
 * the frame checksum, so a corrupt zstd body is never stored as wrong bytes.
 * Nothing here throws on bad data: corrupt input leaves the wire bytes in
 * place with a note saying why.
 */

export interface DecodedBody {
  /** The bytes to store (at most `cap` of them when decoding happened). */
  bytes: Buffer;
  /** Decoded size: exact when `exact`, else what could be decoded (a lower bound). */
  size: number;
  exact: boolean;
  /** `bytes` hold less than the whole body. */
  truncated: boolean;
  /** The encoding that was undone. */
  contentEncoding?: string;
  notes: string[];
}

export interface DecodeBodyOptions {
  /** Content-Encoding tokens in header order, lower-cased ('gzip', 'br'). */
  codings: readonly string[];
  /** Every wire byte of the body is in `wire` (no gap, not cut at the cap). */
  wireComplete: boolean;
  /** Wire size of the body, gaps included. */
  wireSize: number;
  /** Largest decoded output kept. */
  cap: number;
}

type SyncDecoder = (input: Buffer, options: zlib.ZlibOptions & zlib.BrotliOptions) => Buffer;

const Z_FLUSH = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
const BR_FLUSH = { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH };
const SUPPORTED = new Set(['gzip', 'x-gzip', 'deflate', 'br', 'zstd']);

/**
 * Decode a body captured with the given Content-Encoding.
 *
 * @example
 * decodeBody(zlib.gzipSync('hi'), { codings: ['gzip'], wireComplete: true, wireSize: 22, cap: 1 << 20 })
 * // { bytes: <Buffer 68 69>, size: 2, exact: true, truncated: false, contentEncoding: 'gzip', notes: [] }
 */
export function decodeBody(wire: Buffer, options: DecodeBodyOptions): DecodedBody {
  const codings = options.codings.filter((c) => c !== 'identity');
  const raw: DecodedBody = { bytes: wire, size: options.wireSize, exact: true, truncated: wire.length < options.wireSize, notes: [] };
  if (codings.length === 0 || options.wireSize === 0) return raw;
  const label = codings.join(', ');
  const unsupported = codings.filter((c) => !SUPPORTED.has(c));
  if (unsupported.length > 0) return { ...raw, notes: [`content-encoding ${unsupported.join(', ')} not supported; body stored as received`] };
  if (wire.length === 0) return { ...raw, size: 0, exact: false, contentEncoding: label, notes: ['no bytes of the encoded body were captured'] };
  let data = wire;
  let complete = options.wireComplete;
  let exceeded = false;
  for (let i = codings.length - 1; i >= 0; i--) {
    const coding = codings[i]!;
    const layer = decodeLayer(coding, data, complete, Math.max(1, options.cap));
    if ('error' in layer) return { ...raw, notes: [`${coding} decoding failed (${layer.error}); body stored as received`] };
    data = layer.bytes;
    if (layer.partial) complete = false;
    if (layer.exceeded) exceeded = true;
  }
  const notes: string[] = [];
  if (exceeded) notes.push(`decoded body is larger than the ${options.cap}-byte cap; size is a lower bound`);
  else if (!options.wireComplete) notes.push('only part of the encoded body was captured; decoded size is a lower bound');
  else if (!complete) notes.push('compressed stream ends early; decoded what was there');
  const whole = complete && !exceeded;
  const bytes = data.length > options.cap ? data.subarray(0, options.cap) : data;
  return { bytes, size: data.length, exact: whole, truncated: !whole || bytes.length < data.length, contentEncoding: label, notes };
}

interface Layer {
  bytes: Buffer;
  partial: boolean;
  exceeded: boolean;
}

function decodeLayer(coding: string, input: Buffer, complete: boolean, cap: number): Layer | { error: string } {
  if (coding === 'zstd') return decodeZstdLayer(input, cap);
  const [fn, flush] = decoderFor(coding);
  if (complete) {
    try {
      return { bytes: fn(input, { maxOutputLength: cap }), partial: false, exceeded: false };
    } catch (err) {
      if (isTooLarge(err)) return { bytes: largestPrefixOutput(fn, input, cap, flush), partial: false, exceeded: true };
      if (!isUnexpectedEnd(err)) return { error: messageOf(err) };
    }
  }
  try {
    return { bytes: fn(input, { maxOutputLength: cap, ...flush }), partial: true, exceeded: false };
  } catch (err) {
    if (isTooLarge(err)) return { bytes: largestPrefixOutput(fn, input, cap, flush), partial: true, exceeded: true };
    return { error: messageOf(err) };
  }
}

function decoderFor(coding: string): [SyncDecoder, object] {
  switch (coding) {
    case 'br': return [zlib.brotliDecompressSync as SyncDecoder, BR_FLUSH];
    case 'deflate': return [inflateEither, Z_FLUSH];
    default: return [zlib.gunzipSync as SyncDecoder, Z_FLUSH];
  }
}

/**
 * zstd, bounded by the decoder itself: it stops after `cap` bytes. A stream
 * that stops early (a cut capture, or a whole wire body whose frame is
 * incomplete) keeps the blocks decoded before the cut, like the zlib layers.
 */
function decodeZstdLayer(input: Buffer, cap: number): Layer | { error: string } {
  const chunks: Buffer[] = [];
  const decoder = new ZstdDecoder((chunk) => chunks.push(Buffer.from(chunk)), { maxOutput: cap });
  let partial = false;
  try {
    decoder.push(input, true);
  } catch (err) {
    if (!(err instanceof ZstdDecodeError && err.truncated)) return { error: messageOf(err) };
    partial = true;
  }
  return { bytes: Buffer.concat(chunks), partial, exceeded: decoder.exceeded };
}

/** "deflate" is zlib-wrapped by the RFC, but real servers also send raw deflate. */
function inflateEither(input: Buffer, options: zlib.ZlibOptions): Buffer {
  const b0 = input[0] ?? 0;
  const b1 = input[1] ?? 0;
  const zlibHeader = (b0 & 0x0f) === 8 && ((b0 << 8) | b1) % 31 === 0;
  if (!zlibHeader) return zlib.inflateRawSync(input, options);
  try {
    return zlib.inflateSync(input, options);
  } catch (err) {
    if (isTooLarge(err)) throw err;
    return zlib.inflateRawSync(input, options);
  }
}

/**
 * The output of the longest input prefix that decodes within `cap` bytes:
 * the stored head of a body too large (or a bomb) to decode whole.
 */
function largestPrefixOutput(fn: SyncDecoder, input: Buffer, cap: number, flush: object): Buffer {
  let lo = 0;
  let hi = input.length;
  let best: Buffer = Buffer.alloc(0);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    try {
      best = fn(input.subarray(0, mid), { maxOutputLength: cap, ...flush });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  return best;
}

function isTooLarge(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ERR_BUFFER_TOO_LARGE';
}

function isUnexpectedEnd(err: unknown): boolean {
  return /unexpected end/i.test(messageOf(err));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
