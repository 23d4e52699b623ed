import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeBody } from '../../../capture/pcap/http-body-decode.js';
import { orderListJson, zstdFixture } from './zstd-fixtures.js';

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

  describe('zstd (fzstd via store/zstd-decoder.ts, on every Node)', () => {
    // Real zstd CLI output; how it was made: test/capture/pcap/zstd-fixtures.ts.
    const ORDERS = orderListJson();
    const ORDERS_ZST = zstdFixture('orders.json.zst');

    it('undoes zstd, alone and under gzip; the original encoding is recorded', () => {
      const d = whole(ORDERS_ZST, ['zstd']);
      expect(d.bytes.equals(ORDERS)).toBe(true);
      expect(d).toMatchObject({ size: ORDERS.length, exact: true, truncated: false, contentEncoding: 'zstd', notes: [] });
      const layered = whole(zlib.gzipSync(ORDERS_ZST), ['zstd', 'gzip']);
      expect(layered.bytes.equals(ORDERS)).toBe(true);
      expect(layered.contentEncoding).toBe('zstd, gzip');
    });

    it('a cut capture keeps the decoded head; a whole wire body with a short frame says the stream ends early', () => {
      const cut = decodeBody(ORDERS_ZST.subarray(0, 30_000), { codings: ['zstd'], wireComplete: false, wireSize: ORDERS_ZST.length, cap: CAP });
      expect(cut).toMatchObject({ truncated: true, exact: false, contentEncoding: 'zstd' });
      expect(cut.bytes.length).toBeGreaterThan(0);
      expect(ORDERS.subarray(0, cut.bytes.length).equals(cut.bytes)).toBe(true);
      expect(cut.notes[0]).toMatch(/only part of the encoded body/);
      const short = whole(ORDERS_ZST.subarray(0, ORDERS_ZST.length - 10), ['zstd']);
      expect(short.truncated).toBe(true);
      expect(ORDERS.subarray(0, short.bytes.length).equals(short.bytes)).toBe(true);
      expect(short.notes[0]).toMatch(/ends early/);
    });

    it('corrupt zstd: the wire bytes are kept with the reason, never wrongly decoded bytes', () => {
      const bad = Buffer.from(ORDERS_ZST);
      bad[20_000] = bad[20_000]! ^ 0x01; // inside a compressed block: only the frame checksum notices
      const d = whole(bad, ['zstd']);
      expect(d.bytes).toBe(bad);
      expect(d.contentEncoding).toBeUndefined();
      expect(d.notes).toEqual(['zstd decoding failed (zstd content checksum does not match); body stored as received']);
      const junk = whole(Buffer.from('definitely not zstd'), ['zstd']);
      expect(junk.notes[0]).toMatch(/zstd decoding failed \(not zstd data/);
    });

    it('a window over 8 MiB is refused; a bomb stops at the cap', () => {
      const wide = whole(zstdFixture('orders-window-128m.json.zst'), ['zstd']);
      expect(wide.contentEncoding).toBeUndefined();
      expect(wide.notes[0]).toMatch(/zstd decoding failed \(.*over the 8388608-byte limit/);
      const t0 = performance.now();
      const bomb = whole(zstdFixture('zeros-64m.zst'), ['zstd'], 1 << 20); // 64 MiB of zeros in ~2 KiB
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(bomb.bytes.length).toBe(1 << 20);
      expect(bomb).toMatchObject({ truncated: true, exact: false, contentEncoding: 'zstd' });
      expect(bomb.notes[0]).toMatch(/larger than the 1048576-byte cap/);
    });
  });
});
