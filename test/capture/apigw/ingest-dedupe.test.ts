import { describe, expect, it } from 'vitest';
import { DedupeWindow } from '../../../capture/apigw/ingest-dedupe.js';
import { DurableWriter, type FlushableSink } from '../../../capture/apigw/durable-writer.js';
import type { Exchange } from '../../../store/exchange.js';

describe('DedupeWindow', () => {
  it('remembers a key for the window, then forgets it', () => {
    let now = 1_000_000;
    const w = new DedupeWindow({ windowMs: 8000, now: () => now });
    const yes = Promise.resolve(true);
    w.set('a', yes);
    now += 7999;
    expect(w.get('a')).toBe(yes);
    w.set('b', yes);
    now += 1001 + 1000; // 'a' is now older than window + one slot
    expect(w.get('a')).toBeUndefined();
    expect(w.get('b')).toBe(yes);
    w.delete('b');
    expect(w.get('b')).toBeUndefined();
    expect(w.size).toBe(0);
  });

  it('holds at most maxEntries, forgetting the oldest slot early and counting it', () => {
    const w = new DedupeWindow({ windowMs: 60_000, maxEntries: 800, now: () => 5 });
    const yes = Promise.resolve(true);
    for (let i = 0; i < 10_000; i++) w.set(`k${i}`, yes);
    expect(w.size).toBeLessThanOrEqual(800);
    expect(w.evictedEarly).toBe(10_000 - w.size);
    expect(w.get('k9999')).toBe(yes);
    expect(w.get('k0')).toBeUndefined();
  });
});

describe('DurableWriter', () => {
  it('shares one flush among writers that arrive while a flush runs, and never acks before a flush that covers the write', async () => {
    const events: string[] = [];
    let written = 0;
    let release: (() => void) | null = null;
    const sink: FlushableSink = {
      write: async () => void (written++, events.push(`write ${written}`)),
      flush: () => {
        const covered = written;
        events.push(`flush start (covers ${covered})`);
        return new Promise<void>((resolve) => (release = () => (events.push(`flush end (covers ${covered})`), resolve())));
      },
      close: () => Promise.resolve({ dir: '', exchanges: written, segments: 1, bytes: 0 }),
    };
    const d = new DurableWriter(sink);
    const ex = {} as Exchange;
    const a = d.writeDurably([ex]).then(() => events.push('ack a'));
    await new Promise((r) => setImmediate(r));
    const b = d.writeDurably([ex]).then(() => events.push('ack b'));
    const c = d.writeDurably([ex]).then(() => events.push('ack c'));
    await new Promise((r) => setImmediate(r));
    release!();
    await a;
    await new Promise((r) => setImmediate(r));
    release!();
    await Promise.all([b, c]);
    expect(events).toEqual(['write 1', 'flush start (covers 1)', 'write 2', 'write 3', 'flush end (covers 1)', 'ack a', 'flush start (covers 3)', 'flush end (covers 3)', 'ack b', 'ack c']);
    expect(d.flushes).toBe(2);
  });
});
