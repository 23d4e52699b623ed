import { open, readdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { isProcessAlive } from '../process-alive.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RepriseError } from '../../errors.js';
import { segmentNumber, SEGMENTS_DIR } from '../manifest.js';
import type { S3Location } from './s3-client.js';

/**
 * The local spool of an S3 store: an ordinary local store directory (written
 * by the unchanged StoreWriter) whose sealed segments wait there until they
 * are uploaded, plus `spool.json` (which S3 store it feeds, the highest
 * segment number used) and `spool.lock` (one S3 writer per spool).
 */

export const SPOOL_STATE_FILE = 'spool.json';
const LOCK_FILE = 'spool.lock';

export interface SpoolState {
  store: string;
  /** Highest segment number this spool has used or seen in S3: new segments continue after it. */
  highestSegment: number;
}

/**
 * `$REPRISE_SPOOL_DIR` (default `$XDG_CACHE_HOME/reprise/spool`, else
 * `~/.cache/reprise/spool`) `/<endpoint host or "aws">/<bucket>/<prefix, URI-encoded>`.
 * @example defaultSpoolDir({ bucket: 'traffic', prefix: 'prod/eu' }) // ~/.cache/reprise/spool/aws/traffic/prod%2Feu
 */
export function defaultSpoolDir(loc: S3Location, endpoint?: string): string {
  const env = process.env;
  const base = env.REPRISE_SPOOL_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'reprise', 'spool');
  let host = 'aws';
  if (endpoint) {
    try {
      host = new URL(endpoint).host.replace(/[^A-Za-z0-9.-]/g, '_');
    } catch {
      host = endpoint.replace(/[^A-Za-z0-9.-]/g, '_');
    }
  }
  // Encoding the prefix keeps `s3://b/segments` and `s3://b/` from sharing a directory.
  return join(base, host, loc.bucket, loc.prefix === '' ? '_' : encodeURIComponent(loc.prefix));
}

export async function readSpoolState(dir: string): Promise<SpoolState | null> {
  try {
    const s = JSON.parse(await readFile(join(dir, SPOOL_STATE_FILE), 'utf8')) as Partial<SpoolState>;
    return typeof s.store === 'string' && Number.isInteger(s.highestSegment) ? (s as SpoolState) : null;
  } catch {
    return null;
  }
}

export async function writeSpoolState(dir: string, state: SpoolState): Promise<void> {
  const file = join(dir, SPOOL_STATE_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state)}\n`);
  await rename(tmp, file);
}

/** Segment file names (`segments/000007.ndjson.gz`) present in the spool, in number order. */
export async function listSpoolSegments(dir: string): Promise<string[]> {
  const names = await readdir(join(dir, SEGMENTS_DIR));
  return names
    .filter((n) => segmentNumber(n) !== null && !n.endsWith('.tmp'))
    .sort((a, b) => segmentNumber(a)! - segmentNumber(b)!)
    .map((n) => `${SEGMENTS_DIR}/${n}`);
}

/** Take the spool for this process; a lock left by a dead process is taken over. Returns the release function. */
export async function lockSpool(dir: string, store: string): Promise<() => Promise<void>> {
  const lock = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => rm(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new RepriseError('STORE_IO', `cannot lock spool ${dir}: ${(err as Error).message}`, { cause: err });
      const pid = Number(await readFile(lock, 'utf8').catch(() => 'NaN'));
      if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid)) {
        throw new RepriseError('STORE_LOCKED', `store ${store} is being written by process ${pid} (spool ${dir})`, { location: { file: lock } });
      }
      await rm(lock, { force: true });
    }
  }
  throw new RepriseError('STORE_LOCKED', `cannot take spool lock ${lock}`, { location: { file: lock } });
}
