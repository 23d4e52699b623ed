// Why this file exists: whatever the transport (an ingest POST, an archive file, an S3 object),
// a forwarder delivers "some JSON" that stands for one or more payloads: a payload, a batch
// array, NDJSON lines, or an extended-client pointer to any of those. This file turns that into
// the list of candidate payloads, each with a `where` that names it in messages ('[3]',
// 'line 7', '' for the whole body); problems are phrased relative to that item.
import { createHash } from 'node:crypto';
import { PointerUnresolvedError, checkPointer, type PayloadPointer, type ResolvePointer } from './apigw-pointer.js';
import { invalidUtf8At, notUtf8Problem } from './utf8-text.js';

export type CandidateItem =
  | { where: string; value: unknown; via?: PayloadPointer }
  | { where: string; problems: string[]; value?: unknown; text?: string; textBase64?: string; via?: PayloadPointer };

const NDJSON_TYPES = /^application\/(x-)?(ndjson|jsonl|jsonlines|json-seq)\b/i;

/**
 * Split a whole request body into top-level values: NDJSON (by Content-Type, or sniffed when the
 * body is not one JSON document but its lines are), else one JSON document. A body that is
 * neither comes back as one problem item carrying the raw text for the dead-letter file. Bytes
 * that are not UTF-8 are never decoded with replacement characters: such a line (NDJSON) or
 * body is a problem item naming the byte offset, carrying its exact bytes as `textBase64`.
 *
 * @example
 * splitBody(Buffer.from('{"a":1}\n{"b":2}\n'), 'application/x-ndjson') // [{ where: 'line 1', value: {a:1} }, { where: 'line 2', value: {b:2} }]
 */
export function splitBody(body: Buffer | string, contentType: string | undefined): CandidateItem[] {
  const all = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const from = all[0] === 0xef && all[1] === 0xbb && all[2] === 0xbf ? 3 : 0; // a byte-order mark is not JSON
  const bytes = all.subarray(from);
  if (contentType !== undefined && NDJSON_TYPES.test(contentType)) return splitLines(bytes, from);
  const bad = invalidUtf8At(bytes);
  const text = bytes.toString('utf8');
  let error: unknown = null;
  if (bad === -1) {
    try {
      return [{ where: '', value: JSON.parse(text) as unknown }];
    } catch (err) {
      error = err;
    }
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length > 1 && parses(lines[0]!)) return splitLines(bytes, from);
  if (bad !== -1) return [{ where: '', problems: [notUtf8Problem(bytes, bad, from + bad)], textBase64: bytes.toString('base64') }];
  if (text.trim() === '') return [{ where: '', problems: ['empty body; expected a payload, a JSON array or NDJSON'], text }];
  return [{ where: '', problems: [`invalid JSON (${(error as Error).message})`], text }];
}

/** The non-blank lines of `bytes` (which start at byte `base` of the body) as items `line N`. */
function splitLines(bytes: Buffer, base: number): CandidateItem[] {
  const out: CandidateItem[] = [];
  for (let start = 0, n = 1; start <= bytes.length; n++) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl === -1 ? bytes.length : nl;
    const line = bytes.subarray(start, bytes[end - 1] === 0x0d && end > start ? end - 1 : end);
    const offset = base + start;
    start = end + 1;
    const bad = invalidUtf8At(line);
    if (bad !== -1) {
      out.push({ where: `line ${n}`, problems: [notUtf8Problem(line, bad, offset + bad)], textBase64: line.toString('base64') });
      continue;
    }
    const text = line.toString('utf8');
    if (text.trim() === '') continue;
    try {
      out.push({ where: `line ${n}`, value: JSON.parse(text) as unknown });
    } catch (err) {
      out.push({ where: `line ${n}`, problems: [`invalid JSON (${(err as Error).message})`], text });
    }
  }
  if (out.length === 0) out.push({ where: '', problems: ['no NDJSON lines'], text: bytes.toString('utf8') });
  return out;
}

function parses(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

/**
 * One top-level value → its payloads: a batch array yields its elements, a pointer is fetched and
 * its content expanded the same way (one level: a pointer inside fetched content is a problem).
 * A retryable pointer failure is thrown (the caller answers "try again"); a permanent one
 * becomes a problem item, since no retry can fix it.
 *
 * @example
 * for await (const item of expandValue(JSON.parse(body), '', resolve)) …
 */
export async function* expandValue(value: unknown, where: string, resolve: ResolvePointer | undefined, options: { inBatch?: boolean; via?: PayloadPointer } = {}): AsyncGenerator<CandidateItem> {
  const via = options.via ? { via: options.via } : {};
  const check = checkPointer(value);
  if (check && 'problem' in check) {
    yield { where, problems: [check.problem], value, ...via };
    return;
  }
  if (check) {
    const p = check.pointer;
    const text = await fetchPointer(p, options.via, resolve);
    if (typeof text !== 'string') return void (yield { where, problems: [text.problem], value, ...via });
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return void (yield { where, problems: [`s3://${p.bucket}/${p.key} is not JSON (${(err as Error).message})`], text, via: p });
    }
    // The fetched text is an SQS message body as the forwarder queued it: one payload or a batch.
    yield* expandValue(parsed, where, resolve, { via: p });
    return;
  }
  if (Array.isArray(value) && !options.inBatch) {
    for (let i = 0; i < value.length; i++) yield* expandValue(value[i], `${where}[${i}]`, resolve, { ...options, inBatch: true });
    return;
  }
  yield { where, value, ...via };
}

async function fetchPointer(p: PayloadPointer, parent: PayloadPointer | undefined, resolve: ResolvePointer | undefined): Promise<string | { problem: string }> {
  if (parent) return { problem: `s3://${parent.bucket}/${parent.key} holds another payload pointer (s3://${p.bucket}/${p.key}); only one level is followed` };
  if (!resolve) return { problem: `payload pointer to s3://${p.bucket}/${p.key}, and pointer resolution is off` };
  try {
    return await resolve(p);
  } catch (err) {
    if (err instanceof PointerUnresolvedError && !err.retryable) return { problem: err.message };
    throw err;
  }
}

/**
 * The dedupe key of a payload: its request id when it has one (unique per API Gateway request),
 * else a SHA-256 of its JSON text — a redelivered SQS message is byte-identical.
 *
 * @example
 * dedupeKey({ endpoint: '/a' }, 'c2f1…') // 'id:c2f1…'
 */
export function dedupeKey(value: unknown, requestId: string | undefined): string {
  if (requestId !== undefined) return `id:${requestId}`;
  return `sha256:${createHash('sha256').update(JSON.stringify(value)).digest('base64')}`;
}
