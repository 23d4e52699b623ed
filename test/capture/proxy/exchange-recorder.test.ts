import { describe, expect, it } from 'vitest';
import { ExchangeRecorder, type RecordSink } from '../../../capture/proxy/exchange-recorder.js';
import type { Exchange } from '../../../store/exchange.js';
import { syntheticExchange } from '../../support/synthetic-exchange.js';

function memorySink(): RecordSink & { records: Exchange[] } {
  const records: Exchange[] = [];
  return { records, write: async (ex) => void records.push(ex), close: async () => undefined };
}

/** A store that never finishes a write: the proxy must not notice. */
function stuckSink(): RecordSink {
  return { write: () => new Promise<void>(() => {}), close: async () => undefined };
}

const withStatus = (i: number, status: number | null): Exchange => {
  const ex = syntheticExchange(i);
  return status === null ? { ...ex, response: null, error: { kind: 'refused', message: 'ECONNREFUSED' } } : { ...ex, response: { ...ex.response!, status } };
};

describe('ExchangeRecorder', () => {
  it('records everything by default, redacting secrets before they are queued', async () => {
    const sink = memorySink();
    const rec = new ExchangeRecorder(sink);
    const ex = syntheticExchange(1);
    rec.offer({ ...ex, request: { ...ex.request, headers: [...ex.request.headers, ['Authorization', 'Bearer s3cret']] } });
    for (let i = 2; i < 10; i++) rec.offer(syntheticExchange(i));
    const stats = await rec.close();
    expect(stats).toMatchObject({ seen: 9, recorded: 9, dropped: 0, sampledOut: 0 });
    expect(JSON.stringify(sink.records)).not.toContain('s3cret');
  });

  it('samples by rate but always keeps errors and upstream failures', async () => {
    const sink = memorySink();
    const rec = new ExchangeRecorder(sink, { sampling: { rate: 0 } });
    rec.offer(withStatus(1, 200));
    rec.offer(withStatus(2, 503));
    rec.offer(withStatus(3, null));
    rec.offer(withStatus(4, 404));
    const stats = await rec.close();
    expect(sink.records.map((r) => r.response?.status ?? 'none')).toEqual([503, 'none']);
    expect(stats).toMatchObject({ sampledOut: 2, recorded: 2, upstreamErrors: 1 });
  });

  it('a random rate keeps about that fraction', async () => {
    let seed = 42;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const rec = new ExchangeRecorder(memorySink(), { sampling: { rate: 0.25, keepErrors: false }, random });
    for (let i = 0; i < 4000; i++) rec.offer(withStatus(i, 200));
    const stats = await rec.close();
    expect(stats.recorded / 4000).toBeGreaterThan(0.22);
    expect(stats.recorded / 4000).toBeLessThan(0.28);
  });

  it('caps each endpoint template per second', async () => {
    let now = 1_000_000;
    const sink = memorySink();
    const rec = new ExchangeRecorder(sink, { sampling: { perEndpointPerSecond: 3 }, now: () => now });
    for (let i = 0; i < 40; i++) rec.offer(withStatus(i * 4, 200)); // all GET /users/:id
    now += 1000;
    for (let i = 0; i < 40; i++) rec.offer(withStatus(i * 4, 200));
    await rec.close();
    expect(sink.records).toHaveLength(6);
  });

  it('fails open: a stuck store fills the queue, then drops are counted and offer never blocks', async () => {
    const rec = new ExchangeRecorder(stuckSink(), { queueLimit: 100 });
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) rec.offer(syntheticExchange(i));
    expect(performance.now() - t0).toBeLessThan(2_000);
    // One record is inside the stuck write; 100 wait in the queue; the rest were dropped.
    expect(rec.stats).toMatchObject({ seen: 10_000, queued: 100, dropped: 10_000 - 101, recorded: 0 });
  });

  it('a store that throws is counted, never thrown at the proxy', async () => {
    const rec = new ExchangeRecorder({ write: async () => { throw new Error('disk full'); }, close: async () => undefined });
    rec.offer(syntheticExchange(1));
    rec.offer(syntheticExchange(2));
    const stats = await rec.close();
    expect(stats).toMatchObject({ writeErrors: 2, recorded: 0 });
    expect((rec.error as Error).message).toBe('disk full');
  });
});
