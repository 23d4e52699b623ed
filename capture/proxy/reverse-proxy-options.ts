import { RepriseError } from '../../errors.js';
import { newExchangeId } from '../../store/exchange-id.js';
import type { ExchangeRecorder } from './exchange-recorder.js';

/**
 * Options of the recording reverse proxy, validated once at the boundary:
 * every problem is reported in one PROXY_OPTIONS_INVALID error, and the
 * result is frozen.
 */

export interface ReverseProxyOptions {
  /** Address the proxy accepts clients on; port 0 picks a free one. */
  listen: { host: string; port: number };
  /** The origin every request goes to: `http://host:port` (or https). No path. */
  upstream: string;
  /** Where finished exchanges go; the proxy closes it on `close()`. */
  recorder: ExchangeRecorder;
  /** Bytes of each body kept in the store (default 1 MiB); clients always get every byte. */
  bodyCap?: number;
  /** Longest wait for the upstream's response head, and longest pause inside its body (default 30 s). */
  upstreamTimeoutMs?: number;
  /** Upper bound on keep-alive connections to the upstream (default 256); further requests queue. */
  upstreamConnections?: number;
  /** GET on this path (on the proxy's own port) returns the stats as JSON; false turns it off (default `/__reprise/stats`). */
  adminPath?: string | false;
  /** Names this run in `source.captureId` (default `proxy-<uuid>`). */
  captureId?: string;
  /** On close: how long in-flight requests may take to finish, and the store to flush (default 10 s each). */
  shutdownTimeoutMs?: number;
}

export interface ResolvedReverseProxyOptions {
  readonly listen: { readonly host: string; readonly port: number };
  readonly upstream: { readonly origin: string; readonly hostPort: string; readonly host: string; readonly port: number; readonly tls: boolean };
  readonly recorder: ExchangeRecorder;
  readonly bodyCap: number;
  readonly upstreamTimeoutMs: number;
  readonly upstreamConnections: number;
  readonly adminPath: string | null;
  readonly captureId: string;
  readonly shutdownTimeoutMs: number;
}

export const DEFAULT_BODY_CAP = 1024 * 1024;
export const DEFAULT_ADMIN_PATH = '/__reprise/stats';

/**
 * Check and complete the options; throws one error naming every problem.
 *
 * @example
 * resolveReverseProxyOptions({ listen: { host: '127.0.0.1', port: 8080 }, upstream: 'http://127.0.0.1:3000', recorder })
 */
export function resolveReverseProxyOptions(o: ReverseProxyOptions): ResolvedReverseProxyOptions {
  const problems: string[] = [];
  const upstream = collectProblems(o, problems);
  if (typeof o.recorder?.offer !== 'function') problems.push('recorder: must be an ExchangeRecorder');
  if (problems.length > 0 || !upstream) throw optionsError(problems);
  return Object.freeze({
    listen: Object.freeze({ host: o.listen.host, port: o.listen.port }),
    upstream,
    recorder: o.recorder,
    bodyCap: o.bodyCap ?? DEFAULT_BODY_CAP,
    upstreamTimeoutMs: o.upstreamTimeoutMs ?? 30_000,
    upstreamConnections: o.upstreamConnections ?? 256,
    adminPath: o.adminPath === false ? null : (o.adminPath ?? DEFAULT_ADMIN_PATH),
    captureId: o.captureId ?? `proxy-${newExchangeId()}`,
    shutdownTimeoutMs: o.shutdownTimeoutMs ?? 10_000,
  });
}

/**
 * The same checks without a recorder: the CLI runs them before it opens (and
 * so creates) the store, so a typo in --upstream leaves no empty store behind.
 */
export function validateReverseProxyOptions(o: Omit<ReverseProxyOptions, 'recorder'>): void {
  const problems: string[] = [];
  collectProblems(o, problems);
  if (problems.length > 0) throw optionsError(problems);
}

function optionsError(problems: string[]): RepriseError {
  return new RepriseError('PROXY_OPTIONS_INVALID', `reverse proxy options: ${problems.join('; ')}`);
}

function collectProblems(o: Omit<ReverseProxyOptions, 'recorder'>, problems: string[]): ResolvedReverseProxyOptions['upstream'] | null {
  const check = (ok: boolean, msg: string): void => void (ok || problems.push(msg));
  check(typeof o.listen?.host === 'string' && o.listen.host !== '', 'listen.host: must be a host name or address');
  check(Number.isInteger(o.listen?.port) && o.listen.port >= 0 && o.listen.port <= 65535, 'listen.port: must be 0–65535');
  const upstream = parseUpstream(o.upstream, problems);
  const int = (v: number | undefined, name: string, min: number): void => check(v === undefined || (Number.isInteger(v) && v >= min), `${name}: must be a whole number ≥ ${min}`);
  int(o.bodyCap, 'bodyCap', 0);
  int(o.upstreamTimeoutMs, 'upstreamTimeoutMs', 1);
  int(o.upstreamConnections, 'upstreamConnections', 1);
  int(o.shutdownTimeoutMs, 'shutdownTimeoutMs', 0);
  check(o.adminPath === undefined || o.adminPath === false || (typeof o.adminPath === 'string' && o.adminPath.startsWith('/')), 'adminPath: must start with / (or be false)');
  check(o.captureId === undefined || (typeof o.captureId === 'string' && o.captureId !== ''), 'captureId: must not be empty');
  return upstream;
}

function parseUpstream(raw: string, problems: string[]): ResolvedReverseProxyOptions['upstream'] | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`upstream: "${raw}" is not a URL (expected http://host:port)`);
    return null;
  }
  const before = problems.length;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`upstream: scheme ${url.protocol} not supported (http or https)`);
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') problems.push(`upstream: "${raw}" has a path; requests keep their own paths, so give only scheme://host:port`);
  if (url.username !== '' || url.password !== '') problems.push('upstream: credentials in the URL are not supported');
  if (problems.length > before) return null;
  const tls = url.protocol === 'https:';
  const port = url.port === '' ? (tls ? 443 : 80) : Number(url.port);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return Object.freeze({ origin: url.origin, host, port, tls, hostPort: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}` });
}
