// Why this file exists: the transport-free core of `capture ingest`. One delivery (a POST body)
// goes in; its valid payloads come out durable in the store, its invalid ones in the dead-letter
// file, its redeliveries recognized — and the answer the sender must get says which is which.
import type { Exchange } from '../../store/exchange.js';
import type { DeadLetterFile, DeadLetterRecord } from './dead-letter.js';
import type { DedupeWindow } from './ingest-dedupe.js';
import type { DurableWriter } from './durable-writer.js';
import { dedupeKey, expandValue, splitBody, type CandidateItem } from './apigw-items.js';
import { mapApigwPayload, type ApigwMapOptions } from './apigw-payload.js';
import type { ResolvePointer } from './apigw-pointer.js';

export interface IngestStats {
  /** POST bodies handled (after the key and size checks). */
  deliveries: number;
  /** Payloads stored. */
  accepted: number;
  /** Payloads recognized as redeliveries and not stored again. */
  duplicates: number;
  /** Payloads refused and dead-lettered. */
  rejected: number;
  /** Pointers fetched from S3. */
  pointers: number;
  unauthorized: number;
  tooLarge: number;
  /** Deliveries answered 503 (store, S3 or memory budget): the forwarder retries them. */
  retryLater: number;
  flushes: number;
}

export function newIngestStats(): IngestStats {
  return { deliveries: 0, accepted: 0, duplicates: 0, rejected: 0, pointers: 0, unauthorized: 0, tooLarge: 0, retryLater: 0, flushes: 0 };
}

export interface DeliveryContext {
  durable: DurableWriter;
  deadLetter: DeadLetterFile;
  dedupe: DedupeWindow;
  resolvePointer?: ResolvePointer;
  map: Omit<ApigwMapOptions, 'receivedAt'>;
  stats: IngestStats;
  now: () => number;
}

export interface DeliveryResult {
  /** 202 all stored (or already stored) · 207 some stored, some rejected · 400 nothing valid. */
  status: 202 | 207 | 400;
  accepted: number;
  duplicates: number;
  rejected: number;
  /** The rejected items and why (at most 100 listed). */
  errors: { item: string; problems: string[] }[];
}

const MAX_LISTED = 100;

/**
 * Handle one delivery (the POST body's bytes; they are checked to be UTF-8, never decoded with
 * replacement characters). Resolves only after the accepted payloads are durable and the rejected
 * ones are in the dead-letter file. Throws (so the caller answers 503 and the forwarder retries)
 * when the store, the dead-letter file or S3 fails; then nothing is counted as stored.
 *
 * @example
 * const r = await ingestDelivery(body, 'application/json', 'ingest 10.0.0.7', ctx);
 * res.writeHead(r.status).end(JSON.stringify(r));
 */
export async function ingestDelivery(body: Buffer | string, contentType: string | undefined, source: string, ctx: DeliveryContext): Promise<DeliveryResult> {
  ctx.stats.deliveries++;
  const receivedMs = ctx.now();
  const items: CandidateItem[] = [];
  // Expand everything (fetching pointers) before storing anything: a retryable S3 failure then
  // leaves no half-stored delivery behind.
  const counting: ResolvePointer | undefined = ctx.resolvePointer && ((p) => (ctx.stats.pointers++, ctx.resolvePointer!(p)));
  for (const top of splitBody(body, contentType)) {
    if ('problems' in top) items.push(top);
    else for await (const item of expandValue(top.value, top.where, counting)) items.push(item);
  }

  const rejected: DeadLetterRecord[] = [];
  const mine = new Map<string, Exchange>(); // this delivery's new records by dedupe key
  const waitFor: { key: string; exchange: Exchange; prior: Promise<boolean> }[] = [];
  let duplicates = 0;
  for (const item of items) {
    const base = { receivedAt: new Date(receivedMs).toISOString(), source, item: item.where, ...(item.via ? { pointer: item.via } : {}) };
    if ('problems' in item) {
      rejected.push({
        ...base, problems: item.problems,
        ...(item.value !== undefined ? { payload: item.value } : {}), ...(item.text !== undefined ? { text: item.text } : {}), ...(item.textBase64 !== undefined ? { textBase64: item.textBase64 } : {}),
      });
      continue;
    }
    const r = mapApigwPayload(item.value, { ...ctx.map, receivedAt: receivedMs * 1000 });
    if (!r.ok) {
      rejected.push({ ...base, problems: r.problems, payload: item.value });
      continue;
    }
    const key = dedupeKey(item.value, r.requestId);
    const prior = ctx.dedupe.get(key);
    if (mine.has(key)) duplicates++;
    else if (prior) waitFor.push({ key, exchange: r.exchange, prior }); // stored, or being stored by another delivery
    else mine.set(key, r.exchange);
  }

  let accepted = await storeOnce(mine, ctx);
  // Redeliveries that raced their original wait for it; only if that write failed is this copy stored.
  const retry = new Map<string, Exchange>();
  for (const w of waitFor) {
    if (await w.prior || retry.has(w.key)) {
      duplicates++;
      continue;
    }
    const again = ctx.dedupe.get(w.key); // a third copy may have been stored meanwhile
    if (again && (await again)) duplicates++;
    else retry.set(w.key, w.exchange);
  }
  accepted += await storeOnce(retry, ctx);

  await ctx.deadLetter.append(rejected);
  ctx.stats.accepted += accepted;
  ctx.stats.duplicates += duplicates;
  ctx.stats.rejected += rejected.length;
  const status = rejected.length === 0 ? 202 : accepted + duplicates > 0 ? 207 : 400;
  const errors = rejected.slice(0, MAX_LISTED).map((r) => ({ item: r.item, problems: r.problems }));
  return { status, accepted, duplicates, rejected: rejected.length, errors };
}

/** Write the records durably, remembering their keys; on failure forget them again and rethrow. */
async function storeOnce(records: Map<string, Exchange>, ctx: DeliveryContext): Promise<number> {
  if (records.size === 0) return 0;
  let settle!: (ok: boolean) => void;
  const durable = new Promise<boolean>((resolve) => (settle = resolve));
  for (const key of records.keys()) ctx.dedupe.set(key, durable);
  try {
    await ctx.durable.writeDurably([...records.values()]);
  } catch (err) {
    for (const key of records.keys()) ctx.dedupe.delete(key);
    settle(false);
    throw err;
  }
  settle(true);
  ctx.stats.flushes = ctx.durable.flushes;
  return records.size;
}
