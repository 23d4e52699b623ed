import { createHash } from 'node:crypto';
import { lowerCased, type Exchange } from '../store/exchange.js';
import { durationSpec, parseDuration, stringList } from './config/field-spec.js';
import type { DedupeStep } from './step-definitions.js';
import type { StepKind } from './step-types.js';
import { hash53 } from './sample-step.js';

/**
 * `dedupe`: drop a request identical to one kept less than `window` earlier
 * (recorded time). Identity is method, authority, path, query, the chosen
 * headers and the body; it is hashed to 53 bits, so memory is bounded by
 * `maxEntries` × ~100 bytes whatever the bodies weigh. A steady stream of
 * identical requests keeps one per window.
 */

export const dedupeStepKind: StepKind<DedupeStep> = {
  type: 'dedupe',
  summary: 'Drop requests identical to one seen within a time window (bounded memory).',
  fields: {
    window: durationSpec,
    headers: stringList(),
    maxEntries: { kind: 'number', integer: true, min: 1 },
  },
  explain(def) {
    const headers = def.headers ? ` and headers ${def.headers.join(', ')}` : '';
    return `dedupe identical requests (method, URL, body${headers}) within ${def.window ?? '1s'}`;
  },
  prepare(def, ctx) {
    const windowUs = (parseDuration(def.window ?? '1s') ?? 1000) * 1000;
    const names = (def.headers ?? []).map((h) => h.toLowerCase());
    const max = def.maxEntries ?? 100_000;
    return {
      start() {
        // identity → recorded time of the last kept request. `keys`/`times` list them oldest
        // first (a queue with a moving head, compacted now and then) so expiry never walks the map.
        const seen = new Map<number, number>();
        let keys: number[] = [];
        let times: number[] = [];
        let head = 0;
        let warned = false;
        return {
          apply(ex: Exchange) {
            const t = ex.start;
            while (head < keys.length && (times[head]! <= t - windowUs || seen.size > max)) {
              const k = keys[head]!;
              if (seen.get(k) === times[head]) seen.delete(k);
              head++;
            }
            const key = identity(ex, names);
            const at = seen.get(key);
            if (at !== undefined && t - at < windowUs) return null;
            seen.set(key, t);
            keys.push(key);
            times.push(t);
            if (seen.size > max && !warned) {
              warned = true;
              ctx.warn(`${ctx.label}: more than ${max} distinct requests within the window; the oldest are forgotten (raise maxEntries)`);
            }
            if (head > 4096 && head * 2 > keys.length) {
              keys = keys.slice(head);
              times = times.slice(head);
              head = 0;
            }
            return ex;
          },
        };
      },
    };
  },
};

/**
 * 53 bits of (method, URL, chosen headers, body), as a number (a cheap map
 * key): a false "duplicate" needs a 53-bit collision among the requests of
 * one window. Large bodies go through SHA-1 first, where native code wins.
 */
function identity(ex: Exchange, headers: readonly string[]): number {
  const r = ex.request;
  let text = `${r.method} ${r.authority}${r.path}?${r.query}`;
  for (const name of headers) {
    for (const [n, v] of r.headers) if (lowerCased(n) === name) text += `\n${name}:${v}`;
  }
  if (r.body) {
    text += '\n';
    text += r.body.data.length > 16_384 ? createHash('sha1').update(r.body.data).digest('base64') : r.body.data;
  }
  return hash53(text);
}
