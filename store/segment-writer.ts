import { closeSync, openSync, writeSync } from 'node:fs';
import { isProcessAlive } from './process-alive.js';
import { open, readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { once } from 'node:events';
import zlib from 'node:zlib';
import { RepriseError } from '../errors.js';
import type { Exchange } from './exchange.js';
import { emptyManifest, MANIFEST_FILE, readManifest, segmentFileName, segmentNumber, SEGMENTS_DIR, writeManifest, type Manifest } from './manifest.js';
import { StoreStats } from './store-stats.js';
import { makeDirs } from './make-dirs.js';

/**
 * Append-only writer of gzip NDJSON segments, rotated by size.
 *
 * Crash tolerance: every `flushIntervalMs` the pending lines are pushed through
 * gzip with Z_SYNC_FLUSH, which ends the deflate block on a byte boundary, so
 * everything written before the last flush decodes even if the process dies
 * (SIGKILL, OOM) before the gzip trailer is written. What a crash can lose:
 * records written after the last flush (at most `flushIntervalMs` worth), and
 * the last line may be torn — readers skip and count it.
 *
 * gzip output goes to the file with writeSync: a flushed block is in the
 * kernel the moment the flush callback runs (no user-space write queue to
 * lose on SIGKILL), and a page-cache write of one 16 KiB deflate chunk costs
 * microseconds. Power loss is not covered (no fsync per flush).
 */

export interface StoreWriterOptions {
  /** Rotate to a new segment once the current one reaches this many compressed bytes (default 64 MiB). */
  segmentBytes?: number;
  /** How often buffered records are made durable against a process crash (default 1000 ms). */
  flushIntervalMs?: number;
  /** gzip level 1–9 (default 3: JSON compresses ~8x even at low levels, and level 6 halves write throughput). */
  gzipLevel?: number;
}

export interface StoreWriterSummary {
  dir: string;
  exchanges: number;
  segments: number;
  bytes: number;
}

/** What opening a store created, so that a command that fails before writing anything can take it back. */
export interface StoreCreation {
  /** The topmost directory created for the store (the store itself or an ancestor; resolved); absent when the store directory was there. */
  topDir?: string;
  /** segments/ was created. */
  segmentsDir: boolean;
  /** manifest.json was not there. */
  manifest: boolean;
}

// Lines are batched before gzip.write: one zlib call per ~64 KiB instead of per
// record is most of the difference between 30k and 150k records/s.
const BATCH_BYTES = 64 * 1024;

export class StoreWriter {
  readonly dir: string;
  private readonly segmentLimit: number;
  private readonly gzipLevel: number;
  private manifest: Manifest;
  private nextSegment: number;
  private gzip: zlib.Gzip | null = null;
  private fd: number | null = null;
  private currentName = '';
  private currentBytes = 0;
  private currentRaw = 0;
  private flushedRaw = 0;
  private currentStats = new StoreStats();
  private batch: string[] = [];
  private batchBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private failure: Error | null = null;
  private lockFile: string;
  private totals = { exchanges: 0, bytes: 0, segments: 0 };

  /** @internal use openStoreWriter */
  constructor(dir: string, manifest: Manifest, nextSegment: number, options: StoreWriterOptions, private readonly created: StoreCreation = { segmentsDir: false, manifest: false }) {
    this.dir = dir;
    this.manifest = manifest;
    this.nextSegment = nextSegment;
    this.segmentLimit = options.segmentBytes ?? 64 * 1024 * 1024;
    this.gzipLevel = options.gzipLevel ?? 3;
    this.lockFile = join(dir, 'writer.lock');
    const every = options.flushIntervalMs ?? 1000;
    this.timer = setInterval(() => void this.flush(), every);
    this.timer.unref();
  }

  /** Records written through this writer so far. */
  get count(): number {
    return this.totals.exchanges;
  }

  /** Append one record; resolves at once unless gzip is backed up (backpressure). */
  async write(ex: Exchange): Promise<void> {
    if (this.closed) throw new RepriseError('STORE_IO', `store writer for ${this.dir} is closed`);
    if (this.failure) throw this.failure;
    if (!this.gzip) this.openSegment();
    const line = `${JSON.stringify(ex)}\n`;
    this.batch.push(line);
    this.batchBytes += line.length;
    this.currentStats.add(ex);
    this.totals.exchanges++;
    if (this.batchBytes >= BATCH_BYTES) {
      const ok = this.pushBatch();
      if (this.currentBytes >= this.segmentLimit) await this.rotate();
      else if (!ok) await once(this.gzip!, 'drain');
    }
  }

  /**
   * Make everything written so far survive a crash of this process; resolves
   * once the bytes are in the kernel. Runs on a timer; call it to force one.
   */
  flush(): Promise<void> {
    const gzip = this.gzip;
    if (!gzip || (this.batch.length === 0 && this.flushedRaw === this.currentRaw)) return Promise.resolve();
    if (this.batch.length > 0) this.pushBatch();
    this.flushedRaw = this.currentRaw;
    // zlib's flush callback carries no error: a failed file write destroys the
    // gzip stream instead, so listen for that and reject rather than hang.
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const onError = (err: Error): void => reject(err);
      gzip.once('error', onError);
      gzip.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        gzip.off('error', onError);
        if (this.failure) reject(this.failure);
        else resolve();
      });
    });
  }

  /** The first write error, after which the writer refuses further records. */
  get error(): Error | null {
    return this.failure;
  }

  /** Flush, seal the open segment, update the manifest and release the store. */
  async close(): Promise<StoreWriterSummary> {
    if (this.closed) return this.summary();
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.sealSegment();
    await writeManifest(this.dir, this.manifest);
    await rm(this.lockFile, { force: true });
    return this.summary();
  }

  /**
   * Close after the command writing this store failed. When not one record was written and
   * opening created the store, what opening created is removed again: the directory (and the
   * parents made for it), or, in a directory that was already there, the manifest and segments/
   * it added. So a failed import leaves no empty store behind to trip the next run. A store that
   * was there before is never touched, nor one that now holds anything else (a dead-letter file).
   *
   * @example
   * try { for await (const ex of source) await w.write(ex); } catch (err) { await w.closeAfterError(); throw err; }
   */
  async closeAfterError(): Promise<StoreWriterSummary> {
    const summary = await this.close();
    if (this.totals.exchanges === 0 && this.totals.segments === 0) await removeCreatedStore(this.dir, this.created);
    return summary;
  }

  private summary(): StoreWriterSummary {
    return { dir: this.dir, exchanges: this.totals.exchanges, segments: this.totals.segments, bytes: this.totals.bytes };
  }

  private pushBatch(): boolean {
    const chunk = this.batch.join('');
    this.currentRaw += Buffer.byteLength(chunk);
    this.batch = [];
    this.batchBytes = 0;
    return this.gzip!.write(chunk);
  }

  private openSegment(): void {
    this.currentName = segmentFileName(this.nextSegment++);
    this.currentBytes = 0;
    this.currentRaw = 0;
    this.flushedRaw = 0;
    this.currentStats = new StoreStats();
    const path = join(this.dir, this.currentName);
    let fd: number;
    try {
      fd = openSync(path, 'wx'); // 'wx': never overwrite a segment another writer produced
    } catch (err) {
      throw new RepriseError('STORE_IO', `cannot create segment: ${(err as Error).message}`, { cause: err, location: { file: path } });
    }
    this.fd = fd;
    const gzip = zlib.createGzip({ level: this.gzipLevel });
    gzip.on('data', (c: Buffer) => {
      try {
        writeSync(fd, c);
      } catch (err) {
        this.failure ??= new RepriseError('STORE_IO', `cannot write segment: ${(err as Error).message}`, { cause: err, location: { file: path } });
        gzip.destroy(this.failure);
        return;
      }
      this.currentBytes += c.length;
      this.totals.bytes += c.length;
    });
    // Without a listener a destroyed gzip would crash the process; the failure is surfaced by write/flush/close.
    gzip.on('error', (err: Error) => { this.failure ??= err; });
    this.gzip = gzip;
    this.totals.segments++;
  }

  private async rotate(): Promise<void> {
    await this.sealSegment();
    await writeManifest(this.dir, this.manifest);
  }

  private async sealSegment(): Promise<void> {
    const gzip = this.gzip;
    const fd = this.fd;
    if (!gzip || fd === null) return;
    if (this.batch.length > 0) this.pushBatch();
    this.gzip = null;
    this.fd = null;
    gzip.end();
    try {
      await once(gzip, 'end');
    } catch (err) {
      throw err instanceof RepriseError ? err : new RepriseError('STORE_IO', `cannot write ${join(this.dir, this.currentName)}: ${(err as Error).message}`, { cause: err });
    } finally {
      closeSync(fd);
    }
    this.manifest.segments.push({ file: this.currentName, bytes: this.currentBytes, rawBytes: this.currentRaw, stats: this.currentStats.toJSON() });
  }
}

