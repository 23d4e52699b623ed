// Why this file exists: SQS caps a message at 256 KiB, so the forwarder's SQS extended client
// library moves bigger payloads to S3 and queues a pointer in their place. Such a pointer can
// reach us as the whole POST body, as one element of a batch, or JSON-encoded inside a string;
// this file recognizes all three and fetches the payload text from S3, bounded in size.
import type { S3Client } from '@aws-sdk/client-s3';
import { RepriseError } from '../../errors.js';
import { loadS3Sdk } from '../../store/s3/s3-client.js';
import { isObject } from './apigw-fields.js';
import { invalidUtf8At, notUtf8Problem } from './utf8-text.js';

export const POINTER_CLASS = 'software.amazon.payloadoffloading.PayloadS3Pointer';

export interface PayloadPointer {
  bucket: string;
  key: string;
}

export type PointerCheck = { pointer: PayloadPointer } | { problem: string } | null;

const ENCODED = /^\s*\[\s*"software\.amazon\.payloadoffloading\.PayloadS3Pointer"/;

/**
 * Is `value` an extended-client pointer? `null` when it is not one; a problem when it claims
 * to be one (names the pointer class) but is malformed.
 *
 * @example
 * checkPointer([POINTER_CLASS, { s3BucketName: 'b', s3Key: 'k' }]) // { pointer: { bucket: 'b', key: 'k' } }
 */
export function checkPointer(value: unknown): PointerCheck {
  if (typeof value === 'string') {
    if (!ENCODED.test(value)) return null;
    try {
      return checkPointer(JSON.parse(value) as unknown) ?? { problem: 'not a valid payload pointer' };
    } catch {
      return { problem: 'a JSON-encoded payload pointer that is not valid JSON' };
    }
  }
  if (!Array.isArray(value) || value[0] !== POINTER_CLASS) return null;
  const ref: unknown = value[1];
  if (value.length !== 2 || !isObject(ref)) return { problem: `a payload pointer must be ["${POINTER_CLASS}", {"s3BucketName", "s3Key"}]` };
  const bucket = ref.s3BucketName;
  const key = ref.s3Key;
  if (typeof bucket !== 'string' || bucket === '') return { problem: 'payload pointer: s3BucketName must be a non-empty string' };
  if (typeof key !== 'string' || key === '') return { problem: 'payload pointer: s3Key must be a non-empty string' };
  return { pointer: { bucket, key } };
}

/** A pointer that could not be fetched; `retryable` when trying again later may work. */
export class PointerUnresolvedError extends RepriseError {
  constructor(readonly pointer: PayloadPointer, message: string, readonly retryable: boolean, cause?: unknown) {
    super('APIGW_POINTER_UNRESOLVED', `s3://${pointer.bucket}/${pointer.key}: ${message}`, cause === undefined ? {} : { cause });
  }
}

export interface PointerResolverOptions {
  /** The S3 client, or a function making it on first use (the AWS SDK is slow to load). */
  client: S3Client | (() => Promise<S3Client>);
  /** Largest payload object fetched (default 64 MiB: far above a batch of 10 MB API Gateway payloads). */
  maxBytes?: number;
}

export type ResolvePointer = (pointer: PayloadPointer) => Promise<string>;

/**
 * A function that fetches a pointer's payload text with GetObject. Errors are
 * PointerUnresolvedError naming the bucket and key: a missing object or bucket, an object over
 * `maxBytes`, or one that is not UTF-8 are permanent; anything else (network, throttling,
 * access denied) is retryable, because the forwarder may delete the S3 object once we answer.
 *
 * @example
 * const resolve = makePointerResolver({ client: s3 });
 * const text = await resolve({ bucket: 'offload', key: 'a1b2' });
 */
export function makePointerResolver(options: PointerResolverOptions): ResolvePointer {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  let client: Promise<S3Client> | null = null;
  const getClient = (): Promise<S3Client> => {
    const c = options.client;
    client ??= typeof c === 'function' ? c() : Promise.resolve(c);
    return client;
  };
  return async (pointer) => {
    const { GetObjectCommand } = await loadS3Sdk();
    let res;
    try {
      res = await (await getClient()).send(new GetObjectCommand({ Bucket: pointer.bucket, Key: pointer.key }));
    } catch (err) {
      const name = (err as { name?: string }).name ?? '';
      const permanent = name === 'NoSuchKey' || name === 'NoSuchBucket' || name === 'NotFound';
      throw new PointerUnresolvedError(pointer, `GetObject failed: ${name ? `${name}: ` : ''}${(err as Error).message}`, !permanent, err);
    }
    const body = res.Body as AsyncIterable<Uint8Array> & { destroy?: () => void } | undefined;
    if (!body) throw new PointerUnresolvedError(pointer, 'GetObject returned no body', true);
    if (res.ContentLength !== undefined && res.ContentLength > maxBytes) {
      body.destroy?.();
      throw new PointerUnresolvedError(pointer, `object is ${res.ContentLength} bytes, over the ${maxBytes}-byte limit`, false);
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    try {
      for await (const chunk of body) {
        bytes += chunk.length;
        // ContentLength can be absent (chunked answers from S3-compatible servers): count as we read.
        if (bytes > maxBytes) {
          body.destroy?.();
          throw new PointerUnresolvedError(pointer, `object is over the ${maxBytes}-byte limit`, false);
        }
        chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      }
    } catch (err) {
      if (err instanceof PointerUnresolvedError) throw err;
      throw new PointerUnresolvedError(pointer, `reading the object failed: ${(err as Error).message}`, true, err);
    }
    const text = Buffer.concat(chunks);
    const bad = invalidUtf8At(text);
    if (bad !== -1) throw new PointerUnresolvedError(pointer, `object is ${notUtf8Problem(text, bad, bad)}`, false);
    return text.toString('utf8');
  };
}
