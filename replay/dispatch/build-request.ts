import type { Exchange, Header } from '../../store/exchange.js';
import { bodyToBuffer } from '../../store/body.js';

/**
 * The request that goes on the wire for a recorded exchange. It is the
 * recorded request byte for byte — method, path + query as recorded (not
 * re-encoded), header names in their case, order and duplicates, body bytes —
 * apart from these declared rewrites:
 *
 * - Host is set to the target's authority. undici writes it as the first
 *   header line (lower-case `host`), whatever its recorded position.
 * - Hop-by-hop headers are dropped (they described the recorded connection,
 *   not the request): Connection and the headers it names, Keep-Alive,
 *   Proxy-Connection, Proxy-Authorization, TE, Trailer, Transfer-Encoding,
 *   Upgrade; undici adds its own `connection: keep-alive`.
 * - The body is sent decoded: the store keeps decoded bytes, so a recorded
 *   Content-Encoding header is dropped rather than re-compressing (which
 *   would not reproduce the original bytes anyway — compressor settings are
 *   unknown). Content-Length is recomputed by undici from the bytes sent and
 *   written after the other headers. A truncated stored body is sent as the
 *   prefix that was kept (`truncated` in the result says so).
 * - Expect is dropped (undici does not do 100-continue).
 * - `overrides` replace a header of the same name in place (first occurrence;
 *   later duplicates removed) or are appended.
 */
export interface SendableRequest {
  method: string;
  /** Path and query exactly as recorded. */
  path: string;
  /** Flat [name, value, name, value, …] — undici's order-preserving form. */
  headers: string[];
  body: Buffer | null;
  /** The stored body was cut at the capture's cap. */
  truncated: boolean;
  /** Approximate bytes of the request head + body (for throughput, not billing). */
  bytes: number;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
// Dropped because the dispatcher sets them itself (see above).
const REWRITTEN = new Set(['host', 'content-length', 'expect']);

export function buildRequest(ex: Exchange, targetAuthority: string, overrides: readonly Header[] = []): SendableRequest {
  const req = ex.request;
  const connectionNamed = new Set<string>();
  for (const [n, v] of req.headers) {
    if (n.toLowerCase() === 'connection') for (const t of v.split(',')) connectionNamed.add(t.trim().toLowerCase());
  }
  const decodedBody = req.body?.contentEncoding !== undefined;
  const kept: Header[] = [];
  for (const h of req.headers) {
    const lower = h[0].toLowerCase();
    if (HOP_BY_HOP.has(lower) || connectionNamed.has(lower) || REWRITTEN.has(lower)) continue;
    if (decodedBody && lower === 'content-encoding') continue;
    kept.push([h[0], h[1]]);
  }
  const headers = applyOverrides(kept, overrides);
  const flat: string[] = ['host', targetAuthority];
  let headBytes = req.method.length + req.path.length + req.query.length + 16 + targetAuthority.length + 8;
  for (const [n, v] of headers) {
    flat.push(n, v);
    headBytes += n.length + v.length + 4;
  }
  const body = req.body ? bodyToBuffer(req.body) : null;
  return {
    method: req.method,
    path: req.query === '' ? req.path : `${req.path}?${req.query}`,
    headers: flat,
    body: body && body.length > 0 ? body : null,
    truncated: req.body?.truncated === true,
    bytes: headBytes + (body?.length ?? 0),
  };
}

function applyOverrides(headers: Header[], overrides: readonly Header[]): Header[] {
  let out = headers;
  for (const [name, value] of overrides) {
    const lower = name.toLowerCase();
    let placed = false;
    out = out.flatMap((h): Header[] => {
      if (h[0].toLowerCase() !== lower) return [h];
      if (placed) return [];
      placed = true;
      return [[h[0], value]];
    });
    if (!placed) out.push([name, value]);
  }
  return out;
}

/** Parse `--header 'Name: value'`; returns null when there is no colon or no name. */
export function parseHeaderOption(text: string): Header | null {
  const i = text.indexOf(':');
  if (i <= 0) return null;
  return [text.slice(0, i).trim(), text.slice(i + 1).trim()];
}
