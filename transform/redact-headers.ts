import { lowerCased, type Exchange, type Header } from '../store/exchange.js';
import { copyExchange, copyRequest, copyResponse } from '../store/exchange-copy.js';

/**
 * Header redaction that every capture source applies by default, so secrets
 * never reach disk. The shape of a value is kept where it helps later
 * stages — the auth scheme (`Bearer [REDACTED]`), cookie names and Set-Cookie
 * attributes — so replay can fill them and a diff can still compare names.
 * Each replaced header is recorded in `redactions` as `request.headers.<name>`.
 */

export const REDACTED = '[REDACTED]';

/** Lower-case names redacted at capture unless the user turns it off. */
export const DEFAULT_SECRET_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'apikey',
  'x-auth-token',
  'x-access-token',
  'x-amz-security-token',
  'x-goog-api-key',
  'ocp-apim-subscription-key',
];

/**
 * The header names a capture redacts: the defaults unless `defaults` is false,
 * plus the user's own (`--redact-header`, a scenario's `redact.headers`), which
 * are redacted either way. Lower-cased and without repeats, decided here once
 * for every capture source and the CLI; false when the list is empty (stored
 * in clear).
 *
 * @example
 * secretHeaderNames({ defaults: false, extra: ['X-Session'] }) // ['x-session']
 */
export function secretHeaderNames(options: { defaults?: boolean; extra?: readonly string[] } = {}): readonly string[] | false {
  const names = new Set([...(options.defaults === false ? [] : DEFAULT_SECRET_HEADERS), ...(options.extra ?? []).map((n) => n.toLowerCase())]);
  return names.size > 0 ? [...names] : false;
}

/**
 * A copy of the exchange with secret header values replaced (the input is not modified).
 *
 * @example
 * redactSecretHeaders(ex).request.headers // [['Authorization', 'Bearer [REDACTED]'], …]
 */
export function redactSecretHeaders(ex: Exchange, names: readonly string[] = DEFAULT_SECRET_HEADERS): Exchange {
  const secret = secretSet(names);
  const marks = new Set(ex.redactions ?? []);
  const req = redactList(ex.request.headers, secret, 'request', marks);
  const res = ex.response ? redactList(ex.response.headers, secret, 'response', marks) : null;
  if (!req && !res) return ex;
  // Field-by-field copies, not spreads: capture redacts every recorded exchange (see store/exchange-copy.ts).
  const out = copyExchange(ex);
  if (req) {
    out.request = copyRequest(ex.request);
    out.request.headers = req;
  }
  if (ex.response && res) {
    out.response = copyResponse(ex.response);
    out.response.headers = res;
  }
  out.redactions = [...marks];
  return out;
}

// Capture passes the same list for every exchange it records: its lower-cased set is built once per list.
const secretSets = new WeakMap<readonly string[], Set<string>>();

function secretSet(names: readonly string[]): Set<string> {
  let set = secretSets.get(names);
  if (!set) {
    set = new Set(names.map((n) => n.toLowerCase()));
    secretSets.set(names, set);
  }
  return set;
}

function redactList(headers: Header[], secret: Set<string>, side: string, marks: Set<string>): Header[] | null {
  let changed: Header[] | null = null;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    const lower = lowerCased(name);
    if (!secret.has(lower) || value === REDACTED) continue;
    const masked = maskValue(lower, value);
    if (masked === value) continue;
    changed ??= headers.slice();
    changed[i] = [name, masked];
    marks.add(`${side}.headers.${lower}`);
  }
  return changed;
}

function maskValue(name: string, value: string): string {
  return redactHeaderValue(name, value, () => REDACTED);
}

/**
 * A header value with its secret parts replaced by `replace(secret)`, keeping
 * the shape: cookie names, Set-Cookie attributes, the auth scheme. `name` is
 * lower-case. The redact step uses this with its mask or keyed-hash replacer.
 *
 * @example
 * redactHeaderValue('authorization', 'Bearer abc', () => 'x') // 'Bearer x'
 */
export function redactHeaderValue(name: string, value: string, replace: (secret: string) => string): string {
  if (name === 'cookie') {
    return value.split(';').map((part) => {
      const eq = part.indexOf('=');
      return eq === -1 ? part : `${part.slice(0, eq)}=${replace(part.slice(eq + 1))}`;
    }).join(';');
  }
  if (name === 'set-cookie') {
    const semi = value.indexOf(';');
    const first = semi === -1 ? value : value.slice(0, semi);
    const eq = first.indexOf('=');
    const secret = eq === -1 ? '' : first.slice(eq + 1);
    return `${eq === -1 ? first : first.slice(0, eq)}=${replace(secret)}${semi === -1 ? '' : value.slice(semi)}`;
  }
  if (name === 'authorization' || name === 'proxy-authorization') {
    const space = value.indexOf(' ');
    if (space > 0 && /^[A-Za-z][\w-]*$/.test(value.slice(0, space))) return `${value.slice(0, space)} ${replace(value.slice(space + 1))}`;
  }
  return replace(value);
}
