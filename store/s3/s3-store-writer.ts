import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Exchange } from '../exchange.js';
import { RepriseError } from '../../errors.js';
import { emptyManifest, MANIFEST_FILE, readManifest, SEGMENTS_DIR, segmentNumber, writeManifest, type Manifest } from '../manifest.js';
import { newReadReport, readExchanges } from '../segment-reader.js';
import { removeCreatedStore, StoreWriter, type StoreCreation, type StoreWriterOptions, type StoreWriterSummary } from '../segment-writer.js';
import { formatS3Url, joinKey, loadS3Sdk, parseS3Url, resolveS3Endpoint, s3ClientFor, type S3Access } from './s3-client.js';
import { isS3Transient } from './s3-errors.js';
import { listObjects, readS3Manifest } from './s3-store-reader.js';
import { s3UploadChannel, SegmentUploader, type RetryPolicy, type UploadStats } from './segment-uploader.js';
import { defaultSpoolDir, listSpoolSegments, lockSpool, readSpoolState, SPOOL_STATE_FILE, writeSpoolState } from './spool.js';
import { makeDirs } from '../make-dirs.js';

/**
 * A store writer for `s3://bucket/prefix`. Records go to a local spool — an
 * ordinary store directory written by the same StoreWriter, with the same
 * crash guarantees — and each segment is uploaded once it is sealed (see
 * SegmentUploader for the order and what a crash can lose). While S3 is away
 * the segments wait in the spool; close() waits for them up to
 * `closeTimeoutMs`, then leaves the rest there for the next writer of the same
 * store, which uploads them first.
 */

export interface S3StoreWriterOptions extends StoreWriterOptions {
  s3?: S3Access;
  /** Spool directory (default: see defaultSpoolDir; `REPRISE_SPOOL_DIR` moves the base). */
  spoolDir?: string;
  retry?: Partial<RetryPolicy>;
  /** How long close() waits for pending uploads (default 60 s). */
  closeTimeoutMs?: number;
  /** Multipart part size (default 8 MiB). */
  partSizeBytes?: number;
  /** How often the spool is checked for newly sealed segments (default 500 ms). */
  scanIntervalMs?: number;
  /** An upload without progress for this long is retried (default 120 s). */
  stallTimeoutMs?: number;
  /**
   * Bound on sealed-but-not-uploaded bytes in the spool (default 4 GiB): past it,
   * write() waits for uploads — backpressure to the source instead of filling the disk.
   */
  spoolLimitBytes?: number;
}

export interface S3StoreWriterSummary extends StoreWriterSummary {
  upload: UploadStats;
}

/** What opening an S3 store created, so that a command that fails can take it back. */
interface S3StoreCreation {
  /** In the local spool (see StoreCreation). */
  spool: StoreCreation;
  /** The store's manifest.json in S3 was put by this opening (there was no store). */
  remoteManifest: boolean;
  access?: S3Access;
}

export class S3StoreWriter {
  /** The store URL (`s3://bucket/prefix`). */
  readonly dir: string;
  readonly spoolDir: string;
  private readonly spool: StoreWriter;
  private readonly uploader: SegmentUploader;
  private readonly release: () => Promise<void>;
  private readonly closeTimeoutMs: number;
  private readonly spoolLimit: number;
  private result: Promise<S3StoreWriterSummary> | null = null;

  /** @internal use openS3StoreWriter */
  constructor(url: string, spool: StoreWriter, uploader: SegmentUploader, release: () => Promise<void>, options: S3StoreWriterOptions, private readonly created: S3StoreCreation = { spool: { segmentsDir: false, manifest: false }, remoteManifest: false }) {
    this.dir = url;
    this.spoolDir = spool.dir;
    this.spool = spool;
    this.uploader = uploader;
    this.release = release;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 60_000;
    this.spoolLimit = options.spoolLimitBytes ?? 4 * 1024 ** 3;
  }

  get count(): number {
    return this.spool.count;
  }

  async write(ex: Exchange): Promise<void> {
    await this.spool.write(ex);
    while (this.uploader.pendingBytes > this.spoolLimit && this.result === null) await this.uploader.progress();
  }

  flush(): Promise<void> {
    return this.spool.flush();
  }

  /** Upload statistics so far. */
  uploadStats(): UploadStats {
    return this.uploader.snapshot();
  }

