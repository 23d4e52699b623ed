import { isUtf8 } from 'node:buffer';
import type { Body } from './exchange.js';

/**
 * Wrap bytes as a Body: UTF-8 text when the bytes are valid UTF-8 (so JSON and
 * HTML stay readable in the store and in diffs), base64 otherwise.
 *
 * @example
 * bodyFromBuffer(Buffer.from('{"a":1}')) // { encoding: 'utf8', data: '{"a":1}', size: 7 }
 */
export function bodyFromBuffer(
  bytes: Buffer,
  options: { cap?: number; size?: number; contentEncoding?: string } = {},
): Body | null {
  const size = options.size ?? bytes.length;
  if (size === 0) return null;
  const cap = options.cap ?? Infinity;
  const kept = bytes.length > cap ? bytes.subarray(0, cap) : bytes;
  const truncated = kept.length < size;
  // A cut can split a multi-byte character; base64 keeps such a prefix exact.
  const body: Body = isUtf8(kept)
    ? { encoding: 'utf8', data: kept.toString('utf8'), size }
    : { encoding: 'base64', data: kept.toString('base64'), size };
  if (truncated) body.truncated = true;
  if (options.contentEncoding) body.contentEncoding = options.contentEncoding;
  return body;
}

/** The stored bytes of a body (all of them, or the kept prefix when truncated). */
export function bodyToBuffer(body: Body | null | undefined): Buffer {
  if (!body) return Buffer.alloc(0);
  return Buffer.from(body.data, body.encoding === 'base64' ? 'base64' : 'utf8');
}

/** Number of bytes `data` holds, without materializing them. */
export function storedBodyBytes(body: Body | null | undefined): number {
  if (!body) return 0;
  if (body.encoding === 'utf8') return Buffer.byteLength(body.data, 'utf8');
  const d = body.data;
  const pad = d.endsWith('==') ? 2 : d.endsWith('=') ? 1 : 0;
  return (d.length * 3) / 4 - pad;
}
