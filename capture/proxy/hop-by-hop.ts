import type { Header } from '../../store/exchange.js';

/**
 * Header handling at a proxy hop (RFC 9110 §7.6.1): Connection, the fields
 * it names, and the fixed hop-by-hop set belong to one connection and are not
 * forwarded; everything else passes in its original order, case and
 * duplication. Headers travel as Node/undici flat arrays
 * (`[name, value, name, value, …]`), the one form that keeps all three.
 */

/** Never forwarded. TE/Trailer and Transfer-Encoding are re-framed by the next hop's own HTTP stack. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection', // non-standard, still sent by old clients
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Request headers as undici accepts them: also without Expect (Node's server
 * already answered `100-continue`, and undici refuses the header) and with at
 * most one Content-Length (undici refuses a duplicate; Node's parser already
 * rejected conflicting ones).
 */
const REQUEST_ONLY = new Set(['expect']);

/**
 * The flat header list minus hop-by-hop fields.
 *
 * @example
 * forwardableHeaders(['Host', 'a', 'Connection', 'close, X-Trace', 'X-Trace', '1', 'Accept', 'text/html'], 'request')
 * // ['Host', 'a', 'Accept', 'text/html']
 */
export function forwardableHeaders(raw: readonly string[], side: 'request' | 'response'): string[] {
  const named = connectionOptions(raw);
  const out: string[] = [];
  let contentLength = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || (named !== null && named.has(lower))) continue;
    if (side === 'request') {
      if (REQUEST_ONLY.has(lower)) continue;
      if (lower === 'content-length') {
        if (contentLength) continue;
        contentLength = true;
      }
    }
    out.push(name, raw[i + 1]!);
  }
  return out;
}

/**
 * Headers for an upgrade request: Connection and Upgrade must reach the
 * upstream for the handshake to mean anything, so only the other hop-by-hop
 * fields are dropped.
 */
export function upgradeRequestHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (lower === 'keep-alive' || lower === 'proxy-connection' || lower === 'te' || lower === 'trailer') continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** Field names listed in Connection headers (lower-cased), or null when there are none. */
function connectionOptions(raw: readonly string[]): Set<string> | null {
  let named: Set<string> | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    // Cheap length check first: this runs for every header of every request.
    if (raw[i]!.length !== 10 || raw[i]!.toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.split(',')) {
      const t = token.trim().toLowerCase();
      if (t !== '' && t !== 'close' && t !== 'keep-alive') (named ??= new Set()).add(t);
    }
  }
  return named;
}

/** A flat header list as the Exchange's [name, value] pairs (all of them: the record keeps what was on the wire). */
export function headerPairs(raw: readonly string[]): Header[] {
  const out: Header[] = new Array(raw.length >> 1);
  for (let i = 0, j = 0; i + 1 < raw.length; i += 2, j++) out[j] = [raw[i]!, raw[i + 1]!];
  return out;
}

/** Content-Encoding tokens of a flat header list, lower-cased, in order (several headers join). */
export function contentCodings(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'content-encoding') continue;
    for (const t of raw[i + 1]!.split(',')) {
      const c = t.trim().toLowerCase();
      if (c !== '') out.push(c);
    }
  }
  return out;
}