  /** Seal the last segment, wait up to closeTimeoutMs for uploads, release the spool. */
  close(): Promise<S3StoreWriterSummary> {
    this.result ??= this.finish();
    return this.result;
  }

  /**
   * Close after the command writing this store failed: as close() (what was written is sealed and
   * uploaded, up to closeTimeoutMs). When not one record was written to a store that opening
   * created in S3, its empty manifest is deleted again, so the failed command leaves no store
   * there. Then a spool that opening created is removed, with the parent directories made for it,
   * once it holds nothing S3 lacks. A segment still in it (S3 away, a close that failed) is the
   * only copy of its records: then the spool stays, for the next writer. A spool that was there
   * before (a cache earlier commands of this store left) is left as it is.
   */
  async closeAfterError(): Promise<S3StoreWriterSummary> {
    try {
      const summary = await this.close();
      if (this.created.remoteManifest && summary.exchanges === 0 && summary.upload.uploaded === 0) await this.removeCreatedManifest();
      return summary;
    } finally {
      await removeCreatedStore(this.spoolDir, this.created.spool, [SPOOL_STATE_FILE]);
    }
  }

  /** Best effort: S3 away, or a manifest that by now lists a segment (another writer), leaves it. */
  private async removeCreatedManifest(): Promise<void> {
    const access = this.created.access ?? {};
    try {
      const manifest = await readS3Manifest(this.dir, access);
      if (!manifest || manifest.segments.length > 0) return;
      const { bucket, prefix } = parseS3Url(this.dir);
      const { DeleteObjectCommand } = await loadS3Sdk();
      await (await s3ClientFor(access)).send(new DeleteObjectCommand({ Bucket: bucket, Key: joinKey(prefix, MANIFEST_FILE) }));
    } catch {
      // Left as an empty store, as before.
    }
  }

  private async finish(): Promise<S3StoreWriterSummary> {
    try {
      const local = await this.spool.close();
      await this.uploader.drain(this.closeTimeoutMs);
      await this.uploader.stop();
      const upload = this.uploader.snapshot();
      if (upload.pending > 0 && s3UploadChannel.hasSubscribers) {
        s3UploadChannel.publish({ type: 'pending', url: this.dir, spoolDir: this.spoolDir, pending: upload.pending, files: upload.pendingFiles, error: upload.lastError });
      }
      return { dir: this.dir, exchanges: local.exchanges, segments: local.segments, bytes: local.bytes, upload };
    } finally {
      await this.uploader.stop();
      await this.release();
    }
  }
}

/**
 * Open `s3://bucket/prefix` for appending: checks the bucket, uploads what a
 * previous writer left in the spool, and numbers new segments after the
 * highest one S3 or the spool holds. One writer per store at a time.
 *
 * @example
 * const w = await openS3StoreWriter('s3://traffic/prod', { s3: { endpoint: 'http://127.0.0.1:9000' } });
 * for await (const ex of exchanges) await w.write(ex);
 * const { upload } = await w.close(); // upload.pending > 0: S3 was away, segments wait in upload.spoolDir
 */
