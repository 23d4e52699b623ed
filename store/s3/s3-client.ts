import type { S3Client } from '@aws-sdk/client-s3';
import { RepriseError } from '../../errors.js';

/**
 * S3 addressing and client construction, shared by the S3 store writer and
 * reader (and by capture/apigw for pointer payloads).
 *
 * The AWS SDK is loaded lazily, on the first call that needs it: commands that
 * never touch S3 neither pay its load time nor see its Node-version warning.
 */

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash; '' for the bucket root. */
  prefix: string;
}

export interface S3ClientOptions {
  /** An S3-compatible server (`http://127.0.0.1:9000`); defaults to REPRISE_S3_ENDPOINT, then the AWS chain. */
  endpoint?: string;
  /** Defaults to the AWS chain (AWS_REGION, ~/.aws/config); `us-east-1` when an endpoint is given and none is found. */
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`); defaults to true when an endpoint is given. */
  forcePathStyle?: boolean;
  /** Explicit credentials (tests); otherwise the standard AWS credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Attempts per request inside the SDK (default 3). The store uploader keeps its own, longer retry loop. */
  maxAttempts?: number;
}

const S3_URL = /^s3:\/\/([^/]+)\/?(.*)$/;

/** True for `s3://…` store paths. */
export function isS3Url(path: string): boolean {
  return path.startsWith('s3://');
}

/**
 * Split `s3://bucket/prefix` into bucket and a normalized prefix.
 * @example parseS3Url('s3://traffic/prod/2024/') // { bucket: 'traffic', prefix: 'prod/2024' }
 */
export function parseS3Url(url: string): S3Location {
  const m = S3_URL.exec(url);
  const bucket = m?.[1] ?? '';
  if (!m || bucket.length < 3 || bucket.length > 63 || !/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(bucket)) {
    throw new RepriseError('CLI_USAGE', `${url}: not a valid s3://bucket/prefix URL (bucket names are 3–63 lowercase letters, digits, dots and dashes)`);
  }
  return { bucket, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

/** `s3://bucket/key` for messages. */
export function formatS3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** Join a store prefix and a relative key (`prefix` may be ''). */
export function joinKey(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}/${key}`;
}

/** The SDK module, loaded once, with its Node-version warning switched off (it is not actionable for reprise users). */
export async function loadS3Sdk(): Promise<typeof import('@aws-sdk/client-s3')> {
  // Documented switch, read by @aws-sdk/core's emitWarningIfUnsupportedVersion; a user who set it keeps their value.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return import('@aws-sdk/client-s3');
}

/** Endpoint from options, then REPRISE_S3_ENDPOINT, then the SDK's own AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL. */
export function resolveS3Endpoint(options: S3ClientOptions): string | undefined {
  const env = process.env;
  return options.endpoint ?? nonEmpty(env.REPRISE_S3_ENDPOINT) ?? nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
}

/**
 * An S3 client from the standard AWS chain, adjusted for S3-compatible servers.
 * Options not given fall back to REPRISE_S3_ENDPOINT, REPRISE_S3_REGION and
 * REPRISE_S3_PATH_STYLE (`true`/`false`), which the CLI flags set.
 * @example const s3 = await makeS3Client({ endpoint: 'http://127.0.0.1:4568' });
 */
export async function makeS3Client(options: S3ClientOptions = {}): Promise<S3Client> {
  const { S3Client } = await loadS3Sdk();
  const env = process.env;
  const endpoint = resolveS3Endpoint(options);
  const region =
    options.region ?? nonEmpty(env.REPRISE_S3_REGION) ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? (endpoint ? 'us-east-1' : undefined);
  const pathStyleEnv = nonEmpty(env.REPRISE_S3_PATH_STYLE);
  const forcePathStyle = options.forcePathStyle ?? (pathStyleEnv !== undefined ? pathStyleEnv !== 'false' && pathStyleEnv !== '0' : endpoint !== undefined);
  return new S3Client({
    ...(endpoint !== undefined && { endpoint }),
    ...(region !== undefined && { region }),
    ...(options.credentials && { credentials: options.credentials }),
    forcePathStyle,
    maxAttempts: options.maxAttempts ?? 3,
    // A dead endpoint fails fast instead of hanging on SYN retries. No socket idle
    // timeout: a segment read by a slow consumer (replay at recorded pace) may sit idle for long.
    requestHandler: { connectionTimeout: 5_000 },
    // S3-compatible servers (s3rver, older MinIO) do not understand the SDK's default
    // aws-chunked trailing checksums; compute them only where the S3 API requires one.
    ...(endpoint !== undefined && { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }),
  });
}

/** How a store function reaches S3: a ready client (tests, long-lived servers) or options to build one. */
export interface S3Access extends S3ClientOptions {
  client?: S3Client;
}

const sharedClients = new Map<string, Promise<S3Client>>();

/**
 * The client for `access`: the one given, else one shared per configuration
 * (a CLI command reading many segments opens one connection pool, not one per segment).
 */
export function s3ClientFor(access: S3Access = {}): Promise<S3Client> {
  if (access.client) return Promise.resolve(access.client);
  const env = process.env;
  const key = JSON.stringify([access, env.REPRISE_S3_ENDPOINT, env.REPRISE_S3_REGION, env.REPRISE_S3_PATH_STYLE, env.AWS_ENDPOINT_URL_S3, env.AWS_ENDPOINT_URL, env.AWS_REGION, env.AWS_PROFILE]);
  let client = sharedClients.get(key);
  if (!client) {
    client = makeS3Client(access);
    sharedClients.set(key, client);
  }
  return client;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
