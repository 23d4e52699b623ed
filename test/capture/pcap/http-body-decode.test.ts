import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeBody, zstdSupported } from '../../../capture/pcap/http-body-decode.js';

const TEXT = Buffer.from('{"msg":"hello"}'.repeat(100));
const CAP = 1 << 20;
const whole = (wire: Buffer, codings: string[], cap = CAP) => decodeBody(wire, { codings, wireComplete: true, wireSize: wire.length, cap });

describe('decodeBody', () => {
  const cases: Array<[string[], Buffer]> = [
    [['gzip'], zlib.gzipSync(TEXT)],
    [['x-gzip'], zlib.gzipSync(TEXT)],
    [['deflate'], zlib.deflateSync(TEXT)],
    [['deflate'], zlib.deflateRawSync(TEXT)],
    [['br'], zlib.brotliCompressSync(TEXT)],
    [['gzip', 'br'], zlib.brotliCompressSync(zlib.gzipSync(TEXT))],
    [['deflate', 'gzip'], zlib.gzipSync(zlib.deflateRawSync(TEXT))],
  ];
  for (const [codings, wire] of cases) {
    it(`undoes ${codings.join(', ')}`, () => {
      const d = whole(wire, codings);
      expect(d.bytes.equals(TEXT)).toBe(true);
      expect(d).toMatchObject({ size: TEXT.length, exact: true, truncated: false, contentEncoding: codings.join(', '), notes: [] });
    });
  }

  it('leaves identity and unencoded bodies alone', () => {
    const d = whole(TEXT, ['identity']);
    expect(d).toMatchObject({ bytes: TEXT, size: TEXT.length, truncated: false });
    expect(d.contentEncoding).toBeUndefined();
    expect(whole(TEXT, [])).toMatchObject({ bytes: TEXT, truncated: false });
  });

  it('keeps the wire bytes of an unsupported encoding, with a note', () => {
    const d = whole(TEXT, ['compress']);
    expect(d.bytes).toBe(TEXT);
    expect(d.contentEncoding).toBeUndefined();
    expect(d.notes[0]).toMatch(/compress not supported/);
  });

  it('keeps the wire bytes of corrupt data, with the error, and does not throw', () => {
    for (const codings of [['gzip'], ['deflate'], ['br'], ['gzip', 'br']]) {
      const junk = Buffer.from('definitely not compressed data');
      const d = whole(junk, codings);
      expect(d.bytes).toBe(junk);
      expect(d.contentEncoding).toBeUndefined();
      expect(d.notes[0]).toMatch(/decoding failed/);
    }
  });

  it('decodes the captured prefix of a truncated body; the size is a lower bound', () => {
    const big = Buffer.from(Array.from({ length: 100_000 }, (_, i) => String(i)).join(','));
    const wire = zlib.gzipSync(big);
    const d = decodeBody(wire.subarray(0, wire.length >> 1), { codings: ['gzip'], wireComplete: false, wireSize: wire.length, cap: CAP });
    expect(d.truncated).toBe(true);
    expect(d.exact).toBe(false);
    expect(d.bytes.length).toBeGreaterThan(0);
    expect(big.subarray(0, d.bytes.length).equals(d.bytes)).toBe(true);
  });

  it('notes a compressed stream that ends early although the wire body was whole', () => {
    const wire = zlib.gzipSync(TEXT).subarray(0, 40);
    const d = whole(wire, ['gzip']);
    expect(d.truncated).toBe(true);
    expect(d.notes[0]).toMatch(/ends early/);
  });

  it('caps a decompression bomb at the storage cap', () => {
    const bomb = zlib.gzipSync(Buffer.alloc(32 << 20), { level: 1 }); // ~32 KiB on the wire
    const t0 = performance.now();
    const d = whole(bomb, ['gzip'], 1 << 20);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(d.bytes.length).toBeLessThanOrEqual(1 << 20);
    expect(d.bytes.length).toBeGreaterThan(1 << 19);
    expect(d).toMatchObject({ truncated: true, exact: false, contentEncoding: 'gzip' });
    expect(d.notes[0]).toMatch(/lower bound/);
    const br = whole(zlib.brotliCompressSync(Buffer.alloc(8 << 20)), ['br'], 1 << 16);
    expect(br.bytes.length).toBeLessThanOrEqual(1 << 16);
    expect(br.truncated).toBe(true);
  });

  it('zstd: decoded where node:zlib has it, else kept as received with a note', () => {
    const z = zlib as unknown as { zstdCompressSync?: (b: Buffer) => Buffer };
    if (zstdSupported && z.zstdCompressSync) {
      const d = whole(z.zstdCompressSync(TEXT), ['zstd']);
      expect(d.bytes.equals(TEXT)).toBe(true);
      expect(d.contentEncoding).toBe('zstd');
    } else {
      const wire = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]);
      const d = whole(wire, ['zstd']);
      expect(d.bytes).toBe(wire);
      expect(d.contentEncoding).toBe('zstd');
      expect(d.notes).toEqual(['zstd not decoded on this Node; body stored as received']);
    }
  });
});
