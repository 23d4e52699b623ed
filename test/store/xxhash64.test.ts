import { describe, expect, it } from 'vitest';
import { XxHash64 } from '../../store/xxhash64.js';

/**
 * Expected digests of the first n bytes of (i * 31) & 255. The low 32 bits of
 * each were checked against the content checksum the zstd CLI (v1.5.4) wrote
 * for the same bytes (`zstd -c | tail -c 4`); the full 64 bits against a
 * straightforward BigInt implementation, and '' against the published
 * XXH64('') = ef46db3751d8e999.
 */
const VECTORS: Array<[number, string]> = [
  [0, 'ef46db3751d8e999'], [1, 'e934a84adb052768'], [3, 'e5d2be4ae4b3469a'], [4, '3b4d7f7c6bd1ae90'],
  [7, 'f952f1901a5afc9b'], [8, '506834122cb7b4d0'], [9, 'ba2f457c2914d838'], [31, 'f9c815c599cbb32d'],
  [32, 'ba7bafd4734262dd'], [33, '791cbe857e7fa007'], [63, 'cc8b2a542e4a451e'], [100, '2bddaad0ee8a2178'],
  [1 << 20, 'ff9907a58797ee04'],
];
const DATA = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 255);

describe('XxHash64', () => {
  it.each(VECTORS)('%i bytes → %s', (n, hex) => {
    const h = new XxHash64();
    h.update(DATA.subarray(0, n));
    expect(h.digestHex()).toBe(hex);
    expect(h.digestLow32()).toBe(parseInt(hex.slice(8), 16));
  });

  it('gives the same digest however the input is split', () => {
    for (const step of [1, 5, 31, 32, 33, 4096]) {
      const h = new XxHash64();
      const input = DATA.subarray(0, 10_000);
      for (let i = 0; i < input.length; i += step) h.update(input.subarray(i, i + step));
      const whole = new XxHash64();
      whole.update(input);
      expect(h.digestHex(), `step ${step}`).toBe(whole.digestHex());
    }
  });
});
