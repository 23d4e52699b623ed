import type { Readable } from 'node:stream';
import type { _Object } from '@aws-sdk/client-s3';
import { RepriseError } from '../../errors.js';
import { MANIFEST_FILE, parseManifest, segmentNumber, SEGMENTS_DIR, type Manifest } from '../manifest.js';
import type { SegmentRef } from '../segment-reader.js';
import { formatS3Url, joinKey, loadS3Sdk, parseS3Url, resolveS3Endpoint, s3ClientFor, type S3Access } from './s3-client.js';
import { isS3NotFound, toRepriseError } from './s3-errors.js';

/**
 * The read side of an S3 store: the same layout as a local store under a key
 * prefix (`<prefix>/manifest.json`, `<prefix>/segments/NNNNNN.ndjson.gz`).
 * Segments listed in manifest.json are sealed; a segment object the manifest
 * does not list (its writer died between the two uploads) is read as unsealed.
 * The segment bytes stream through the same parser as local ones.
 */

const SEGMENT_NAME = /\.ndjson(\.gz)?$/;

/**
 * The segments of `s3://bucket/prefix` in write order, or the one object when
 * the URL names a segment. STORE_NOT_FOUND when the prefix holds neither a
 * manifest nor segments.
 * @example const segs = await listS3Segments('s3://traffic/prod');
 */
export async function listS3Segments(url: string, access: S3Access = {}): Promise<SegmentRef[]> {
  const { bucket, prefix } = parseS3Url(url);
  if (SEGMENT_NAME.test(prefix)) {
    const size = await headObject(bucket, prefix, access);
    return [{ path: formatS3Url(bucket, prefix), sealed: false, bytes: size }];
  }
  const manifest = await readS3Manifest(url, access);
  let objects = await listObjects(bucket, joinKey(prefix, `${SEGMENTS_DIR}/`), access);
  if (objects.length === 0 && !manifest) {
    objects = await listObjects(bucket, prefix === '' ? '' : `${prefix}/`, access); // a bare prefix of segment files
  }
  const names = objects.filter((o) => o.Key !== undefined && SEGMENT_NAME.test(o.Key));
  if (!manifest && names.length === 0) {
    throw new RepriseError('STORE_NOT_FOUND', 'no such store (no manifest.json and no segments under this prefix)', { location: { file: url } });
  }
  const sealed = new Map((manifest?.segments ?? []).map((s) => [lastPart(s.file), s]));
  return names
    .map((o) => ({ key: o.Key!, size: o.Size ?? 0, name: lastPart(o.Key!) }))
    .sort((a, b) => (segmentNumber(a.name) ?? 0) - (segmentNumber(b.name) ?? 0) || a.name.localeCompare(b.name))
    .map(({ key, size, name }) => {
      const entry = sealed.get(name);
      const path = formatS3Url(bucket, key);
      return entry ? { path, sealed: true, entry, bytes: size } : { path, sealed: false, bytes: size };
    });
}

/** manifest.json of an S3 store, or null when there is none. */
export async function readS3Manifest(url: string, access: S3Access = {}): Promise<Manifest | null> {
  const { bucket, prefix } = parseS3Url(url);
  const key = joinKey(prefix, MANIFEST_FILE);
  const file = formatS3Url(bucket, key);
  const { GetObjectCommand } = await loadS3Sdk();
  const client = await s3ClientFor(access);
  let text: string;
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = (await res.Body?.transformToString('utf8')) ?? '';
  } catch (err) {
    if (isS3NotFound(err) && (err as Error).name !== 'NoSuchBucket') return null;
    throw toRepriseError(err, file, resolveS3Endpoint(access));
  }
  return parseManifest(text, file);
}

/** A byte stream of one segment object (`s3://bucket/key`). */
export async function openS3Segment(path: string, access: S3Access = {}): Promise<Readable> {
  const { bucket, prefix: key } = parseS3Url(path);
  const { GetObjectCommand } = await loadS3Sdk();
  const client = await s3ClientFor(access);
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return res.Body as Readable;
  } catch (err) {
    throw toRepriseError(err, path, resolveS3Endpoint(access));
  }
}

/** Every object under `keyPrefix` (ListObjectsV2, all pages). */
export async function listObjects(bucket: string, keyPrefix: string, access: S3Access, delimiter = '/'): Promise<_Object[]> {
  const { ListObjectsV2Command } = await loadS3Sdk();
  const client = await s3ClientFor(access);
  const out: _Object[] = [];
  let token: string | undefined;
  do {
    try {
      const res = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: keyPrefix, Delimiter: delimiter, ContinuationToken: token }));
      out.push(...(res.Contents ?? []));
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } catch (err) {
      throw toRepriseError(err, formatS3Url(bucket, keyPrefix), resolveS3Endpoint(access));
    }
  } while (token);
  return out;
}

async function headObject(bucket: string, key: string, access: S3Access): Promise<number> {
  const { HeadObjectCommand } = await loadS3Sdk();
  const client = await s3ClientFor(access);
  try {
    const res = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return res.ContentLength ?? 0;
  } catch (err) {
    const e = toRepriseError(err, formatS3Url(bucket, key), resolveS3Endpoint(access));
    throw e.code === 'STORE_NOT_FOUND' && e.message === 'no such store object' ? new RepriseError('STORE_NOT_FOUND', 'no such segment object', { cause: err, location: { file: formatS3Url(bucket, key) } }) : e;
  }
}

function lastPart(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}
