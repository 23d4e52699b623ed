import { readFileSync } from 'node:fs';

/**
 * The zstd fixtures in test/fixtures/zstd were made by the zstd CLI (v1.5.4) from the body below;
 * node:zlib on Node 20 cannot encode zstd. Rebuild with `npx tsx scripts/make-zstd-fixtures.ts`.
 */

/** A deterministic ~300 KB JSON order list: more than two 128 KiB zstd blocks once decoded. */
export function orderListJson(): Buffer {
  const orders = Array.from({ length: 2500 }, (_, i) => ({
    id: `ord_${(i * 2654435761 >>> 0).toString(36)}`,
    customer: `cus_${(i * 40503 >>> 0).toString(36)}`,
    total: ((i * 7919) % 100_000) / 100,
    currencyCode: i % 3 === 0 ? 'EUR' : 'USD',
    items: [{ sku: `SKU-${i % 97}`, qty: 1 + (i % 5) }],
  }));
  return Buffer.from(JSON.stringify({ orders }));
}

export function zstdFixture(name: string): Buffer {
  return readFileSync(new URL(`../../fixtures/zstd/${name}`, import.meta.url));
}
