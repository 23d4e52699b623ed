import { describe, expect, it } from 'vitest';
import { orderByStart } from '../../../capture/pcap/http-exchange-order.js';
import type { Exchange } from '../../../store/exchange.js';
import { syntheticExchange } from '../../support/synthetic-exchange.js';

function withBody(i: number, start: number, bytes: number): Exchange {
  const ex = syntheticExchange(i);
  return { ...ex, start, response: { ...ex.response!, body: { encoding: 'utf8', data: 'x'.repeat(bytes), size: bytes } } };
}

describe('orderByStart', () => {
  it('restores start order within the window', () => {
    const out: number[] = [];
    const o = orderByStart((ex) => out.push(ex.start), { windowUs: 1_000_000 });
    for (const start of [5, 1, 3, 2, 4]) o.push(withBody(start, start, 10));
    o.flush();
    expect(out).toEqual([1, 2, 3, 4, 5]);
    expect(o.late).toBe(0);
  });

  it('never holds more than maxBufferedBytes of bodies: big responses are released early and counted if late', () => {
    const out: number[] = [];
    let peak = 0;
    const o = orderByStart((ex) => out.push(ex.start), { windowUs: 60_000_000, maxBufferedBytes: 4 * 1024 * 1024 });
    // 400 responses of 512 KiB, all inside one window, arriving in reverse start order.
    for (let i = 400; i > 0; i--) {
      o.push(withBody(i, i * 1000, 512 * 1024));
      peak = Math.max(peak, o.bufferedBytes);
    }
    o.flush();
    expect(peak).toBeLessThanOrEqual(4 * 1024 * 1024 + 512 * 1024 + 1024);
    expect(out).toHaveLength(400);
    expect(o.late).toBeGreaterThan(0); // the price of the bound, reported rather than hidden
    expect(o.bufferedBytes).toBe(0);
  });
});
