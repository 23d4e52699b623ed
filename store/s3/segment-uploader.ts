import { channel } from 'node:diagnostics_channel';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { emptyManifest, MANIFEST_FILE, readManifest, segmentNumber, type Manifest, type SegmentEntry } from '../manifest.js';
import { joinKey, loadS3Sdk, type S3Location } from './s3-client.js';
import { describeS3Error } from './s3-errors.js';
import { readS3Manifest } from './s3-store-reader.js';
import { writeSpoolState } from './spool.js';

/**
 * Moves sealed segments from the spool to S3, one at a time and in order:
 *   1. upload the segment (multipart above one part, via @aws-sdk/lib-storage),
 *   2. upload manifest.json listing it — so S3's manifest only names whole segments,
 *   3. delete the spooled copy.
 * A crash between 1 and 2 leaves an object the manifest does not list (read as
 * unsealed, still whole) and the spooled copy, which the next writer uploads
 * again under the same key; between 2 and 3, a spooled copy uploaded twice.
 * Neither loses or duplicates a record.
 *
 * Any failure (no connection, 5xx, timeout, even 403) is retried with
 * exponential backoff and jitter, capped at `maxDelayMs`: the data stays
 * in the spool until S3 takes it, so giving up would gain nothing.
 */

export interface RetryPolicy {
  /** First retry delay (default 500 ms); doubles per failed attempt. */
  baseDelayMs: number;
  /** Cap on the delay between attempts (default 30 s). */
  maxDelayMs: number;
}

export interface UploadStats {
  /** Segments this writer uploaded (including ones a previous writer left in the spool). */
  uploaded: number;
  uploadedBytes: number;
  /** Failed attempts that were retried. */
  retries: number;
  /** Sealed segments still waiting in the spool. */
  pending: number;
  pendingBytes: number;
  /** Their paths in the spool. */
  pendingFiles: string[];
  spoolDir: string;
  lastError?: string;
}

/** Events for tools and the CLI's logger: `retry`, `uploaded`, `pending` (on close), `recovered`. */
export const s3UploadChannel = channel('reprise:store:s3-upload');

export interface SegmentUploaderConfig {
  client: S3Client;
  location: S3Location;
  /** `s3://bucket/prefix`, for events. */
  url: string;
  spoolDir: string;
  /** The manifest in S3, or null when it could not be read yet (fetched before the first manifest upload). */
  remoteManifest: Manifest | null;
  retry: RetryPolicy;
  /** Multipart part size (default 8 MiB; S3's minimum is 5 MiB). A segment up to one part goes in one PutObject. */
  partSize: number;
  /** How often the spool manifest is checked for newly sealed segments. */
  scanIntervalMs: number;
  /** An upload that makes no progress for this long is aborted and retried (default 2 min: one 8 MiB part at ~70 KB/s). */
  stallTimeoutMs: number;
  highestSegment: number;
}

export class SegmentUploader {
  private readonly cfg: SegmentUploaderConfig;
  private readonly queue: SegmentEntry[] = [];
  private readonly seen = new Set<string>();
  private remote: Manifest | null;
  private highest: number;
  private running: Promise<void> | null = null;
  private scanning: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly stopController = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private waiters: Array<() => void> = [];
  private readonly stats = { uploaded: 0, uploadedBytes: 0, retries: 0, lastError: undefined as string | undefined };

  constructor(cfg: SegmentUploaderConfig) {
    this.cfg = cfg;
    this.remote = cfg.remoteManifest;
    this.highest = cfg.highestSegment;
  }

  start(): void {
    this.timer = setInterval(() => void this.scan().catch(() => undefined), this.cfg.scanIntervalMs);
    this.timer.unref();
  }

  /** Queue sealed segments the spool manifest lists and this uploader has not taken yet. */
  scan(): Promise<void> {
    // One scan at a time, so segments are queued (and uploaded) in the order the manifest lists them.
    const next = this.scanning.then(() => this.scanOnce());
    this.scanning = next.catch(() => undefined);
    return next;
  }

  private async scanOnce(): Promise<void> {
    const manifest = await readManifest(this.cfg.spoolDir);
    for (const entry of manifest?.segments ?? []) {
      if (this.seen.has(entry.file)) continue;
      this.seen.add(entry.file);
      const exists = await stat(join(this.cfg.spoolDir, entry.file)).then(() => true, () => false);
      if (exists) this.queue.push(entry);
    }
    if (this.queue.length > 0 && !this.running && !this.stopped) {
      this.running = this.pump().finally(() => {
        this.running = null;
        this.notify();
      });
    }
  }

  /** Bytes of sealed segments waiting for upload. */
  get pendingBytes(): number {
    return this.queue.reduce((n, e) => n + e.bytes, 0);
  }

