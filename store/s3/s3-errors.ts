import { RepriseError } from '../../errors.js';

/**
 * AWS SDK errors → RepriseError with a one-line message naming the object
 * (`s3://bucket/key`). The SDK's own messages can span lines or be empty
 * (a bare 404 on HEAD), so the code and status are spelled out here.
 */

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/** True when the bucket or key does not exist. */
export function isS3NotFound(err: unknown): boolean {
  const e = err as SdkError;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.name === 'NoSuchBucket' || e?.$metadata?.httpStatusCode === 404;
}

/** True for failures that retrying later may cure: no connection, timeouts, throttling, 5xx. */
export function isS3Transient(err: unknown): boolean {
  const e = err as SdkError;
  const status = e?.$metadata?.httpStatusCode;
  if (status === undefined) return true; // never got an HTTP answer: refused, reset, DNS, timeout
  return status >= 500 || status === 429 || e.$retryable !== undefined || e.name === 'SlowDown' || e.name === 'RequestTimeout';
}

/** A short, single-line description of an SDK error for logs and reports. */
export function describeS3Error(err: unknown): string {
  const e = err as SdkError;
  const status = e?.$metadata?.httpStatusCode;
  const code = e?.code ?? (e?.name && e.name !== 'Error' ? e.name : undefined);
  const message = oneLine(e?.message ?? String(err));
  const parts = [code, status !== undefined ? `HTTP ${status}` : undefined].filter(Boolean).join(', ');
  if (message === '' || message === code || message === 'UnknownError') return parts || 'unknown error';
  return parts ? `${message} (${parts})` : message;
}

/**
 * Map an SDK error met while accessing `url` (an `s3://bucket/key`).
 * @example throw toRepriseError(err, 's3://traffic/prod/manifest.json', 'http://127.0.0.1:9000')
 */
export function toRepriseError(err: unknown, url: string, endpoint?: string): RepriseError {
  if (err instanceof RepriseError) return err;
  const e = err as SdkError;
  const location = { file: url };
  if (e?.name === 'NoSuchBucket') {
    const bucket = /^s3:\/\/([^/]+)/.exec(url)?.[1] ?? '';
    return new RepriseError('STORE_NOT_FOUND', `no such store (bucket "${bucket}" does not exist)`, { cause: err, location });
  }
  if (isS3NotFound(err)) return new RepriseError('STORE_NOT_FOUND', 'no such store object', { cause: err, location });
  if (e?.name === 'CredentialsProviderError' || /credential/i.test(e?.name ?? '')) {
    return new RepriseError('STORE_IO', `no AWS credentials (${describeS3Error(err)}); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`, { cause: err, location });
  }
  if (e?.$metadata?.httpStatusCode === undefined) {
    return new RepriseError('STORE_IO', `cannot reach S3${endpoint ? ` at ${endpoint}` : ''}: ${describeS3Error(err)}`, { cause: err, location });
  }
  return new RepriseError('STORE_IO', `S3 request failed: ${describeS3Error(err)}`, { cause: err, location });
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
