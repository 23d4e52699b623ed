import { EXCHANGE_VERSION, type Exchange } from './exchange.js';

/**
 * Runtime check of an Exchange record, run on every line a reader parses.
 * Hand-written rather than schema-driven because it is on the hot read path
 * (≥ 200k records/s); it reports the first problems found as `path: reason`.
 */
export function exchangeProblems(value: unknown): string[] {
  const p: string[] = [];
  if (!isObj(value)) return ['record: must be a JSON object'];
  const x = value;
  if (x.v !== EXCHANGE_VERSION) {
    p.push(typeof x.v === 'number' && x.v > EXCHANGE_VERSION
      ? `v: version ${x.v} is newer than this reprise understands (${EXCHANGE_VERSION}); upgrade reprise`
      : `v: must be ${EXCHANGE_VERSION}`);
    return p;
  }
  if (typeof x.id !== 'string' || x.id === '') p.push('id: must be a non-empty string');
  if (!isInt(x.start)) p.push('start: must be integer microseconds since the epoch');
  if (x.duration !== null && !(isInt(x.duration) && x.duration >= 0)) p.push('duration: must be null or integer microseconds ≥ 0');
  checkSource(x.source, p);
  checkRequest(x.request, p);
  if (x.response !== null) checkResponse(x.response, p);
  if (x.error !== undefined) {
    if (!isObj(x.error) || typeof x.error.kind !== 'string' || typeof x.error.message !== 'string') p.push('error: must be { kind, message }');
  }
  if (x.incomplete !== undefined && typeof x.incomplete !== 'string') p.push('incomplete: must be a string');
  if (x.redactions !== undefined && !(Array.isArray(x.redactions) && x.redactions.every((r) => typeof r === 'string'))) p.push('redactions: must be a list of strings');
  if (x.timings !== undefined && !isObj(x.timings)) p.push('timings: must be an object');
  if (x.network !== undefined && !isObj(x.network)) p.push('network: must be an object');
  if (x.meta !== undefined && !isObj(x.meta)) p.push('meta: must be an object');
  return p;
}

/** Throws nothing; `true` when `value` is a valid Exchange. */
export function isExchange(value: unknown): value is Exchange {
  return exchangeProblems(value).length === 0;
}

function checkSource(s: unknown, p: string[]): void {
  if (!isObj(s)) return void p.push('source: must be an object');
  if (typeof s.kind !== 'string') p.push('source.kind: must be a string');
  if (typeof s.captureId !== 'string') p.push('source.captureId: must be a string');
  if (s.connection !== undefined && typeof s.connection !== 'string') p.push('source.connection: must be a string');
  if (s.seq !== undefined && !isInt(s.seq)) p.push('source.seq: must be an integer');
}

function checkRequest(r: unknown, p: string[]): void {
  if (!isObj(r)) return void p.push('request: must be an object');
  if (typeof r.method !== 'string' || r.method === '') p.push('request.method: must be a non-empty string');
  if (r.scheme !== 'http' && r.scheme !== 'https') p.push('request.scheme: must be "http" or "https"');
  if (typeof r.authority !== 'string') p.push('request.authority: must be a string');
  if (typeof r.path !== 'string') p.push('request.path: must be a string');
  if (typeof r.query !== 'string') p.push('request.query: must be a string');
  if (typeof r.httpVersion !== 'string') p.push('request.httpVersion: must be a string');
  checkHeaders(r.headers, 'request.headers', p);
  checkBody(r.body, 'request.body', p);
}

function checkResponse(r: unknown, p: string[]): void {
  if (!isObj(r)) return void p.push('response: must be an object or null');
  if (!isInt(r.status) || r.status < 0 || r.status > 999) p.push('response.status: must be an integer 0–999');
  if (r.statusText !== undefined && typeof r.statusText !== 'string') p.push('response.statusText: must be a string');
  if (typeof r.httpVersion !== 'string') p.push('response.httpVersion: must be a string');
  checkHeaders(r.headers, 'response.headers', p);
  checkBody(r.body, 'response.body', p);
}

function checkHeaders(h: unknown, path: string, p: string[]): void {
  if (!Array.isArray(h)) return void p.push(`${path}: must be a list of [name, value] pairs`);
  for (let i = 0; i < h.length; i++) {
    const pair: unknown = h[i];
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      p.push(`${path}[${i}]: must be a [name, value] pair of strings`);
      return;
    }
  }
}

function checkBody(b: unknown, path: string, p: string[]): void {
  if (b === null) return;
  if (!isObj(b)) return void p.push(`${path}: must be an object or null`);
  if (b.encoding !== 'utf8' && b.encoding !== 'base64') p.push(`${path}.encoding: must be "utf8" or "base64"`);
  if (typeof b.data !== 'string') p.push(`${path}.data: must be a string`);
  if (!isInt(b.size) || b.size < 0) p.push(`${path}.size: must be an integer ≥ 0`);
  if (b.truncated !== undefined && typeof b.truncated !== 'boolean') p.push(`${path}.truncated: must be a boolean`);
  if (b.contentEncoding !== undefined && typeof b.contentEncoding !== 'string') p.push(`${path}.contentEncoding: must be a string`);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}