  /** Resolves after the next upload finishes (or the uploader stops). */
  progress(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Upload everything sealed so far; false when `timeoutMs` passed first (the rest stays in the spool). */
  async drain(timeoutMs: number): Promise<boolean> {
    await this.scan();
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 && !this.stopped) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.progress(), new Promise<void>((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
    }
    return this.queue.length === 0;
  }

  /** Stop uploading (an upload in flight is abandoned; its segment stays in the spool). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.stopController.abort();
    this.wake?.();
    await this.running;
  }

  snapshot(): UploadStats {
    return {
      uploaded: this.stats.uploaded,
      uploadedBytes: this.stats.uploadedBytes,
      retries: this.stats.retries,
      pending: this.queue.length,
      pendingBytes: this.pendingBytes,
      pendingFiles: this.queue.map((e) => join(this.cfg.spoolDir, e.file)),
      spoolDir: this.cfg.spoolDir,
      ...(this.stats.lastError !== undefined && { lastError: this.stats.lastError }),
    };
  }

  private async pump(): Promise<void> {
    let failures = 0;
    while (!this.stopped && this.queue.length > 0) {
      const entry = this.queue[0]!;
      try {
        await this.uploadSegment(entry);
        this.queue.shift();
        this.stats.uploaded++;
        this.stats.uploadedBytes += entry.bytes;
        publish({ type: 'uploaded', url: this.cfg.url, file: entry.file, bytes: entry.bytes, afterRetries: failures });
        failures = 0;
        this.notify();
      } catch (err) {
        if (this.stopped) return;
        failures++;
        this.stats.retries++;
        this.stats.lastError = describeS3Error(err);
        const delayMs = backoff(this.cfg.retry, failures);
        publish({ type: 'retry', url: this.cfg.url, file: entry.file, attempt: failures, delayMs, error: this.stats.lastError, spoolDir: this.cfg.spoolDir });
        await this.sleep(delayMs);
      }
    }
  }

  private async uploadSegment(entry: SegmentEntry): Promise<void> {
    const { client, location, spoolDir } = this.cfg;
    const file = join(spoolDir, entry.file);
    const size = (await stat(file)).size;
    const { Upload } = await import('@aws-sdk/lib-storage');
    const attempt = new AbortController();
    const onStop = (): void => attempt.abort();
    this.stopController.signal.addEventListener('abort', onStop);
    const body = createReadStream(file);
    const upload = new Upload({
      client,
      params: { Bucket: location.bucket, Key: joinKey(location.prefix, entry.file), Body: body, ContentLength: size, ContentType: 'application/gzip' },
      partSize: this.cfg.partSize,
      queueSize: 4, // ≤ 4 × partSize bytes buffered; 4 parallel parts fill most links
      abortController: attempt,
    });
    let stall = setTimeout(() => attempt.abort(), this.cfg.stallTimeoutMs);
    upload.on('httpUploadProgress', () => {
      clearTimeout(stall);
      stall = setTimeout(() => attempt.abort(), this.cfg.stallTimeoutMs);
    });
    try {
      await upload.done();
    } finally {
      clearTimeout(stall);
      body.destroy();
      this.stopController.signal.removeEventListener('abort', onStop);
    }
    await this.uploadManifest(entry);
    await rm(file, { force: true });
    const n = segmentNumber(entry.file) ?? 0;
    if (n > this.highest) {
      this.highest = n;
      await writeSpoolState(spoolDir, { store: this.cfg.url, highestSegment: n });
    }
  }

  private async uploadManifest(entry: SegmentEntry): Promise<void> {
    const { client, location } = this.cfg;
    const signal = AbortSignal.any([this.stopController.signal, AbortSignal.timeout(this.cfg.stallTimeoutMs)]);
    // Fetched lazily when the writer opened while S3 was away: never overwrite entries we have not seen.
    this.remote ??= (await readS3Manifest(this.cfg.url, { client })) ?? emptyManifest();
    const others = this.remote.segments.filter((s) => s.file !== entry.file);
    const segments = [...others, entry].sort((a, b) => (segmentNumber(a.file) ?? 0) - (segmentNumber(b.file) ?? 0));
    const next: Manifest = { ...this.remote, segments, updatedAt: new Date().toISOString() };
    const { PutObjectCommand } = await loadS3Sdk();
    const put = new PutObjectCommand({ Bucket: location.bucket, Key: joinKey(location.prefix, MANIFEST_FILE), Body: `${JSON.stringify(next, null, 1)}\n`, ContentType: 'application/json' });
    await client.send(put, { abortSignal: signal });
    this.remote = next;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    }).finally(() => (this.wake = null));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** Exponential backoff with "equal jitter": a delay in [d/2, d], d = min(max, base · 2^(attempt−1)), so retrying writers spread out. */
export function backoff(policy: RetryPolicy, attempt: number): number {
  const d = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(d / 2 + Math.random() * (d / 2));
}

function publish(event: Record<string, unknown>): void {
  if (s3UploadChannel.hasSubscribers) s3UploadChannel.publish(event);
}
