/**
 * The Exchange record, store format v1: one HTTP request and its response (or
 * the reason there is none). This file is the contract every stage shares;
 * docs/format.md is its prose twin and must change with it.
 */

export const EXCHANGE_VERSION = 1 as const;

/** A header as seen on the wire: original case, order and duplicates kept. */
export type Header = [name: string, value: string];

/**
 * A message body, binary-safe. `data` holds the *decoded* bytes (after
 * Content-Encoding was undone) as UTF-8 text when they are valid UTF-8, else
 * base64. `contentEncoding` records what was on the wire so a replay can
 * re-encode and a diff can say so.
 */
export interface Body {
  encoding: 'utf8' | 'base64';
  data: string;
  /** Full decoded size in bytes, even when `data` was cut at the storage cap. */
  size: number;
  /** True when `data` holds only the first bytes of the body. */
  truncated?: boolean;
  /** Original Content-Encoding (gzip, br, deflate, zstd) that was decoded away. */
  contentEncoding?: string;
}

export interface ExchangeRequest {
  method: string;
  scheme: 'http' | 'https';
  /** host[:port] as the client addressed it (Host header or absolute-form). */
  authority: string;
  /** Path without the query, as sent (not re-encoded). Starts with '/' or is '*'. */
  path: string;
  /** Raw query string without '?', order and encoding kept; '' when absent. */
  query: string;
  /** '1.0', '1.1', '2', '3'. */
  httpVersion: string;
  headers: Header[];
  body: Body | null;
}

export interface ExchangeResponse {
  status: number;
  statusText?: string;
  httpVersion: string;
  headers: Header[];
  body: Body | null;
}

export type SourceKind = 'proxy' | 'pcap' | 'vxlan' | 'apigw' | 'har' | 'replay' | 'synthetic';

/** Where the record came from; connection + seq let replay keep keep-alive order. */
export interface Provenance {
  kind: SourceKind;
  /** One capture run (a proxy session, an imported file). */
  captureId: string;
  /** Connection or session the request travelled on, unique within the capture. */
  connection?: string;
  /** 0-based order of the request within its connection. */
  seq?: number;
}

/** Why an exchange has no (complete) response. */
export interface ExchangeError {
  kind: 'timeout' | 'reset' | 'refused' | 'no-response' | 'protocol' | 'other';
  message: string;
}

export interface NetworkFacts {
  /** 'ip:port' of the client and server, where known. */
  client?: string;
  server?: string;
  tls?: boolean;
}

export interface Exchange {
  v: typeof EXCHANGE_VERSION;
  /** Stable, unique, time-ordered id (UUIDv7). */
  id: string;
  /** Request start, integer microseconds since the Unix epoch. */
  start: number;
  /** Request start to last response byte, integer microseconds; null when unknown. */
  duration: number | null;
  source: Provenance;
  request: ExchangeRequest;
  /** null when no response was seen; `error` says why. */
  response: ExchangeResponse | null;
  error?: ExchangeError;
  /** Set when bytes are missing (a capture gap); the reason in words. */
  incomplete?: string;
  network?: NetworkFacts;
  /** HAR-style phase timings in milliseconds, where the source knew them. */
  timings?: Record<string, number>;
  /**
   * Fields a transform replaced, as paths like `request.headers.authorization`
   * or `response.body.$.user.email`; a diff never reports these.
   */
  redactions?: string[];
  /** Free-form annotations from sources and plugins; never interpreted. */
  meta?: Record<string, unknown>;
}

/** Full URL of the request, for people and HAR. */
export function requestUrl(req: ExchangeRequest): string {
  const query = req.query === '' ? '' : `?${req.query}`;
  return `${req.scheme}://${req.authority}${req.path}${query}`;
}

/** Case-insensitive header lookup; the first value wins. */
export function getHeader(headers: readonly Header[], name: string): string | undefined {
  const lower = lowerCased(name);
  for (const [n, v] of headers) if (lowerCased(n) === lower) return v;
  return undefined;
}

// Header names and media types repeat on every record, and every transform step lower-cases them again.
// Each distinct one is lower-cased once: no new string per call, and Set and Map lookups by the result
// find its hash already computed (hashing a fresh string cost more than the lookup). Bounded by clearing;
// long strings are not kept.
const lowered = new Map<string, string>();
const MAX_LOWERED = 1024;
const MAX_LOWERED_LENGTH = 64;

/**
 * `s.toLowerCase()`, remembered for short strings that recur (header names, content types).
 *
 * @example
 * lowerCased('Content-Type') // 'content-type'
 */
export function lowerCased(s: string): string {
  let lower = lowered.get(s);
  if (lower === undefined) {
    lower = s.toLowerCase();
    if (s.length > MAX_LOWERED_LENGTH) return lower;
    if (lowered.size >= MAX_LOWERED) lowered.clear();
    lowered.set(s, lower);
  }
  return lower;
}

/** Host without the port, lower-cased. */
export function hostOf(req: ExchangeRequest): string {
  const a = req.authority;
  if (a.startsWith('[')) return a.slice(0, a.indexOf(']') + 1).toLowerCase();
  const colon = a.lastIndexOf(':');
  return (colon === -1 ? a : a.slice(0, colon)).toLowerCase();
}
