import { RepriseError } from '../errors.js';
import { hostOf, type Exchange } from './exchange.js';

/**
 * Record filters shared by `store cat`, exports and replay: every field is
 * optional and all given fields must match.
 */
export interface ExchangeFilter {
  /** Inclusive lower bound, µs since the epoch. */
  from?: number;
  /** Exclusive upper bound, µs since the epoch. */
  to?: number;
  methods?: string[];
  /** Host globs (`*.example.com`), matched against the host without port. */
  hosts?: string[];
  /** Path globs: `*` stays within one segment, `**` crosses segments. */
  paths?: string[];
  /** `200`, `5xx`, `400-499`, or `none` for exchanges without a response. */
  statuses?: string[];
}

export type ExchangePredicate = (ex: Exchange) => boolean;

/**
 * Compile a filter once; the returned predicate runs per record.
 *
 * @example
 * const keep = compileFilter({ methods: ['GET'], paths: ['/users/*'], statuses: ['2xx'] });
 */
export function compileFilter(filter: ExchangeFilter = {}): ExchangePredicate {
  const tests: ExchangePredicate[] = [];
  const { from, to } = filter;
  if (from !== undefined) tests.push((ex) => ex.start >= from);
  if (to !== undefined) tests.push((ex) => ex.start < to);
  if (filter.methods?.length) {
    const set = new Set(filter.methods.map((m) => m.toUpperCase()));
    tests.push((ex) => set.has(ex.request.method.toUpperCase()));
  }
  if (filter.hosts?.length) {
    const res = filter.hosts.map((h) => globToRegExp(h.toLowerCase(), '.'));
    tests.push((ex) => { const h = hostOf(ex.request); return res.some((r) => r.test(h)); });
  }
  if (filter.paths?.length) {
    const res = filter.paths.map((p) => globToRegExp(p, '/'));
    tests.push((ex) => res.some((r) => r.test(ex.request.path)));
  }
  if (filter.statuses?.length) {
    const matchers = filter.statuses.map(parseStatusMatcher);
    tests.push((ex) => { const s = ex.response ? ex.response.status : null; return matchers.some((m) => m(s)); });
  }
  if (tests.length === 0) return () => true;
  return (ex) => tests.every((t) => t(ex));
}

/** `*` matches within one `sep`-delimited part, `**` across parts, `?` one character. */
export function globToRegExp(glob: string, sep: '/' | '.'): RegExp {
  const notSep = sep === '/' ? '[^/]' : '[^.]';
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') { re += '.*'; i++; }
    else if (c === '*') re += `${notSep}*`;
    else if (c === '?') re += notSep;
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function parseStatusMatcher(spec: string): (status: number | null) => boolean {
  const s = spec.trim().toLowerCase();
  if (s === 'none') return (st) => st === null;
  let m = /^([1-5])xx$/.exec(s);
  if (m) { const d = Number(m[1]); return (st) => st !== null && Math.floor(st / 100) === d; }
  m = /^(\d{3})-(\d{3})$/.exec(s);
  if (m) { const lo = Number(m[1]); const hi = Number(m[2]); return (st) => st !== null && st >= lo && st <= hi; }
  if (/^\d{3}$/.test(s)) { const n = Number(s); return (st) => st === n; }
  throw new RepriseError('FILTER_INVALID', `status filter "${spec}" is not one of: 200, 5xx, 400-499, none`);
}

/**
 * A time bound from the CLI: ISO 8601 (`2026-11-23T09:00:00Z`), epoch ms
 * (13 digits) or µs (16 digits). Returns µs since the epoch.
 */
export function parseTimeBound(value: string, flag: string): number {
  if (/^\d{16}$/.test(value)) return Number(value);
  if (/^\d{13}$/.test(value)) return Number(value) * 1000;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new RepriseError('FILTER_INVALID', `${flag} "${value}" is not an ISO time or epoch ms/µs`);
  return ms * 1000;
}
