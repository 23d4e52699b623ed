import { RepriseError } from '../../errors.js';
import { hostOf, type Exchange } from '../../store/exchange.js';
import { safeTarget } from '../report/report-input.js';

/**
 * Replay sends real, possibly side-effecting traffic, so where it may go is
 * checked before the first byte leaves: the target must be an http(s) origin,
 * inside the allowlist when one is configured, and never the host the traffic
 * was recorded from (production) unless the caller says so explicitly.
 */
export interface TargetPolicy {
  /** Hosts (no port) a target may name; empty or absent = only `--target` itself. */
  allowHosts?: string[];
  /** Permit a target whose host equals a recorded exchange's host. */
  allowRecordedHost?: boolean;
  /** Skip side-effecting methods (anything but GET, HEAD, OPTIONS, TRACE). */
  safeMethodsOnly?: boolean;
  /** Methods never sent (upper-case); skipped exchanges are counted, not failed. */
  excludeMethods?: readonly string[];
}

export interface ReplayTarget {
  url: URL;
  /** `http://host:port`, the key for connection pools. */
  origin: string;
  /** host[:port] as it goes into the Host header. */
  authority: string;
  /** Lower-case host without port or trailing dot (brackets kept for IPv6), compared with recorded hosts. */
  host: string;
}

/**
 * A host as DNS sees it: case and one trailing dot do not change where a name
 * resolves (`API.example.com.` is `api.example.com`), so neither may get a
 * target past the allowlist or the recorded-host refusal.
 */
export function comparableHost(host: string): string {
  const h = host.toLowerCase();
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Parse and check `--target`; throws REPLAY_TARGET_NOT_ALLOWED with the reason in one line. */
export function checkTarget(target: string, policy: TargetPolicy = {}): ReplayTarget {
  let url: URL;
  try {
    url = new URL(target);
  } catch (err) {
    throw new RepriseError('REPLAY_TARGET_NOT_ALLOWED', `target "${shownTarget(target)}" is not a URL (expected http(s)://host[:port])`, { cause: err });
  }
  const shown = shownTarget(target);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RepriseError('REPLAY_TARGET_NOT_ALLOWED', `target "${shown}": only http and https targets are supported`);
  }
  // The recorded path and query are sent as they were; a base path on the target would silently rewrite them.
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) {
    throw new RepriseError('REPLAY_TARGET_NOT_ALLOWED', `target "${shown}": give an origin only (scheme://host[:port]), no path, query or credentials`);
  }
  const host = comparableHost(url.hostname);
  const allow = (policy.allowHosts ?? []).map(comparableHost);
  if (allow.length > 0 && !allow.includes(host)) {
    throw new RepriseError('REPLAY_TARGET_NOT_ALLOWED', `target host ${host} is not in the allowlist (${allow.join(', ')})`);
  }
  return { url, origin: url.origin, authority: url.host, host };
}

/**
 * The target as error messages may echo it: they end up in CI logs, so no
 * userinfo at all (a token may stand there without a password) and no
 * secret-looking query values.
 */
function shownTarget(target: string): string {
  return safeTarget(target).replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1[credentials]@');
}

/**
 * Throws REPLAY_RECORDED_HOST when the exchange was recorded from the target's
 * host. Called for every exchange as it streams by (the store is never read
 * twice just to collect hosts), and on the first one before anything is sent.
 */
export function checkRecordedHost(ex: Exchange, target: ReplayTarget, policy: TargetPolicy = {}): void {
  if (policy.allowRecordedHost) return;
  if (comparableHost(hostOf(ex.request)) === target.host) {
    throw new RepriseError(
      'REPLAY_RECORDED_HOST',
      `target host ${target.host} is the host this traffic was recorded from (exchange ${ex.id}); replaying there would hit production — pass --allow-recorded-host if that is intended`,
    );
  }
}

/** Whether an exchange passes the method policy. */
export function methodAllowed(ex: Exchange, policy: TargetPolicy = {}): boolean {
  return methodNameAllowed(ex.request.method, policy);
}

/** Whether a method passes the method policy (for counts by method, as in a manifest). */
export function methodNameAllowed(method: string, policy: TargetPolicy = {}): boolean {
  const m = method.toUpperCase();
  if (policy.safeMethodsOnly && !SAFE_METHODS.has(m)) return false;
  return !policy.excludeMethods?.includes(m);
}

/**
 * Parse `--exclude-methods`: a comma list (`POST,DELETE`), or `unsafe` for
 * every method but GET, HEAD, OPTIONS and TRACE.
 */
export function parseExcludeMethods(text: string): Pick<TargetPolicy, 'excludeMethods' | 'safeMethodsOnly'> {
  const items = text.split(',').map((m) => m.trim().toUpperCase()).filter((m) => m !== '');
  const bad = items.filter((m) => m !== 'UNSAFE' && !/^[A-Z][A-Z-]*$/.test(m));
  if (items.length === 0 || bad.length > 0) {
    throw new RepriseError('REPLAY_OPTIONS_INVALID', `--exclude-methods "${text}": expected a comma list of HTTP methods or "unsafe"`);
  }
  return { safeMethodsOnly: items.includes('UNSAFE'), excludeMethods: items.filter((m) => m !== 'UNSAFE') };
}

/**
 * Refuse before the first send when a sealed segment's manifest statistics
 * already name the target host (cheap: no record is read). Unsealed segments
 * have no statistics; `checkRecordedHost` catches those exchanges as they stream.
 */
export function checkRecordedHosts(hosts: Iterable<string>, target: ReplayTarget, policy: TargetPolicy = {}): void {
  if (policy.allowRecordedHost) return;
  for (const h of hosts) {
    if (comparableHost(hostOf({ authority: h } as Exchange['request'])) === target.host) {
      throw new RepriseError(
        'REPLAY_RECORDED_HOST',
        `target host ${target.host} is the host this traffic was recorded from (the store's manifest lists ${h}); replaying there would hit production — pass --allow-recorded-host if that is intended`,
      );
    }
  }
}
