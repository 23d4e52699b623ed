import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExchangeError } from '../../store/exchange.js';

/**
 * What an upstream failure means for the client (the status a gateway
 * answers with, RFC 9110 §15.6.3 and §15.6.5) and for the record (the
 * ExchangeError kind). Codes come from node:net and undici's errors.
 */

export type UpstreamErrorKind = 'refused' | 'reset' | 'timeout' | 'protocol' | 'other';

export interface UpstreamFailure {
  kind: UpstreamErrorKind;
  /** 502 Bad Gateway or 504 Gateway Timeout. */
  status: 502 | 504;
  message: string;
}

const BY_CODE: Record<string, UpstreamErrorKind> = {
  ECONNREFUSED: 'refused',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  UND_ERR_SOCKET: 'reset', // "other side closed": the upstream closed mid-exchange
  UND_ERR_CLOSED: 'reset',
  ETIMEDOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  UND_ERR_RESPONSE_CONTENT_LENGTH_MISMATCH: 'protocol',
  UND_ERR_INFO: 'protocol',
};

/**
 * Classify an error from the upstream side.
 *
 * @example
 * classifyUpstreamError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }))
 * // { kind: 'refused', status: 502, message: 'connect ECONNREFUSED 127.0.0.1:9' }
 */
export function classifyUpstreamError(err: unknown): UpstreamFailure {
  const e = err as (Error & { code?: string }) | undefined;
  const code = e?.code ?? '';
  let kind: UpstreamErrorKind = BY_CODE[code] ?? 'other';
  // llhttp parse errors surface as HPE_* codes: the upstream spoke broken HTTP.
  if (kind === 'other' && code.startsWith('HPE_')) kind = 'protocol';
  const message = e?.message ? (code && !e.message.includes(code) ? `${e.message} (${code})` : e.message) : String(err);
  return { kind, status: kind === 'timeout' ? 504 : 502, message };
}

/** The record's error field for a failure. */
export function exchangeErrorOf(f: UpstreamFailure): ExchangeError {
  return { kind: f.kind, message: f.message };
}

/**
 * Answer the client for a failed upstream: 502/504 with a one-line text body
 * and `x-reprise-upstream-error`, or — once the status line is gone — an
 * abrupt close, the only honest signal left. `upstream` is prefixed to the
 * text (forward mode names the host; reverse mode has one upstream).
 */
export function sendGatewayError(req: IncomingMessage, res: ServerResponse, f: UpstreamFailure, upstream = ''): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  // A request body still arriving cannot be left half-read on a keep-alive
  // connection: close it after this response and discard the rest.
  if (!req.complete) {
    res.shouldKeepAlive = false;
    req.unpipe();
    req.resume();
  }
  const text = `reprise proxy: upstream ${upstream}${f.kind}: ${f.message}\n`;
  res.writeHead(f.status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), 'x-reprise-upstream-error': f.kind });
  res.end(text);
}