export async function openS3StoreWriter(url: string, options: S3StoreWriterOptions = {}): Promise<S3StoreWriter> {
  const location = parseS3Url(url);
  const access = options.s3 ?? {};
  const client = await s3ClientFor(access);
  const spoolDir = options.spoolDir ?? defaultSpoolDir(location, resolveS3Endpoint(access));
  const segmentsDir = join(spoolDir, SEGMENTS_DIR);
  let first: string | undefined;
  try {
    first = await makeDirs(segmentsDir); // the first directory it had to create, if any
  } catch (err) {
    throw new RepriseError('STORE_IO', `cannot create spool ${spoolDir}: ${(err as Error).message}`, { cause: err, location: { file: spoolDir } });
  }
  const release = await lockSpool(spoolDir, url);
  // What opening creates here, taken back when the command fails (see closeAfterError): a spool
  // with a state file or a manifest was made by an earlier writer of this store, and is kept.
  const created: StoreCreation = { segmentsDir: first !== undefined, manifest: false };
  if (first !== undefined && resolve(first) !== resolve(segmentsDir)) created.topDir = resolve(first);
  let remoteCreated = false;
  try {
    const state = await readSpoolState(spoolDir);
    created.manifest = state === null && (await readManifest(spoolDir)) === null;
    const remote = await probeRemote(url, access, state !== null);
    remoteCreated = remote.created;
    const spooled = await listSpoolSegments(spoolDir);
    const highest = Math.max(remote.highest, state?.highestSegment ?? 0, ...spooled.map((f) => segmentNumber(f) ?? 0));
    await writeSpoolState(spoolDir, { store: url, highestSegment: highest });

    // The spool manifest lists sealed segments; drop the ones already uploaded and deleted.
    const manifest: Manifest = (await readManifest(spoolDir)) ?? emptyManifest();
    manifest.segments = manifest.segments.filter((s) => spooled.includes(s.file));
    await writeManifest(spoolDir, manifest);
    const orphans = spooled.filter((f) => !manifest.segments.some((s) => s.file === f));

    const spool = new StoreWriter(spoolDir, manifest, highest + 1, options);
    await recoverOrphans(spool, spoolDir, orphans, url).catch(async (err: unknown) => {
      await spool.close().catch(() => undefined);
      throw err;
    });
    const uploader = new SegmentUploader({
      client,
      location,
      url,
      spoolDir,
      remoteManifest: remote.manifest,
      retry: { baseDelayMs: options.retry?.baseDelayMs ?? 500, maxDelayMs: options.retry?.maxDelayMs ?? 30_000 },
      partSize: options.partSizeBytes ?? 8 * 1024 * 1024,
      scanIntervalMs: options.scanIntervalMs ?? 500,
      stallTimeoutMs: options.stallTimeoutMs ?? 120_000,
      highestSegment: highest,
    });
    uploader.start();
    await uploader.scan();
    return new S3StoreWriter(url, spool, uploader, release, options, { spool: created, remoteManifest: remoteCreated, access });
  } catch (err) {
    // S3 refused or could not be reached (a missing bucket, bad credentials): no spool left behind for it.
    await release();
    await removeCreatedStore(spoolDir, created, [SPOOL_STATE_FILE]);
    throw err;
  }
}

/**
 * What S3 already holds: the manifest and the highest segment number. The bucket
 * must exist. When S3 cannot be reached but this spool has written the store before,
 * the writer starts anyway (numbering from the spool state) and uploads later.
 */
async function probeRemote(url: string, access: S3Access, haveState: boolean): Promise<{ manifest: Manifest | null; highest: number; created: boolean }> {
  const { bucket, prefix } = parseS3Url(url);
  try {
    const objects = await listObjects(bucket, joinKey(prefix, `${SEGMENTS_DIR}/`), access);
    const highest = Math.max(0, ...objects.map((o) => segmentNumber(o.Key ?? '') ?? 0));
    let manifest = await readS3Manifest(url, access);
    const created = manifest === null;
    if (!manifest) {
      // An empty manifest makes a new store exist (readable, inspectable) before its first segment.
      manifest = emptyManifest();
      const { PutObjectCommand } = await loadS3Sdk();
      const client = await s3ClientFor(access);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: joinKey(prefix, MANIFEST_FILE), Body: `${JSON.stringify(manifest, null, 1)}\n`, ContentType: 'application/json' }));
    }
    return { manifest, highest, created };
  } catch (err) {
    const offline = err instanceof RepriseError ? err.code === 'STORE_IO' && isS3Transient(err.cause) : isS3Transient(err);
    if (offline && haveState) return { manifest: null, highest: 0, created: false };
    if (err instanceof RepriseError) throw err;
    throw new RepriseError('STORE_IO', `cannot open ${formatS3Url(bucket, prefix)}: ${(err as Error).message}`, { cause: err, location: { file: url } });
  }
}

/**
 * Segments in the spool that its manifest does not list were open when a writer
 * died. Their records (up to a torn last line) are written again, ahead of new
 * ones, into a fresh segment, which is flushed before the old file goes.
 */
async function recoverOrphans(spool: StoreWriter, spoolDir: string, orphans: string[], url: string): Promise<void> {
  for (const file of orphans) {
    const report = newReadReport();
    let n = 0;
    for await (const ex of readExchanges(join(spoolDir, file), { onCorrupt: 'skip', report })) {
      await spool.write(ex);
      n++;
    }
    await spool.flush();
    await rm(join(spoolDir, file), { force: true });
    if (s3UploadChannel.hasSubscribers) s3UploadChannel.publish({ type: 'recovered', url, file: join(spoolDir, file), records: n, tornTails: report.tornTails });
  }
}
