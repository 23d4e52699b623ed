// Why this file exists: an archive of forwarder payloads is a file, a directory tree of files, or
// an S3 prefix. This turns any of them into one ordered list of byte streams, so the importer
// reads them all the same way, one at a time, without loading any whole.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { RepriseError } from '../../errors.js';
import { isS3Url, parseS3Url } from '../../store/s3/s3-client.js';
import { listS3Objects, openS3Object } from './apigw-s3.js';

export interface ImportSource {
  /** For messages and dead-letter records: a path or s3://bucket/key. */
  name: string;
  /** True when the name says NDJSON (.ndjson, .jsonl): lines are then read one by one. */
  ndjson: boolean;
  /** When the object was written: the start time of payloads without a timestamp, ms. */
  modifiedMs: number;
  open(): Promise<AsyncIterable<Uint8Array>>;
}

// In a directory, files with these extensions (or none: SQS dumps are often named by message
// id) are read; anything else (READMEs, manifests) is skipped and counted.
const READ_EXTENSIONS = new Set(['', '.json', '.ndjson', '.jsonl']);

/**
 * The sources named by `input`: a file, every readable file under a directory (recursively,
 * sorted by path; hidden files skipped), or every object under an s3:// prefix (key order).
 *
 * @example
 * for await (const src of listImportSources('./archive', { onSkip: (p) => skipped.push(p) })) …
 */
export async function* listImportSources(input: string, options: { s3?: () => Promise<S3Client>; onSkip?: (name: string) => void } = {}): AsyncGenerator<ImportSource> {
  if (isS3Url(input)) {
    const parsed = parseS3Url(input);
    // parseS3Url drops a trailing '/'; keep it for listing, so `s3://b/day1/` does not also match `day10/`.
    const s3 = { bucket: parsed.bucket, prefix: parsed.prefix + (input.endsWith('/') && parsed.prefix !== '' ? '/' : '') };
    if (!options.s3) throw new RepriseError('APIGW_CONFIG_INVALID', `${input}: reading S3 needs an S3 client`);
    const client = await options.s3();
    for await (const o of listS3Objects(client, s3)) {
      yield { name: `s3://${s3.bucket}/${o.key}`, ndjson: isNdjsonName(o.key), modifiedMs: o.lastModified?.getTime() ?? Date.now(), open: () => openS3Object(client, s3.bucket, o.key) };
    }
    return;
  }
  let info;
  try {
    info = await stat(input);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RepriseError(code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE', code === 'ENOENT' ? `no such file or directory: ${input}` : `cannot read ${input}: ${(err as Error).message}`, { cause: err, location: { file: input } });
  }
  if (!info.isDirectory()) {
    yield localSource(input, info.mtimeMs);
    return;
  }
  yield* walk(input, options.onSkip);
}

async function* walk(dir: string, onSkip: ((name: string) => void) | undefined): AsyncGenerator<ImportSource> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new RepriseError('INPUT_UNREADABLE', `cannot list ${dir}: ${(err as Error).message}`, { cause: err, location: { file: dir } });
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* walk(path, onSkip);
    else if (e.isFile() && READ_EXTENSIONS.has(extname(e.name).toLowerCase())) yield localSource(path, (await stat(path)).mtimeMs);
    else onSkip?.(path);
  }
}

function localSource(path: string, modifiedMs: number): ImportSource {
  return {
    name: path,
    ndjson: isNdjsonName(path),
    modifiedMs,
    // 64 KiB reads: several typical payloads per syscall; memory stays one chunk plus one value.
    open: () => Promise.resolve(createReadStream(path, { highWaterMark: 64 * 1024 })),
  };
}

function isNdjsonName(name: string): boolean {
  const ext = extname(name).toLowerCase();
  return ext === '.ndjson' || ext === '.jsonl';
}
