import { randomUUID } from 'node:crypto';
import type { Exchange } from '../store/exchange.js';

/**
 * Typical diff traffic for the diff benchmark: a product API answering ~2 KB
 * JSON (nested object, arrays of objects, 6 response headers). Baseline and
 * candidate differ on every pair in volatile fields (timestamp, request id,
 * Date), and every 10th pair has a real change (a price, a removed field, a
 * reordered array), so every pair is parsed and walked, none is byte-equal.
 * A pool of bodies is built once and cycled, so the generator costs nothing
 * per pair and memory stays flat however many pairs run.
 */

const POOL = 1000;
const T0 = Date.UTC(2026, 10, 23, 9);

function product(i: number, side: 'A' | 'B' | 'A2'): Record<string, unknown> {
  const id = 10_000 + i;
  const changed = side === 'B' && i % 10 === 0;
  const variants = Array.from({ length: 6 }, (_, v) => ({ id: id * 10 + v, sku: `SKU-${id}-${v}`, size: ['XS', 'S', 'M', 'L', 'XL', 'XXL'][v], price: 19.99 + v, stock: (i * 7 + v) % 40 }));
  const body: Record<string, unknown> = {
    id,
    name: `Product ${id}`,
    description: `A sturdy everyday product number ${id}, made to last. `.repeat(20),
    price: changed ? 24.99 : 19.99,
    currency: 'EUR',
    discount: i % 5,
    tags: changed ? ['sale', 'new', 'outdoor', 'summer'] : ['new', 'sale', 'outdoor', 'summer'],
    attributes: { color: 'blue', material: 'cotton', weightGrams: 350 + (i % 50), origin: 'PT', care: 'machine wash 30C' },
    variants,
    seller: { id: 77, name: 'Example Store', rating: 4.6, since: '2019-03-01' },
    updatedAt: new Date(T0 + i * 1000 + (side === 'A' ? 0 : side === 'B' ? 7 : 13)).toISOString(),
    requestId: randomUUID(),
  };
  if (changed && i % 20 === 0) delete body.discount;
  return body;
}

export interface BenchPairBodies {
  baseline: string;
  candidate: string;
  baseline2: string;
}

export function benchPool(): BenchPairBodies[] {
  return Array.from({ length: POOL }, (_, i) => ({
    baseline: JSON.stringify(product(i, 'A')),
    candidate: JSON.stringify(product(i, 'B')),
    baseline2: JSON.stringify(product(i, 'A2')),
  }));
}

export const BENCH_HEADERS = (date: string): Array<[string, string]> => [
  ['content-type', 'application/json; charset=utf-8'],
  ['cache-control', 'max-age=60'],
  ['date', date],
  ['x-request-id', randomUUID()],
  ['vary', 'Accept-Encoding'],
  ['etag', `"${Math.random().toString(36).slice(2)}"`],
];

/** An exchange carrying one side's response, for the store-to-store phase. */
export function benchExchange(i: number, id: string, body: string): Exchange {
  const start = T0 * 1000 + i * 1000;
  return {
    v: 1,
    id,
    start,
    duration: 1500 + (i % 17) * 100,
    source: { kind: 'synthetic', captureId: 'diff-bench' },
    request: { method: 'GET', scheme: 'http', authority: 'shop.example.test', path: `/products/${10_000 + (i % POOL)}`, query: '', httpVersion: '1.1', headers: [['Host', 'shop.example.test']], body: null },
    response: { status: 200, httpVersion: '1.1', headers: BENCH_HEADERS(new Date(start / 1000).toUTCString()), body: { encoding: 'utf8', data: body, size: Buffer.byteLength(body) } },
  };
}
