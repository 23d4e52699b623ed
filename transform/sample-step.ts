import { endpointKey } from '../store/endpoint-template.js';
import { getHeader, hostOf, type Exchange } from '../store/exchange.js';
import { parseCookieHeader, parseParams } from './http-values.js';
import type { SampleStep } from './step-definitions.js';
import type { StepKind } from './step-types.js';

/**
 * `sample`: keep a share of the traffic. The keep/drop decision is a hash of
 * (seed, key) — not a running random generator — so it does not depend on
 * order or on what other steps dropped: the same seed keeps the same
 * exchanges on every run, and keying by a user header keeps or drops all of
 * one user's requests together. `perEndpoint` caps each endpoint template.
 */

// Endpoint templates are few (ids are collapsed), but a capture of random
// paths could have millions: counters beyond this many endpoints are not
// kept, and those endpoints pass uncapped (with a warning).
const MAX_ENDPOINTS = 100_000;

export const sampleStepKind: StepKind<SampleStep> = {
  type: 'sample',
  summary: 'Keep a seeded share of exchanges (per exchange or consistently per key), or at most N per endpoint.',
  fields: {
    percent: { kind: 'number', min: 0, max: 100 },
    seed: { kind: 'number', integer: true },
    by: {
      kind: 'object',
      exactlyOne: ['header', 'cookie', 'query'],
      fields: { header: { kind: 'string', nonEmpty: true }, cookie: { kind: 'string', nonEmpty: true }, query: { kind: 'string', nonEmpty: true } },
    },
    perEndpoint: { kind: 'number', integer: true, min: 1 },
  },
  check(def, problems) {
    if (def.percent === undefined && def.perEndpoint === undefined) problems.add([], 'samples nothing: give percent or perEndpoint');
    if (def.by && def.percent === undefined) problems.add(['by'], 'needs percent');
  },
  explain(def) {
    const parts: string[] = [];
    if (def.percent !== undefined) {
      const key = def.by ? ` by ${def.by.header ? `header ${def.by.header}` : def.by.cookie ? `cookie ${def.by.cookie}` : `query ${def.by.query}`}` : '';
      parts.push(`keep ${def.percent}%${key} (seed ${def.seed ?? 0})`);
    }
    if (def.perEndpoint !== undefined) parts.push(`at most ${def.perEndpoint} per endpoint`);
    return `sample ${parts.join(', ')}`;
  },
  prepare(def, ctx) {
    const threshold = def.percent === undefined ? null : (def.percent / 100) * 2 ** 32;
    const seed = def.seed ?? 0;
    const keyOf = def.by ? sampleKey(def.by) : null;
    return {
      start() {
        const counts = new Map<string, number>();
        let warned = false;
        return {
          apply(ex: Exchange) {
            if (threshold !== null) {
              const key = keyOf?.(ex) ?? ex.id;
              if (hash32(key, seed) >= threshold) return null;
            }
            if (def.perEndpoint !== undefined) {
              const ep = `${hostOf(ex.request)} ${endpointKey(ex.request.method, ex.request.path)}`;
              const n = counts.get(ep);
              if (n === undefined) {
                if (counts.size < MAX_ENDPOINTS) counts.set(ep, 1);
                else if (!warned) {
                  warned = true;
                  ctx.warn(`${ctx.label}: more than ${MAX_ENDPOINTS} endpoints; further endpoints are not capped`);
                }
              } else {
                if (n >= def.perEndpoint) return null;
                counts.set(ep, n + 1);
              }
            }
            return ex;
          },
        };
      },
    };
  },
};

function sampleKey(by: NonNullable<SampleStep['by']>): (ex: Exchange) => string | undefined {
  if (by.header) {
    const name = by.header;
    return (ex) => getHeader(ex.request.headers, name);
  }
  if (by.cookie) {
    const name = by.cookie;
    return (ex) => {
      const c = getHeader(ex.request.headers, 'cookie');
      return c === undefined ? undefined : parseCookieHeader(c).find((p) => p.name === name)?.value;
    };
  }
  const name = by.query!;
  return (ex) => parseParams(ex.request.query).find((p) => p.name === name)?.value;
}

/** FNV-1a over the key's UTF-16 units, seeded, with murmur3's finalizer for avalanche: uniform in [0, 2^32). */
export function hash32(key: string, seed: number): number {
  let h = (0x811c9dc5 ^ Math.imul(seed | 0, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Two independent 32-bit lanes in one pass, combined into 53 bits: a number key for maps. */
export function hash53(key: string): number {
  let a = 0x811c9dc5;
  let b = 0x2545f491;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return fmix(a) * 0x200000 + (fmix(b) >>> 11);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