/**
 * Open a store directory for appending (created if missing). New segments
 * continue the numbering of existing ones; one writer per store at a time.
 *
 * @example
 * const w = await openStoreWriter('./store', { segmentBytes: 5 << 20 });
 * for await (const ex of exchanges) await w.write(ex);
 * await w.close();
 */
export async function openStoreWriter(dir: string, options: StoreWriterOptions = {}): Promise<StoreWriter> {
  const segments = join(dir, SEGMENTS_DIR);
  let first: string | undefined;
  try {
    first = await makeDirs(segments); // the first directory it had to create, if any
  } catch (err) {
    throw new RepriseError('STORE_IO', `cannot create store ${dir}: ${(err as Error).message}`, { cause: err, location: { file: dir } });
  }
  await takeLock(dir);
  const found = await readManifest(dir);
  const manifest = found ?? emptyManifest();
  const existing = (await readdir(segments)).map(segmentNumber).filter((n): n is number => n !== null);
  const next = existing.length === 0 ? 1 : Math.max(...existing) + 1;
  if (manifest.segments.length === 0) await writeManifest(dir, manifest);
  const created: StoreCreation = { segmentsDir: first !== undefined, manifest: found === null };
  if (first !== undefined && resolve(first) !== resolve(segments)) created.topDir = resolve(first);
  return new StoreWriter(dir, manifest, next, options, created);
}

