import type { Exchange } from '../../../../store/exchange.js';
import { newExchangeId } from '../../../../store/exchange-id.js';
import { openStoreWriter } from '../../../../store/segment-writer.js';

/**
 * Two stores of the same requests, as "recorded" and "replayed" would hold
 * them: the candidate's `email` field changes on /users (value, medium), it
 * adds a `x-served-by-v2` header (extra, low), and drops `legacy` on
 * /orders (missing, high); `updatedAt` and `x-request-id` differ everywhere
 * (noise). One record exists only on each side.
 */

const T0 = Date.UTC(2026, 10, 23, 9) * 1000;

export function recordedExchange(i: number, side: 'left' | 'right', id: string): Exchange {
  const isUser = i % 2 === 0;
  const path = isUser ? `/users/${100 + i}` : `/orders/${200 + i}`;
  const body: Record<string, unknown> = isUser
    ? { id: 100 + i, email: side === 'left' ? `u${i}@example.test` : `U${i}@EXAMPLE.TEST`, updatedAt: new Date(Date.UTC(2026, 10, 23, 9, 0, i, side === 'left' ? 0 : 5)).toISOString() }
    : { id: 200 + i, total: 10 * i, updatedAt: new Date(Date.UTC(2026, 10, 23, 9, 0, i, side === 'left' ? 0 : 5)).toISOString() };
  if (!isUser && side === 'left') body.legacy = true;
  const text = JSON.stringify(body);
  const headers: Array<[string, string]> = [['Content-Type', 'application/json'], ['X-Request-Id', `${side}-${i}-${id.slice(-6)}`]];
  if (side === 'right') headers.push(['X-Served-By-V2', 'yes']);
  return {
    v: 1,
    id,
    start: T0 + i * 1000,
    duration: (side === 'left' ? 2000 : 3000) + i,
    source: { kind: side === 'left' ? 'proxy' : 'replay', captureId: side },
    request: { method: 'GET', scheme: 'http', authority: 'api.example.test', path, query: '', httpVersion: '1.1', headers: [['Host', 'api.example.test']], body: null },
    response: { status: 200, httpVersion: '1.1', headers, body: { encoding: 'utf8', data: text, size: text.length } },
  };
}

/**
 * `n` pairs; with `sameIds` the replayed store reuses the recorded ids, else it
 * has its own (pairing falls back to request identity). The replayed store is
 * written in a shuffled order, so pairing cannot rely on position.
 */
export async function writeStorePair(dir: string, n: number, options: { sameIds: boolean; redactEmail?: boolean }): Promise<{ left: string; right: string }> {
  const left = `${dir}/recorded`;
  const right = `${dir}/replayed`;
  const wl = await openStoreWriter(left);
  const wr = await openStoreWriter(right);
  const ids = Array.from({ length: n }, (_, i) => newExchangeId(T0 / 1000 + i));
  for (let i = 0; i < n; i++) {
    const ex = recordedExchange(i, 'left', ids[i]!);
    if (options.redactEmail && i % 2 === 0) ex.redactions = ['response.body.$.email'];
    await wl.write(ex);
  }
  await wl.write(recordedExchange(1001, 'left', newExchangeId())); // only recorded
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => ((a * 7919) % n) - ((b * 7919) % n));
  for (const i of order) {
    const ex = recordedExchange(i, 'right', options.sameIds ? ids[i]! : newExchangeId());
    if (options.redactEmail && i % 2 === 0) ex.redactions = ['response.body.$.email'];
    await wr.write(ex);
  }
  await wr.write(recordedExchange(2001, 'right', newExchangeId())); // only replayed
  await Promise.all([wl.close(), wr.close()]);
  return { left, right };
}
