import { randomBytes } from 'node:crypto';
import type { Exchange } from '../../store/exchange.js';
import { newExchangeId } from '../../store/exchange-id.js';

/**
 * Synthetic Exchanges for tests and benchmarks: a small JSON API with ids in
 * paths, so endpoint templates and filters have something to collapse.
 */
const T0 = Date.UTC(2026, 10, 23, 9, 0, 0) * 1000; // µs

export function syntheticExchange(i: number, options: { bodyBytes?: number; randomBody?: boolean } = {}): Exchange {
  const user = 1000 + (i % 97);
  const kind = i % 4;
  const method = kind === 3 ? 'POST' : 'GET';
  const path = kind === 0 ? `/users/${user}` : kind === 1 ? `/users/${user}/orders` : kind === 2 ? '/search' : '/orders';
  const status = i % 50 === 0 ? 500 : kind === 3 ? 201 : 200;
  const resText = options.randomBody
    ? randomBytes(options.bodyBytes ?? 256).toString('base64')
    : JSON.stringify({ id: user, seq: i, name: `user-${user}`, pad: 'x'.repeat(options.bodyBytes ?? 64) });
  const start = T0 + i * 1000;
  return {
    v: 1,
    id: newExchangeId(start / 1000),
    start,
    duration: 1500 + (i % 13) * 100,
    source: { kind: 'synthetic', captureId: 'synthetic', connection: `c${i % 8}`, seq: Math.floor(i / 8) },
    request: {
      method,
      scheme: 'http',
      authority: 'api.example.test:8080',
      path,
      query: kind === 2 ? `q=shoes&page=${i % 5}` : '',
      httpVersion: '1.1',
      headers: [['Host', 'api.example.test:8080'], ['User-Agent', 'synthetic/1'], ['Accept', 'application/json']],
      body: kind === 3 ? { encoding: 'utf8', data: `{"item":${i}}`, size: `{"item":${i}}`.length } : null,
    },
    response: {
      status,
      httpVersion: '1.1',
      headers: [['Content-Type', 'application/json'], ['Content-Length', String(resText.length)]],
      body: { encoding: 'utf8', data: resText, size: resText.length },
    },
  };
}

/** A sealed store of `n` synthetic exchanges at `dir/store`; returns its path. */
export async function writeSyntheticStore(dir: string, n: number): Promise<string> {
  const { join } = await import('node:path');
  const { openStoreWriter } = await import('../../store/segment-writer.js');
  const store = join(dir, 'store');
  const w = await openStoreWriter(store);
  for (let i = 0; i < n; i++) await w.write(syntheticExchange(i));
  await w.close();
  return store;
}