/**
 * Take back what opening an empty store created (see closeAfterError). Best effort and never
 * recursive: each directory is removed only when empty, so nothing but what opening made goes.
 * `ownFiles` are further files opening made beside the manifest (an S3 spool's `spool.json`).
 *
 * @example
 * await removeCreatedStore('./new-store', { topDir: resolve('./new-store'), segmentsDir: true, manifest: true });
 */
export async function removeCreatedStore(dir: string, created: StoreCreation, ownFiles: readonly string[] = []): Promise<void> {
  if (!created.manifest || !created.segmentsDir) return; // a store (or its segments) was there before
  const entries = await readdir(dir).catch(() => null);
  const own = new Set([MANIFEST_FILE, SEGMENTS_DIR, ...ownFiles]);
  // In a directory this writer made, anything besides its own entries was put there by someone else: keep all.
  if (!entries || (created.topDir !== undefined && entries.some((e) => !own.has(e)))) return;
  try {
    await rmdir(join(dir, SEGMENTS_DIR)); // fails unless empty
    await rm(join(dir, MANIFEST_FILE), { force: true });
    for (const file of ownFiles) await rm(join(dir, file), { force: true });
    const top = created.topDir;
    const store = resolve(dir);
    if (top === undefined || (store !== top && !store.startsWith(top + sep))) return; // (a path through '..': no directory is removed)
    for (let d = store; ; d = dirname(d)) {
      await rmdir(d);
      if (d === top) return;
    }
  } catch {
    // Something else appeared meanwhile, or cannot be removed: leave the rest as it is.
  }
}

async function takeLock(dir: string): Promise<void> {
  const lock = join(dir, 'writer.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new RepriseError('STORE_IO', `cannot lock ${dir}: ${(err as Error).message}`, { cause: err });
      const pid = Number(await readFile(lock, 'utf8').catch(() => 'NaN'));
      if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid)) {
        throw new RepriseError('STORE_LOCKED', `store ${dir} is being written by process ${pid}`, { location: { file: lock } });
      }
      await rm(lock, { force: true }); // stale lock from a killed writer
    }
  }
}
