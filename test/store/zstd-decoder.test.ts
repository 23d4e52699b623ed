import { describe, expect, it } from 'vitest';
import { ZSTD_MAX_WINDOW, ZstdDecodeError, ZstdDecoder } from '../../store/zstd-decoder.js';
import { orderListJson, zstdFixture } from '../capture/pcap/zstd-fixtures.js';

/** Real zstd CLI output (see test/capture/pcap/zstd-fixtures.ts); hostile variants are derived from it. */
const ORDERS = orderListJson();
const ORDERS_ZST = zstdFixture('orders.json.zst');

function decode(input: Buffer, options: { maxOutput?: number; chunk?: number } = {}): { bytes: Buffer; decoder: ZstdDecoder; error?: ZstdDecodeError } {
  const out: Buffer[] = [];
  const decoder = new ZstdDecoder((c) => out.push(Buffer.from(c)), options);
  const step = options.chunk ?? input.length;
  try {
    for (let i = 0; i < input.length; i += step) decoder.push(input.subarray(i, i + step));
    decoder.push(new Uint8Array(0), true);
  } catch (err) {
    if (!(err instanceof ZstdDecodeError)) throw err;
    return { bytes: Buffer.concat(out), decoder, error: err };
  }
  return { bytes: Buffer.concat(out), decoder };
}

/** The same frame without its checksum: clear the descriptor's checksum flag, drop the last 4 bytes. */
function withoutChecksum(frame: Buffer): Buffer {
  const copy = Buffer.from(frame.subarray(0, frame.length - 4));
  copy[4] = copy[4]! & ~0x04;
  return copy;
}

describe('ZstdDecoder', () => {
  it('decodes real CLI output (several blocks, checksum, content size), whole and in any chunking', () => {
    for (const chunk of [ORDERS_ZST.length, 65_536, 1000, 7, 1]) {
      const r = decode(ORDERS_ZST, { chunk });
      expect(r.error, `chunk ${chunk}`).toBeUndefined();
      expect(r.bytes.equals(ORDERS), `chunk ${chunk}`).toBe(true);
    }
  });

  it('decodes concatenated frames, skippable frames and a frame without checksum', () => {
    const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0]), Buffer.from('abc')]);
    const r = decode(Buffer.concat([ORDERS_ZST, skippable, withoutChecksum(ORDERS_ZST)]), { chunk: 4096 });
    expect(r.error).toBeUndefined();
    expect(r.bytes.equals(Buffer.concat([ORDERS, ORDERS]))).toBe(true);
    expect(decode(Buffer.alloc(0)).bytes.length).toBe(0);
  });

  it('refuses a window over 8 MiB (RFC 9659) before fzstd allocates it', () => {
    const r = decode(zstdFixture('orders-window-128m.json.zst'));
    expect(r.error?.message).toMatch(/134217728-byte window, over the 8388608-byte limit/);
    expect(r.bytes.length).toBe(0);
    // A hostile 18-byte header declaring a 2 GiB single-segment frame: refused, nothing allocated.
    const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0x01, 0, 0]);
    expect(decode(header).error?.message).toMatch(/window/);
    expect(ZSTD_MAX_WINDOW).toBe(8 << 20);
  });

  it('stops a decompression bomb at maxOutput', () => {
    const bomb = zstdFixture('zeros-64m.zst'); // 64 MiB of zeros in ~2 KiB
    const t0 = performance.now();
    const r = decode(bomb, { maxOutput: 1 << 20 });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(r.error).toBeUndefined();
    expect(r.decoder.exceeded).toBe(true);
    expect(r.bytes.length).toBe(1 << 20);
    expect(r.bytes.every((b) => b === 0)).toBe(true);
  });

  it('truncated input: a truncation error, and only whole decoded blocks came out', () => {
    for (const cut of [3, 5, 12, 20_000, ORDERS_ZST.length - 2]) {
      const r = decode(ORDERS_ZST.subarray(0, cut));
      expect(r.error?.truncated, `cut ${cut}`).toBe(true);
      expect(ORDERS.subarray(0, r.bytes.length).equals(r.bytes), `cut ${cut}`).toBe(true);
    }
  });

  it('corrupted input: every single-byte flip is an error, never silently wrong bytes', () => {
    // The XXH64 checksum is what catches a flip inside literals: fzstd alone (and a frame made with
    // --no-check) decodes most such flips to wrong bytes without any error, so a frame without a
    // checksum is only as safe as its format checks and declared size.
    let flips = 0;
    for (let at = 0; at < ORDERS_ZST.length; at += 997) {
      const bad = Buffer.from(ORDERS_ZST);
      bad[at] = bad[at]! ^ 0x20;
      const r = decode(bad);
      flips++;
      expect(r.error, `flip at ${at}`).toBeInstanceOf(ZstdDecodeError);
    }
    expect(flips).toBeGreaterThan(40);
    const junk = decode(Buffer.from('definitely not zstd data'));
    expect(junk.error?.message).toMatch(/not zstd data/);
    expect(decode(Buffer.concat([ORDERS_ZST, Buffer.from('trailing')])).error?.message).toMatch(/after the last zstd frame/);
  });

  it('hostile headers: reserved bits and block types, dictionaries, an error repeats on the next push', () => {
    const reserved = Buffer.from(ORDERS_ZST);
    reserved[4] = reserved[4]! | 0x08;
    expect(decode(reserved).error?.message).toMatch(/reserved bit/);
    const dict = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x01, 0x00, 0x07, 0x01, 0x00, 0x00]);
    expect(decode(dict).error?.message).toMatch(/dictionary/);
    const blockType3 = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 0x07, 0x00, 0x00]);
    expect(decode(blockType3).error?.message).toMatch(/reserved type/);
    const d = new ZstdDecoder(() => {});
    expect(() => d.push(Buffer.from('nope'))).toThrow(ZstdDecodeError);
    expect(() => d.push(ORDERS_ZST, true)).toThrow(/not zstd data/);
  });

  it('fuzz: random bytes after a real header never throw anything but ZstdDecodeError', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let n = 0; n < 300; n++) {
      const junk = Buffer.from(Array.from({ length: 1 + (n % 200) }, rand));
      const input = Buffer.concat([ORDERS_ZST.subarray(0, 6 + (n % 40)), junk]);
      const r = decode(input, { maxOutput: 1 << 20 });
      expect(r.bytes.length).toBeLessThanOrEqual(1 << 20);
    }
  });
});
