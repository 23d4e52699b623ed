import type { ErrorKind } from '../replay-result.js';

/**
 * Map a failed send to the ErrorKind the reports group by. undici wraps
 * socket errors, so the code is looked for on the error and its causes.
 */
export function classifySendError(err: unknown): ErrorKind {
  for (let e = err as { code?: unknown; cause?: unknown; name?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (code === '') continue;
    if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT' || code === 'REPRISE_TIMEOUT') return 'timeout';
    if (code === 'ECONNREFUSED') return 'refused';
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'ECONNABORTED' || code === 'UND_ERR_CLOSED') return 'reset';
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL') return 'dns';
    if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'SELF_SIGNED_CERT_IN_CHAIN' || code === 'ERR_OSSL_WRONG_VERSION_NUMBER') return 'tls';
    if (code.startsWith('HPE_') || code === 'UND_ERR_INFO' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_INVALID_ARG') return 'protocol';
  }
  const msg = String((err as Error | undefined)?.message ?? '');
  if (/timeout/i.test(msg)) return 'timeout';
  if (/ssl|tls|certificate/i.test(msg)) return 'tls';
  return 'other';
}

/** A short, single-line message for the report (no stack, no request data). */
export function describeSendError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined;
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : '';
  const msg = String(e?.message ?? err).split('\n')[0]!;
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}
