import { RepriseError } from '../../errors.js';
import { newExchangeId } from '../../store/exchange-id.js';
import type { CaPem } from './ca-create.js';
import type { ExchangeRecorder } from './exchange-recorder.js';
import { DEFAULT_ADMIN_PATH, DEFAULT_BODY_CAP } from './reverse-proxy-options.js';

/**
 * Options of the recording forward proxy, validated once at the boundary
 * (every problem in one PROXY_OPTIONS_INVALID error) and frozen.
 */

export interface ForwardProxyOptions {
  /** Address the proxy accepts clients on; port 0 picks a free one. */
  listen: { host: string; port: number };
  /** Where finished exchanges go; the proxy closes it on `close()`. */
  recorder: ExchangeRecorder;
  /** CA (PEM) that signs leaf certificates for HTTPS interception. Without it every CONNECT is tunnelled unread. */
  ca?: CaPem;
  /**
   * Host globs never intercepted (`*.bank.example`, `login.example.com`,
   * `*`): their CONNECTs are tunnelled as raw TCP and their plain-HTTP
   * requests relayed without being recorded. Matched case-insensitively
   * against the host without port; `*` spans dots.
   */
  passThrough?: readonly string[];
  /** Bytes of each body kept in the store (default 1 MiB); clients always get every byte. */
  bodyCap?: number;
  /** Longest wait for a connection, for the response head, and inside a body (default 30 s). */
  upstreamTimeoutMs?: number;
  /** Extra CA (PEM) trusted for upstream TLS, on top of Node's bundled roots. */
  upstreamCa?: string;
  /** Upper bound on keep-alive connections per upstream origin (default 64); further requests queue. */
  upstreamConnections?: number;
  /** GET on this origin-form path returns the stats as JSON; false turns it off (default `/__reprise/stats`). */
  adminPath?: string | false;
  /** Names this run in `source.captureId` (default `proxy-<uuid>`). */
  captureId?: string;
  /** On close: how long in-flight requests may take to finish, and the store to flush (default 10 s each). */
  shutdownTimeoutMs?: number;
  /** Intercepted hosts whose TLS context is kept (default 1000, LRU). */
  maxLeafCerts?: number;
}

export interface ResolvedForwardProxyOptions {
  readonly listen: { readonly host: string; readonly port: number };
  readonly recorder: ExchangeRecorder;
  readonly ca: CaPem | null;
  readonly passThrough: (host: string) => boolean;
  readonly bodyCap: number;
  readonly upstreamTimeoutMs: number;
  readonly upstreamCa: string | null;
  readonly upstreamConnections: number;
  readonly adminPath: string | null;
  readonly captureId: string;
  readonly shutdownTimeoutMs: number;
  readonly maxLeafCerts: number;
}

/**
 * Check and complete the options; throws one error naming every problem.
 *
 * @example
 * resolveForwardProxyOptions({ listen: { host: '127.0.0.1', port: 8888 }, recorder, passThrough: ['*.internal'] })
 */
export function resolveForwardProxyOptions(o: ForwardProxyOptions): ResolvedForwardProxyOptions {
  const problems = collectProblems(o);
  if (typeof o.recorder?.offer !== 'function') problems.push('recorder: must be an ExchangeRecorder');
  if (problems.length > 0) throw new RepriseError('PROXY_OPTIONS_INVALID', `forward proxy options: ${problems.join('; ')}`);
  return Object.freeze({
    listen: Object.freeze({ host: o.listen.host, port: o.listen.port }),
    recorder: o.recorder,
    ca: o.ca ?? null,
    passThrough: compileHostGlobs(o.passThrough ?? []),
    bodyCap: o.bodyCap ?? DEFAULT_BODY_CAP,
    upstreamTimeoutMs: o.upstreamTimeoutMs ?? 30_000,
    upstreamCa: o.upstreamCa ?? null,
    upstreamConnections: o.upstreamConnections ?? 64,
    adminPath: o.adminPath === false ? null : (o.adminPath ?? DEFAULT_ADMIN_PATH),
    captureId: o.captureId ?? `proxy-${newExchangeId()}`,
    shutdownTimeoutMs: o.shutdownTimeoutMs ?? 10_000,
    maxLeafCerts: o.maxLeafCerts ?? 1000,
  });
}

/**
 * The same checks without a recorder: the CLI runs them before it opens (and
 * so creates) the store.
 *
 * @example
 * validateForwardProxyOptions({ listen: { host: '127.0.0.1', port: 8888 } })
 */
export function validateForwardProxyOptions(o: Omit<ForwardProxyOptions, 'recorder'>): void {
  const problems = collectProblems(o);
  if (problems.length > 0) throw new RepriseError('PROXY_OPTIONS_INVALID', `forward proxy options: ${problems.join('; ')}`);
}

function collectProblems(o: Omit<ForwardProxyOptions, 'recorder'>): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, msg: string): void => void (ok || problems.push(msg));
  check(typeof o.listen?.host === 'string' && o.listen.host !== '', 'listen.host: must be a host name or address');
  check(Number.isInteger(o.listen?.port) && o.listen.port >= 0 && o.listen.port <= 65535, 'listen.port: must be 0–65535');
  const int = (v: number | undefined, name: string, min: number): void => check(v === undefined || (Number.isInteger(v) && v >= min), `${name}: must be a whole number ≥ ${min}`);
  int(o.bodyCap, 'bodyCap', 0);
  int(o.upstreamTimeoutMs, 'upstreamTimeoutMs', 1);
  int(o.upstreamConnections, 'upstreamConnections', 1);
  int(o.shutdownTimeoutMs, 'shutdownTimeoutMs', 0);
  int(o.maxLeafCerts, 'maxLeafCerts', 1);
  check(o.ca === undefined || (typeof o.ca.cert === 'string' && typeof o.ca.key === 'string'), 'ca: must be { cert, key } PEM strings');
  check(o.upstreamCa === undefined || (typeof o.upstreamCa === 'string' && o.upstreamCa.includes('-----BEGIN CERTIFICATE-----')), 'upstreamCa: must be PEM certificate text');
  check(o.adminPath === undefined || o.adminPath === false || (typeof o.adminPath === 'string' && o.adminPath.startsWith('/')), 'adminPath: must start with / (or be false)');
  check(o.captureId === undefined || (typeof o.captureId === 'string' && o.captureId !== ''), 'captureId: must not be empty');
  (o.passThrough ?? []).forEach((g, i) => check(typeof g === 'string' && /^[A-Za-z0-9*._:[\]-]+$/.test(g), `passThrough[${i}]: "${String(g)}" is not a host glob (letters, digits, . - _ : [ ] and *)`));
  return problems;
}

/**
 * A matcher for host globs: `*` stands for any run of characters (dots
 * included), everything else is literal and case-insensitive. IPv6 hosts are
 * matched without brackets.
 *
 * @example
 * compileHostGlobs(['*.example.com'])('api.eu.example.com') // true
 * compileHostGlobs(['*.example.com'])('example.com')        // false
 */
export function compileHostGlobs(globs: readonly string[]): (host: string) => boolean {
  if (globs.length === 0) return () => false;
  const parts = globs.map((g) => g.toLowerCase().replace(/^\[|\]$/g, '').split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*'));
  const re = new RegExp(`^(?:${parts.join('|')})$`);
  return (host) => re.test(host.toLowerCase().replace(/^\[|\]$/g, ''));
}
