import { Readable } from 'node:stream';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { collectBody } from '../../../replay/diff/comparable-body.js';

/**
 * Live response bodies are decoded while streaming, capped, and hashed whole.
 * Inputs are real encoder output (node:zlib) and, for zstd, bytes made by the
 * zstd CLI (`printf … | zstd -c | base64`), since node:zlib on Node 20 cannot encode it.
 */

const TEXT = '{"id":42,"tags":["a","b"]}';
const ZSTD = Buffer.from('KLUv/QRY0QAAeyJpZCI6NDIsInRhZ3MiOlsiYSIsImIiXX33bCg9', 'base64');

function chunked(bytes: Buffer, size = 7): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

describe('collectBody', () => {
  it.each([
    ['gzip', gzipSync(TEXT)],
    ['x-gzip', gzipSync(TEXT)],
    ['deflate', deflateSync(TEXT)],
    ['deflate', deflateRawSync(TEXT)], // raw deflate, as some servers send it
    ['br', brotliCompressSync(TEXT)],
    ['zstd', ZSTD],
    ['identity', Buffer.from(TEXT)],
    ['gzip, br', brotliCompressSync(gzipSync(TEXT))], // layered codings are undone in reverse order
  ])('decodes %s in small chunks', async (coding, wire) => {
    const body = await collectBody(chunked(wire), coding, 1 << 20);
    expect(body.bytes.toString()).toBe(TEXT);
    expect(body).toMatchObject({ size: TEXT.length, overCap: false, incomplete: false });
    expect(body.note).toBeUndefined();
  });

  it('caps what it keeps, hashes everything: a 64 MiB gzip bomb costs the cap, not 64 MiB', async () => {
    const bomb = gzipSync(Buffer.alloc(64 << 20));
    const before = process.memoryUsage().arrayBuffers;
    const body = await collectBody(chunked(bomb, 16_384), 'gzip', 4096);
    expect(body.bytes.length).toBe(4096);
    expect(body.size).toBe(64 << 20);
    expect(body.overCap).toBe(true);
    expect(body.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 << 20);
  });

  it('corrupt and truncated encodings keep what decoded and say why', async () => {
    const gz = gzipSync(TEXT.repeat(50));
    const truncated = await collectBody(chunked(gz.subarray(0, gz.length - 12)), 'gzip', 1 << 20);
    expect(truncated.incomplete).toBe(true);
    expect(truncated.note).toMatch(/gzip body could not be read whole/);
    const garbage = await collectBody(chunked(Buffer.from('not gzip at all')), 'gzip', 1 << 20);
    expect(garbage.incomplete).toBe(true);
    expect(garbage.note).toMatch(/could not be read whole/);
    const unknown = await collectBody(chunked(Buffer.from('abc')), 'compress', 1 << 20);
    expect(unknown.bytes.toString()).toBe('abc');
    expect(unknown.note).toMatch(/content-encoding compress not supported/);
  });
});
