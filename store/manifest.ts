import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RepriseError } from '../errors.js';
import type { StoreStatsJson } from './store-stats.js';

/**
 * manifest.json: the store's index. It lists closed segments with their
 * stats; it is a cache, not the source of truth — the segment files are.
 * A segment the manifest does not list (the one a killed writer had open)
 * is still read, and `store inspect` scans it.
 */

export const MANIFEST_FILE = 'manifest.json';
export const SEGMENTS_DIR = 'segments';
export const STORE_FORMAT = 'reprise-store';

export interface SegmentEntry {
  /** Path relative to the store root, e.g. `segments/000001.ndjson.gz`. */
  file: string;
  /** Compressed size on disk when the segment was closed. */
  bytes: number;
  /** Uncompressed NDJSON bytes. */
  rawBytes: number;
  stats: StoreStatsJson;
}

export interface Manifest {
  format: typeof STORE_FORMAT;
  /** Exchange record version the segments hold. */
  v: 1;
  createdAt: string;
  updatedAt: string;
  segments: SegmentEntry[];
}

export function emptyManifest(): Manifest {
  const now = new Date().toISOString();
  return { format: STORE_FORMAT, v: 1, createdAt: now, updatedAt: now, segments: [] };
}

/** The manifest, or null when the store has none (yet). */
export async function readManifest(storeDir: string): Promise<Manifest | null> {
  const file = join(storeDir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new RepriseError('STORE_IO', `cannot read ${file}: ${(err as Error).message}`, { cause: err, location: { file } });
  }
  return parseManifest(text, file);
}

/** Validate manifest.json text; `file` names it in errors (a path or `s3://bucket/key`). */
export function parseManifest(text: string, file: string): Manifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new RepriseError('STORE_CORRUPT', `manifest is not valid JSON (${(err as Error).message})`, { cause: err, location: { file } });
  }
  const m = parsed as Partial<Manifest>;
  if (m.format !== STORE_FORMAT || !Array.isArray(m.segments)) {
    throw new RepriseError('STORE_CORRUPT', 'not a reprise store manifest (format or segments missing)', { location: { file } });
  }
  if (m.v !== 1) {
    throw new RepriseError('STORE_SCHEMA', `store version ${String(m.v)} is not supported by this reprise (1)`, { location: { file } });
  }
  return m as Manifest;
}

/** Atomic replace (write then rename) so a crash never leaves half a manifest. */
export async function writeManifest(storeDir: string, manifest: Manifest): Promise<void> {
  const file = join(storeDir, MANIFEST_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  manifest.updatedAt = new Date().toISOString();
  await writeFile(tmp, `${JSON.stringify(manifest, null, 1)}\n`);
  await rename(tmp, file);
}

/** Segment file name for a 1-based number; zero padding keeps `ls` in write order. */
export function segmentFileName(n: number): string {
  return `${SEGMENTS_DIR}/${String(n).padStart(6, '0')}.ndjson.gz`;
}

export function segmentNumber(file: string): number | null {
  const m = /(\d+)\.ndjson(\.gz)?$/.exec(file);
  return m ? Number(m[1]) : null;
}
