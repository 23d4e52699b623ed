import { describe, expect, it } from 'vitest';
import { ExchangeRecorder, type RecordSink } from '../../../capture/proxy/exchange-recorder.js';
import type { Exchange } from '../../../store/exchange.js';
import { syntheticExchange } from '../../support/synthetic-exchange.js';

const stuckSink = (): RecordSink => ({ write: () => new Promise<void>(() => {}), close: async () => undefined });

describe('ExchangeRecorder: lazy completion, byte bound, bounded close', () => {
  it('complete() runs only for records that are kept, before redaction', async () => {
    const records: Exchange[] = [];
    const rec = new ExchangeRecorder({ write: async (ex) => void records.push(ex), close: async () => undefined }, { sampling: { rate: 0 } });
    let completed = 0;
    const withSecret = (ex: Exchange): Exchange => {
      completed++;
      return { ...ex, request: { ...ex.request, headers: [['Authorization', 'Bearer late-secret']] } };
    };
    for (let i = 1; i <= 10; i++) rec.offer(syntheticExchange(i), withSecret); // sampled out: never completed
    const failed = { ...syntheticExchange(11), response: null, error: { kind: 'refused' as const, message: 'x' } };
    rec.offer(failed, withSecret); // kept (an error)
    const cutShort = { ...syntheticExchange(12), error: { kind: 'reset' as const, message: 'mid-body' } };
    rec.offer(cutShort, withSecret); // a response cut short is an upstream failure too: kept
    await rec.close();
    expect(completed).toBe(2);
    expect(records).toHaveLength(2);
    expect(JSON.stringify(records)).not.toContain('late-secret');
  });

  it('a queue of large records is bounded by bytes, not only by count', () => {
    const rec = new ExchangeRecorder(stuckSink(), { queueLimit: 10_000, queueBytes: 1024 * 1024 });
    for (let i = 0; i < 100; i++) rec.offer(syntheticExchange(i, { bodyBytes: 100 * 1024 }));
    // ~100 KiB each: the first is in the stuck write, about ten fit in 1 MiB, the rest are dropped.
    expect(rec.stats.queued).toBeGreaterThanOrEqual(9);
    expect(rec.stats.queued).toBeLessThanOrEqual(11);
    expect(rec.stats.dropped).toBe(100 - 1 - rec.stats.queued);
    expect(rec.stats.queuedBytes).toBeLessThan(1024 * 1024 + 110 * 1024);
  });

  it('close({ timeoutMs }) gives up on a stuck store and counts what was queued as dropped', async () => {
    const rec = new ExchangeRecorder(stuckSink(), { queueLimit: 10 });
    for (let i = 0; i < 5; i++) rec.offer(syntheticExchange(i));
    const t0 = performance.now();
    const stats = await rec.close({ timeoutMs: 100 });
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(stats).toMatchObject({ seen: 5, recorded: 0, queued: 0, queuedBytes: 0, dropped: 4 });
    expect(String(rec.error)).toMatch(/did not finish/);
  });
});
