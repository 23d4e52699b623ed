// Why this file exists: `import apigw s3://bucket/prefix` lists an archive prefix and reads each
// object as a stream. Client construction and addressing are the store's (store/s3/s3-client.ts);
// the AWS SDK is loaded only when an s3:// input is actually read.
import type { S3Client } from '@aws-sdk/client-s3';
import { RepriseError } from '../../errors.js';
import { loadS3Sdk, type S3Location } from '../../store/s3/s3-client.js';

export interface S3ObjectInfo {
  key: string;
  size: number;
  lastModified: Date | undefined;
}

/**
 * Every object under a prefix, in key order, one ListObjectsV2 page (≤ 1000 keys) at a time.
 * `where.prefix` is used as given: `apigw/2026` also matches `apigw/2026-old/…`; end it with '/'
 * for a folder.
 *
 * @example
 * for await (const o of listS3Objects(s3, { bucket: 'archive', prefix: 'apigw/' })) console.log(o.key);
 */
export async function* listS3Objects(client: S3Client, where: S3Location): AsyncGenerator<S3ObjectInfo> {
  const { ListObjectsV2Command } = await loadS3Sdk();
  let token: string | undefined;
  do {
    let page;
    try {
      page = await client.send(new ListObjectsV2Command({ Bucket: where.bucket, Prefix: where.prefix, ...(token ? { ContinuationToken: token } : {}) }));
    } catch (err) {
      throw new RepriseError('INPUT_UNREADABLE', `cannot list s3://${where.bucket}/${where.prefix}: ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
    }
    for (const o of page.Contents ?? []) {
      if (o.Key === undefined || o.Key.endsWith('/')) continue; // "folder" placeholder objects
      yield { key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/**
 * An object's bytes as a stream (never buffered whole).
 *
 * @example
 * for await (const chunk of await openS3Object(s3, 'archive', 'apigw/0001.ndjson')) …
 */
export async function openS3Object(client: S3Client, bucket: string, key: string): Promise<AsyncIterable<Uint8Array>> {
  const { GetObjectCommand } = await loadS3Sdk();
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!res.Body) throw new Error('no body');
    return res.Body as AsyncIterable<Uint8Array>;
  } catch (err) {
    throw new RepriseError('INPUT_UNREADABLE', `cannot read s3://${bucket}/${key}: ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
  }
}
