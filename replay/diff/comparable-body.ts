import { createHash, type Hash } from 'node:crypto';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import type { Body } from '../../store/exchange.js';
import { bodyToBuffer } from '../../store/body.js';
import { ZSTD_MAGIC, ZstdDecoder } from '../../store/zstd-decoder.js';
import type { ComparableBody } from './diff-types.js';

/**
 * Bodies as the comparer sees them: decoded (gzip, deflate, br, zstd), at most
 * `cap` bytes kept in memory, every decoded byte hashed. A body over the cap
 * is compared by size and sha256 — exact, but without a field-level diff —
 * and the report says so. zstd is decoded by store/zstd-decoder.ts (fzstd,
 * pure JS, shared with capture) because node:zlib has zstd only from Node
 * 22.15; it refuses windows over 8 MiB and checks frame checksums.
 */

/** Keeps the first `cap` bytes and hashes all of them. */
export class BodySink {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private size = 0;
  private readonly hash: Hash = createHash('sha256');
  note: string | undefined;

  constructor(private readonly cap: number) {}

  push(chunk: Uint8Array): void {
    this.size += chunk.length;
    this.hash.update(chunk);
    if (this.kept < this.cap) {
      const room = this.cap - this.kept;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.chunks.push(Buffer.from(part));
      this.kept += part.length;
    }
  }

  finish(incomplete = false): ComparableBody {
    const body: ComparableBody = {
      bytes: this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.kept),
      size: this.size,
      sha256: this.hash.digest('hex'),
      overCap: this.size > this.cap,
      incomplete,
    };
    if (this.note) body.note = this.note;
    return body;
  }
}

/** A whole stored UTF-8 body: the text is what JSON and line comparison need; bytes are encoded on first use. */
class StoredTextBody implements ComparableBody {
  readonly overCap = false;
  readonly incomplete = false;
  sha256?: string;
  private encoded: Buffer | undefined;

  constructor(
    readonly text: string,
    readonly size: number,
  ) {}

  get bytes(): Buffer {
    this.encoded ??= Buffer.from(this.text, 'utf8');
    return this.encoded;
  }
}

/**
 * A stored body (already decoded by the capture) as a ComparableBody. The one
 * encoding older captures on Node 20 left encoded, zstd, is decoded here.
 *
 * @example
 * storedBodyToComparable({ encoding: 'utf8', data: '{"a":1}', size: 7 }, 1 << 20).size // 7
 */
export function storedBodyToComparable(body: Body | null, cap: number): ComparableBody | null {
  if (!body) return null;
  if (body.encoding === 'utf8' && !body.truncated) {
    const size = Buffer.byteLength(body.data, 'utf8');
    // Stored text under the cap: compared as the string it already is; bytes made only if a binary check asks.
    if (size <= cap) return new StoredTextBody(body.data, size);
  }
  const bytes = bodyToBuffer(body);
  const stillZstd = /\bzstd\b/.test(body.contentEncoding ?? '') && bytes.length >= 4 && bytes.readUInt32LE(0) === ZSTD_MAGIC;
  if (stillZstd) {
    const sink = new BodySink(cap);
    try {
      new ZstdDecoder((chunk) => sink.push(chunk)).push(bytes, true);
      return sink.finish(body.truncated === true);
    } catch (err) {
      const raw = new BodySink(cap);
      raw.push(bytes);
      raw.note = `zstd decoding failed (${(err as Error).message}); compared as stored`;
      return raw.finish(body.truncated === true);
    }
  }
  if (bytes.length <= cap && !body.truncated) {
    // The whole body, in memory already: compared byte for byte, hashed only if a report needs a digest.
    return { bytes, size: bytes.length, overCap: false, incomplete: false };
  }
  const sink = new BodySink(cap);
  sink.push(bytes);
  const out = sink.finish(body.truncated === true);
  // The stored prefix is all there is: its size is the recorded full size, its hash only covers the prefix.
  if (body.truncated) out.size = body.size;
  return out;
}

/**
 * Decode a live response body stream with its Content-Encoding chain into a
 * ComparableBody. A coding that fails mid-stream keeps what was decoded and
 * says why in `note`.
 */
export async function collectBody(source: Readable, contentEncoding: string | undefined, cap: number): Promise<ComparableBody> {
  const codings = (contentEncoding ?? '').split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
  const sink = new BodySink(cap);
  const unknown = codings.find((c) => !DECODERS.has(c));
  const decoders = unknown ? [] : codings.reverse().map((c) => DECODERS.get(c)!());
  if (unknown) sink.note = `content-encoding ${unknown} not supported; compared as received`;
  const writable = new Writable({
    write(chunk: Buffer, _enc, cb) {
      sink.push(chunk);
      cb();
    },
  });
  try {
    await pipeline([source, ...decoders, writable]);
  } catch (err) {
    sink.note = `${codings.join(', ')} body could not be read whole (${(err as Error).message}); compared what was decoded`;
    source.destroy();
    return sink.finish(true);
  }
  return sink.finish();
}

const DECODERS = new Map<string, () => Transform>([
  ['gzip', () => zlib.createGunzip()],
  ['x-gzip', () => zlib.createGunzip()],
  ['br', () => zlib.createBrotliDecompress()],
  ['deflate', () => inflateEither()],
  ['zstd', () => zstdTransform()],
]);

/** "deflate" is zlib-wrapped by the RFC, but real servers also send raw deflate: decide on the first bytes. */
function inflateEither(): Transform {
  let inner: zlib.Inflate | zlib.InflateRaw | undefined;
  const outer: Transform = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (!inner) {
        const b0 = chunk[0] ?? 0;
        const b1 = chunk[1] ?? 0;
        inner = (b0 & 0x0f) === 8 && ((b0 << 8) | b1) % 31 === 0 ? zlib.createInflate() : zlib.createInflateRaw();
        inner.on('data', (d: Buffer) => outer.push(d));
        inner.on('error', (e) => outer.destroy(e));
      }
      if (inner.write(chunk)) cb();
      else inner.once('drain', cb);
    },
    flush(cb) {
      if (!inner) return cb();
      inner.once('end', cb);
      inner.end();
    },
  });
  return outer;
}

function zstdTransform(): Transform {
  let decoder: ZstdDecoder | undefined;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      decoder ??= new ZstdDecoder((d) => this.push(Buffer.from(d)));
      try {
        decoder.push(chunk);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb) {
      try {
        decoder?.push(new Uint8Array(0), true);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}
