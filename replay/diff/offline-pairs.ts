import { createHash } from 'node:crypto';
import type { Exchange } from '../../store/exchange.js';
import { bodyToBuffer } from '../../store/body.js';
import { readExchanges, type ReadOptions } from '../../store/segment-reader.js';
import { storedBodyToComparable } from './comparable-body.js';
import type { ResponseSide } from './diff-types.js';

/**
 * Offline pairing of two stores (e.g. recorded vs replayed): the same exchange
 * id when the stores share ids, else the same request identity (method,
 * path, query, body hash — the nth occurrence pairs with the nth). Both stores are read side by side;
 * records wait for a partner in maps bounded by `maxPending`, so two stores in
 * roughly the same order pair in constant memory, and a store far out of order
 * costs at most `maxPending` records per side before the oldest are given up
 * as unmatched (and counted).
 */

export interface ExchangePair {
  baseline: Exchange;
  candidate: Exchange;
}

export interface PairingCounts {
  unmatchedBaseline: number;
  unmatchedCandidate: number;
}

/** Two stores can be this far out of step before records are given up (≈ a few hundred MB at most for small records). */
export const DEFAULT_MAX_PENDING = 50_000;

interface Pending {
  byId: Map<string, Exchange>;
  byIdentity: Map<string, Exchange[]>;
}

export async function* pairStores(
  baselineStore: string,
  candidateStore: string,
  counts: PairingCounts,
  options: { read?: ReadOptions; maxPending?: number } = {},
): AsyncGenerator<ExchangePair> {
  const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
  const left = readExchanges(baselineStore, options.read)[Symbol.asyncIterator]();
  const right = readExchanges(candidateStore, { ...options.read, report: undefined })[Symbol.asyncIterator]();
  const pending: [Pending, Pending] = [newPending(), newPending()];
  // Ids first: identical requests (ten GET /health) must pair with their own recording, not the first
  // look-alike. Until an id has matched — or PROBE records per side went by without one — nothing pairs
  // by identity; then the stores either share ids (identity only for leftovers at the end) or do not.
  let mode: 'probe' | 'ids' | 'identity' = 'probe';
  let seen = 0;
  let leftDone = false;
  let rightDone = false;
  while (!leftDone || !rightDone) {
    const [l, r] = await Promise.all([leftDone ? undefined : left.next(), rightDone ? undefined : right.next()]);
    if (l?.done) leftDone = true;
    if (r?.done) rightDone = true;
    for (const [side, item] of [[0, l], [1, r]] as const) {
      if (!item || item.done) continue;
      const ex = item.value;
      seen++;
      const other = pending[1 - side]!;
      let partner = takeById(other, ex);
      if (partner) mode = 'ids';
      else if (mode === 'identity') partner = takeByIdentity(other, ex);
      if (partner) {
        yield side === 0 ? { baseline: ex, candidate: partner } : { baseline: partner, candidate: ex };
        continue;
      }
      add(pending[side]!, ex);
      if (pending[side]!.byId.size > maxPending) {
        evictOldest(pending[side]!);
        if (side === 0) counts.unmatchedBaseline++;
        else counts.unmatchedCandidate++;
      }
    }
    if (mode === 'probe' && (seen >= 2 * PROBE || (leftDone && rightDone))) {
      mode = 'identity';
      yield* pairByIdentity(pending);
    }
  }
  yield* pairByIdentity(pending); // leftovers of stores that mostly share ids (a record re-captured, re-id'd)
  counts.unmatchedBaseline += pending[0].byId.size;
  counts.unmatchedCandidate += pending[1].byId.size;
}

/** Records per side read before deciding the stores share no ids. */
const PROBE = 256;

/** Pair every pending baseline record with a pending candidate of the same request identity, in order. */
function* pairByIdentity(pending: [Pending, Pending]): Generator<ExchangePair> {
  for (const baseline of [...pending[0].byId.values()]) {
    const candidate = takeByIdentity(pending[1], baseline);
    if (!candidate) continue;
    remove(pending[0], baseline);
    yield { baseline, candidate };
  }
}

function newPending(): Pending {
  return { byId: new Map(), byIdentity: new Map() };
}

/** What makes two recordings "the same request" when their ids differ. */
export function requestIdentity(ex: Exchange): string {
  const cached = identities.get(ex);
  if (cached !== undefined) return cached;
  const r = ex.request;
  const body = r.body ? createHash('sha1').update(bodyToBuffer(r.body)).digest('base64') : '';
  const key = `${r.method} ${r.path}?${r.query} ${body}`;
  identities.set(ex, key);
  return key;
}

const identities = new WeakMap<Exchange, string>();

function add(p: Pending, ex: Exchange): void {
  p.byId.set(ex.id, ex);
  const key = requestIdentity(ex);
  const list = p.byIdentity.get(key);
  if (list) list.push(ex);
  else p.byIdentity.set(key, [ex]);
}

function takeById(p: Pending, ex: Exchange): Exchange | undefined {
  const byId = p.byId.get(ex.id);
  if (byId) remove(p, byId);
  return byId;
}

function takeByIdentity(p: Pending, ex: Exchange): Exchange | undefined {
  const first = p.byIdentity.get(requestIdentity(ex))?.[0];
  if (first) remove(p, first);
  return first;
}

function remove(p: Pending, ex: Exchange): void {
  p.byId.delete(ex.id);
  const key = requestIdentity(ex);
  const list = p.byIdentity.get(key);
  if (!list) return;
  const i = list.indexOf(ex);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) p.byIdentity.delete(key);
}

function evictOldest(p: Pending): void {
  const oldest = p.byId.values().next();
  if (!oldest.done) remove(p, oldest.value);
}

/** A recorded response as one side of a pair. */
export function sideFromExchange(ex: Exchange, bodyCap: number): ResponseSide {
  const latencyMs = ex.duration === null ? null : ex.duration / 1000;
  if (!ex.response) {
    return { status: null, headers: [], body: null, latencyMs, error: ex.error ? `${ex.error.kind}: ${ex.error.message}` : 'no response' };
  }
  return {
    status: ex.response.status,
    headers: ex.response.headers.map(([n, v]) => [n.toLowerCase(), v]),
    body: storedBodyToComparable(ex.response.body, bodyCap),
    latencyMs,
  };
}
