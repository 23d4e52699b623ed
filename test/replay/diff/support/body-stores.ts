import type { Body, Exchange } from '../../../../store/exchange.js';
import { openStoreWriter } from '../../../../store/segment-writer.js';
import { ex } from '../../../transform/transform-helpers.js';

/** One response of a pair: its Content-Type and body, as text or raw bytes (stored base64). */
export interface StoredAnswer {
  type: string;
  body: string | Buffer;
}

const T0 = Date.UTC(2026, 10, 23, 9) * 1000;

function stored(body: string | Buffer): Body {
  return typeof body === 'string'
    ? { encoding: 'utf8', data: body, size: Buffer.byteLength(body) }
    : { encoding: 'base64', data: body.toString('base64'), size: body.length };
}

function answer(i: number, path: string, a: StoredAnswer): Exchange {
  return {
    ...ex({ path, seq: i }),
    id: `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`,
    start: T0 + i * 1000,
    response: { status: 200, httpVersion: '1.1', headers: [['Content-Type', a.type]], body: stored(a.body) },
  };
}

/**
 * Two real stores on disk, `left` and `right`, one record per pair on each
 * side with the same exchange id, at `/r/<i>` unless a path is given.
 */
export async function writeBodyStores(dir: string, pairs: Array<{ path?: string; left: StoredAnswer; right: StoredAnswer }>): Promise<{ left: string; right: string }> {
  const stores = { left: `${dir}/left`, right: `${dir}/right` };
  const wl = await openStoreWriter(stores.left);
  const wr = await openStoreWriter(stores.right);
  for (const [i, p] of pairs.entries()) {
    await wl.write(answer(i, p.path ?? `/r/${i}`, p.left));
    await wr.write(answer(i, p.path ?? `/r/${i}`, p.right));
  }
  await Promise.all([wl.close(), wr.close()]);
  return stores;
}
