import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffStores } from '../../../replay/diff/run-diff.js';
import type { DiffReport } from '../../../replay/diff/diff-report.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { writeStorePair } from './support/offline-stores.js';

function findings(report: DiffReport): string[] {
  return report.endpoints.flatMap((e) => e.findings.map((f) => `${e.endpoint} ${f.field} ${f.kind} ${f.risk} ${f.count}`)).sort();
}

describe('diff offline: two stores', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await makeTempDir('reprise-diff-offline-')));
  afterEach(async () => cleanup());

  const expected = [
    'GET /orders/:id $.legacy missing high 20',
    'GET /orders/:id header.x-served-by-v2 extra low 20',
    'GET /users/:id $.email value medium 20',
    'GET /users/:id header.x-served-by-v2 extra low 20',
  ];

  it('pairs by exchange id, in any order; unmatched records are counted', async () => {
    const { left, right } = await writeStorePair(dir, 40, { sameIds: true });
    const report = await diffStores({ baselineStore: left, candidateStore: right });
    expect(report.pairs).toBe(40);
    expect(report.unmatched).toEqual({ baseline: 1, candidate: 1 });
    expect(findings(report)).toEqual(expected);
    // Timestamps set aside (no second baseline offline), and the report says so.
    expect(report.setAside.map((s) => `${s.endpoint} ${s.field} ${s.class}`).sort()).toEqual(['GET /orders/:id $.updatedAt timestamp', 'GET /users/:id $.updatedAt timestamp']);
    const users = report.endpoints.find((e) => e.endpoint === 'GET /users/:id')!;
    expect(users.latency.baseline!.p50).toBeCloseTo(2.0, 0);
    expect(users.latency.candidate!.p50).toBeCloseTo(3.0, 0);
  });

  it('pairs by request identity when the ids differ (a replayed store)', async () => {
    const { left, right } = await writeStorePair(dir, 40, { sameIds: false });
    const report = await diffStores({ baselineStore: left, candidateStore: right });
    expect(report.pairs).toBe(40);
    expect(findings(report)).toEqual(expected);
  });

  it('never reports redacted fields; --ignore patterns; a small pending window gives up and counts', async () => {
    const { left, right } = await writeStorePair(dir, 40, { sameIds: true, redactEmail: true });
    const report = await diffStores({ baselineStore: left, candidateStore: right, rules: { ignore: ['header.x-served-*'] } });
    expect(findings(report)).toEqual(['GET /orders/:id $.legacy missing high 20']);
    const tight = await diffStores({ baselineStore: left, candidateStore: right, maxPending: 2 });
    expect(tight.pairs).toBeLessThan(40);
    expect(tight.unmatched!.baseline + tight.unmatched!.candidate).toBeGreaterThan(2);
  });

  it('skips pairs with a capture gap; publishes each compared pair on reprise:diff:pair', async () => {
    const { subscribe, unsubscribe } = await import('node:diagnostics_channel');
    const { openStoreWriter } = await import('../../../store/segment-writer.js');
    const { recordedExchange } = await import('./support/offline-stores.js');
    const w1 = await openStoreWriter(`${dir}/l`);
    const w2 = await openStoreWriter(`${dir}/r`);
    for (let i = 0; i < 4; i++) {
      const id = `0190a000-0000-7000-8000-00000000000${i}`;
      const right = recordedExchange(i, 'right', id);
      if (i === 2) right.incomplete = 'tcp gap of 1200 bytes in the response body';
      await w1.write(recordedExchange(i, 'left', id));
      await w2.write(right);
    }
    await Promise.all([w1.close(), w2.close()]);
    const seen: unknown[] = [];
    const onPair = (m: unknown) => seen.push(m);
    subscribe('reprise:diff:pair', onPair);
    try {
      const report = await diffStores({ baselineStore: `${dir}/l`, candidateStore: `${dir}/r` });
      expect(report.pairs).toBe(3);
      expect(report.skipped).toEqual({ 'capture incomplete (bytes missing) on a side': 1 });
    } finally {
      unsubscribe('reprise:diff:pair', onPair);
    }
    expect(seen).toHaveLength(3);
    expect(seen[0]).toMatchObject({ endpoint: 'GET /users/:id', exchangeId: '0190a000-0000-7000-8000-000000000000', differences: 2, setAside: 1 });
  });

  it('identical requests pair with their own recording by id, and in order by identity when ids differ', async () => {
    const { openStoreWriter } = await import('../../../store/segment-writer.js');
    const { recordedExchange } = await import('./support/offline-stores.js');
    const { newExchangeId } = await import('../../../store/exchange-id.js');
    // Thirty GET /health, each answered with its own sequence number on both sides.
    const health = (i: number, id: string) => {
      const ex = recordedExchange(0, 'left', id);
      ex.request.path = '/health';
      const text = JSON.stringify({ seq: i });
      ex.response!.headers = [['Content-Type', 'application/json']];
      ex.response!.body = { encoding: 'utf8', data: text, size: text.length };
      return ex;
    };
    const ids = Array.from({ length: 30 }, () => newExchangeId());
    const write = async (name: string, order: number[], idOf: (i: number) => string) => {
      const w = await openStoreWriter(`${dir}/${name}`);
      for (const i of order) await w.write(health(i, idOf(i)));
      await w.close();
    };
    const inOrder = ids.map((_, i) => i);
    await write('a', inOrder, (i) => ids[i]!);
    await write('b', [...inOrder].reverse(), (i) => ids[i]!); // same ids, opposite order
    await write('c', inOrder, () => newExchangeId()); // fresh ids, same order
    const byId = await diffStores({ baselineStore: `${dir}/a`, candidateStore: `${dir}/b` });
    expect(byId.pairs).toBe(30);
    expect(byId.totals.findings).toBe(0);
    const byIdentity = await diffStores({ baselineStore: `${dir}/a`, candidateStore: `${dir}/c` });
    expect(byIdentity.pairs).toBe(30);
    expect(byIdentity.totals.findings).toBe(0);
  });

  it('filters which exchanges take part', async () => {
    const { left, right } = await writeStorePair(dir, 20, { sameIds: true });
    const report = await diffStores({ baselineStore: left, candidateStore: right, filter: { paths: ['/users/*'] } });
    expect(report.endpoints.map((e) => e.endpoint)).toEqual(['GET /users/:id']);
  });
});
