import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { finished, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import zlib from 'node:zlib';
import { RepriseError } from '../errors.js';
import type { Exchange } from './exchange.js';
import { compileFilter, type ExchangeFilter } from './exchange-filter.js';
import { readManifest, segmentNumber, SEGMENTS_DIR, type SegmentEntry } from './manifest.js';
import { locateGzipFailure } from './gzip-failure.js';
import { exchangeProblems } from './validate-exchange.js';
import type { S3Access } from './s3/s3-client.js';

/**
 * Streaming reader over a store: segments in write order, one record at a
 * time, so memory is bounded by one decompressed chunk plus one line.
 *
 * Sealed segments (listed in the manifest) must be whole: truncation or a bad
 * line there is corruption and an error. An unsealed segment — the one a
 * killed writer left open — may end mid-record: the torn tail is skipped and
 * counted in the ReadReport, and everything before it is returned.
 *
 * A store path may be `s3://bucket/prefix` (or `s3://bucket/key` of one
 * segment): listing and opening go to store/s3/, loaded only then, and the
 * bytes go through the same parser.
 */

export interface SegmentRef {
  /** A file path, or `s3://bucket/key`. */
  path: string;
  /** Listed in the manifest, i.e. closed cleanly by its writer. */
  sealed: boolean;
  entry?: SegmentEntry;
  /** Stored (compressed) size, when listing already knew it (S3). */
  bytes?: number;
}

export interface ReadReport {
  segments: number;
  /** Records parsed (before filtering). */
  records: number;
  matched: number;
  /** Unsealed segments that ended mid-record; that partial record is skipped. */
  tornTails: number;
  /** Lines skipped because they were corrupt (only with onCorrupt: 'skip'). */
  skippedLines: number;
  unsealedSegments: string[];
  /** First problems seen, as one-line messages with file:line. */
  problems: string[];
}

export interface ReadOptions {
  filter?: ExchangeFilter;
  /** 'throw' (default) stops at the first corrupt line or segment; 'skip' counts it and goes on. */
  onCorrupt?: 'throw' | 'skip';
  /** Filled in while reading; inspect it after the iteration ends. */
  report?: ReadReport;
  /** How to reach S3 for `s3://` stores (default: the AWS chain and REPRISE_S3_* env). */
  s3?: S3Access;
}

export function newReadReport(): ReadReport {
  return { segments: 0, records: 0, matched: 0, tornTails: 0, skippedLines: 0, unsealedSegments: [], problems: [] };
}

const MAX_PROBLEMS = 20;

/**
 * Every Exchange in a store (a directory, or a single segment file), in write order.
 *
 * @example
 * const report = newReadReport();
 * for await (const ex of readExchanges('./store', { filter: { statuses: ['5xx'] }, report })) console.log(ex.id);
 * console.log(report.tornTails);
 */
export async function* readExchanges(store: string, options: ReadOptions = {}): AsyncGenerator<Exchange> {
  const report = options.report ?? newReadReport();
  const keep = compileFilter(options.filter);
  const { from, to } = options.filter ?? {};
  for (const seg of await listSegments(store, options.s3)) {
    const st = seg.entry?.stats;
    // The manifest's time range lets a time-filtered read skip whole segments.
    if (st && st.firstStart !== null && st.lastStart !== null) {
      if ((to !== undefined && st.firstStart >= to) || (from !== undefined && st.lastStart < from)) continue;
    }
    report.segments++;
    const fail = failWith(options.onCorrupt ?? 'throw', report);
    for await (const batch of readSegment(await openSegment(seg, options.s3), seg, fail, report, () => openSegment(seg, options.s3))) {
      // Records are parsed a few at a time just before they are handed on, not a whole chunk at once:
      // a chunk is hundreds of records, and parsing them in one go would stall a consumer that paces
      // itself on the records (the replay scheduler) for milliseconds at every chunk.
      for (let from = 0; from < batch.lines.length; from += PARSE_GROUP) {
        const group = parseGroup(batch, from, seg.path, fail);
        report.records += group.records.length;
        for (const ex of group.records) {
          if (keep(ex)) {
            report.matched++;
            yield ex;
          }
        }
        // A corrupt line ends the read only after the records before it were handed on.
        if (group.error !== undefined) throw group.error;
      }
    }
  }
}

/** The store's segments in write order, each marked sealed or not. */
export async function listSegments(store: string, s3?: S3Access): Promise<SegmentRef[]> {
  if (isS3Path(store)) return (await import('./s3/s3-store-reader.js')).listS3Segments(store, s3);
  let info;
  try {
    info = await stat(store);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new RepriseError('STORE_NOT_FOUND', 'no such store (path does not exist)', { location: { file: store } });
    throw new RepriseError('STORE_IO', `cannot open store: ${(err as Error).message}`, { cause: err, location: { file: store } });
  }
  if (info.isFile()) return [{ path: store, sealed: false }];
  const manifest = await readManifest(store);
  let dir = join(store, SEGMENTS_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    dir = store; // a bare directory of segment files
    names = await readdir(store);
    if (!manifest && !names.some(isSegmentName)) {
      throw new RepriseError('STORE_NOT_FOUND', 'not a reprise store (no manifest.json, no segments/)', { location: { file: store } });
    }
  }
  const sealed = new Map((manifest?.segments ?? []).map((s) => [basename(s.file), s]));
  return names
    .filter(isSegmentName)
    .sort((a, b) => (segmentNumber(a) ?? 0) - (segmentNumber(b) ?? 0) || a.localeCompare(b))
    .map((name) => {
      const entry = sealed.get(name);
      return entry ? { path: join(dir, name), sealed: true, entry } : { path: join(dir, name), sealed: false };
    });
}

function isSegmentName(name: string): boolean {
  return /\.ndjson(\.gz)?$/.test(name);
}

function isS3Path(path: string): boolean {
  return path.startsWith('s3://');
}

// Lines are handed up one decompressed chunk at a time: an async hop per
// line costs as much as parsing it, an array per chunk costs nothing.
// 256 KiB chunks: few hops, and still a small, fixed amount of memory.
const CHUNK = 256 * 1024;

/** The bytes of one segment, from disk or S3. */
async function openSegment(seg: SegmentRef, s3: S3Access | undefined): Promise<Readable> {
  if (isS3Path(seg.path)) return (await import('./s3/s3-store-reader.js')).openS3Segment(seg.path, s3);
  return createReadStream(seg.path, { highWaterMark: CHUNK });
}

/** The non-empty lines of one decompressed chunk and their line numbers (1-based) in the segment. */
interface LineBatch {
  lines: string[];
  numbers: number[];
}

type Fail = (err: RepriseError) => void;

// ~0.2 ms of JSON.parse at a time: short enough for a paced consumer, long enough that the parse
// loop runs as tight as one over the whole chunk did (record-by-record parsing read ~5 % slower).
const PARSE_GROUP = 32;

/**
 * Parse up to PARSE_GROUP lines of a batch from `from`; corrupt lines go to `fail`. When `fail`
 * throws (onCorrupt: 'throw'), the group stops there and carries the error with what came before.
 */
function parseGroup(batch: LineBatch, from: number, file: string, fail: Fail): { records: Exchange[]; error?: unknown } {
  const records: Exchange[] = [];
  const end = Math.min(batch.lines.length, from + PARSE_GROUP);
  try {
    for (let i = from; i < end; i++) {
      const ex = parseLine(batch.lines[i]!, file, batch.numbers[i]!, fail);
      if (ex !== null) records.push(ex);
    }
  } catch (error) {
    return { records, error };
  }
  return { records };
}

/** Throw the problem, or count it and go on (`onCorrupt: 'skip'`). */
function failWith(onCorrupt: 'throw' | 'skip', report: ReadReport): Fail {
  return (err) => {
    if (onCorrupt === 'throw') throw err;
    report.skippedLines++;
    if (report.problems.length < MAX_PROBLEMS) report.problems.push(`${err.where}: ${err.message}`);
  };
}

/**
 * Split one segment's bytes (`source`, named `seg.path` in errors) into
 * batches of lines, applying the sealed/unsealed rules above.
 */
async function* readSegment(source: Readable, seg: SegmentRef, fail: Fail, report: ReadReport, reopen: () => Promise<Readable>): AsyncGenerator<LineBatch> {
  try {
    yield* splitSegment(source, seg, fail, report, reopen);
  } finally {
    source.destroy(); // a reader that stops early (`--limit`) must not leave a file or an S3 socket open
  }
}

async function* splitSegment(source: Readable, seg: SegmentRef, fail: Fail, report: ReadReport, reopen: () => Promise<Readable>): AsyncGenerator<LineBatch> {
  const file = seg.path;
  const gunzip = file.endsWith('.gz') ? zlib.createGunzip({ chunkSize: CHUNK }) : null;
  let stored = 0; // bytes of the segment as stored (compressed for .gz) read so far, for error offsets
  if (gunzip) {
    source.on('data', (c: Buffer) => (stored += c.length));
    source.on('error', (err) => gunzip.destroy(err));
    source.pipe(gunzip);
  }
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let line = 0;
  let decoded = 0; // decompressed bytes split into lines so far
  const split = (chunk: Buffer): LineBatch => {
    decoded += chunk.length;
    const text = rest + decoder.write(chunk);
    let pos = 0;
    const batch: LineBatch = { lines: [], numbers: [] };
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', pos)) {
      const raw = text.slice(pos, nl);
      pos = nl + 1;
      line++;
      if (raw.length === 0) continue;
      batch.lines.push(raw);
      batch.numbers.push(line);
    }
    rest = text.slice(pos);
    return batch;
  };
  try {
    for await (const chunk of chunksThenError(gunzip ?? source)) {
      if (!gunzip) stored += chunk.length;
      const batch = split(chunk);
      if (batch.lines.length > 0) yield batch;
    }
  } catch (err) {
    if (err instanceof RepriseError) throw err;
    const e = err as NodeJS.ErrnoException;
    // A read failure (disk error, S3 connection reset) is not corruption: never skipped.
    if (!gunzip || !e.code?.startsWith('Z_')) throw new RepriseError('STORE_IO', `cannot read segment: ${e.message}`, { cause: err, location: { file, offset: stored } });
    const truncated = e.code === 'Z_BUF_ERROR';
    if (truncated && !seg.sealed) {
      noteUnsealed(seg, report);
    } else {
      // Truncated: decoding stopped at the end of what is there. Corrupt: find the byte, and the
      // records decoded before it that zlib's failed call never handed out.
      let offset = truncated ? stored : gunzip.bytesWritten;
      if (!truncated) {
        const found = await locateGzipFailure(reopen, { knownGood: gunzip.bytesWritten, skipOutput: decoded }).catch(() => null);
        if (found) {
          offset = found.offset;
          const batch = split(found.tail);
          if (batch.lines.length > 0) yield batch;
        }
      }
      const why = truncated
        ? `segment is truncated (gzip stream ends early${seg.entry ? `; sealed at ${seg.entry.bytes} bytes` : ''})`
        : `segment is corrupt (gzip: ${e.message}${/incorrect (data|length) check/.test(e.message) ? ': the trailer checksum does not match what was decoded, so a byte before it is wrong' : ''})`;
      fail(new RepriseError('STORE_CORRUPT', `${why}; ${line === 0 ? 'no record before it was decoded' : `decoded up to there: lines 1–${line}${rest.length > 0 ? `, and line ${line + 1} in part` : ''}`}`, { cause: err, location: { file, offset } }));
      return;
    }
  }
  rest += decoder.end();
  if (rest.length > 0) {
    line++;
    if (seg.sealed) {
      fail(new RepriseError('STORE_CORRUPT', 'last record has no newline in a sealed segment', { location: { file, line } }));
    } else {
      report.tornTails++;
      noteUnsealed(seg, report);
      if (report.problems.length < MAX_PROBLEMS) report.problems.push(`${file}:${line}: torn last record skipped (writer did not close the segment)`);
    }
  }
}

/**
 * The chunks of `stream`, every one it produced, then its error. (A for-await over a Readable
 * drops the chunks still buffered when the stream fails: those are records decoded before the
 * damage, and must reach the reader.)
 */
async function* chunksThenError(stream: Readable): AsyncGenerator<Buffer> {
  let wake: (() => void) | null = null;
  let done = false;
  let error: unknown = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  stream.on('readable', notify);
  const cleanup = finished(stream, { writable: false }, (err) => {
    error = err ?? null;
    done = true;
    notify();
  });
  try {
    for (;;) {
      const chunk = stream.read() as Buffer | null;
      if (chunk !== null) yield chunk;
      else if (done) {
        if (error) throw error;
        return;
      } else await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    cleanup();
    stream.off('readable', notify);
    if (!done) stream.destroy();
  }
}

function noteUnsealed(seg: SegmentRef, report: ReadReport): void {
  if (!report.unsealedSegments.includes(seg.path)) report.unsealedSegments.push(seg.path);
}

function parseLine(raw: string, file: string, line: number, fail: Fail): Exchange | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    fail(new RepriseError('STORE_CORRUPT', `not valid JSON (${(err as Error).message})`, { cause: err, location: { file, line } }));
    return null;
  }
  const problems = exchangeProblems(value);
  if (problems.length > 0) {
    fail(new RepriseError('STORE_SCHEMA', `not an Exchange v1: ${problems.slice(0, 3).join('; ')}`, { location: { file, line } }));
    return null;
  }
  return value as Exchange;
}
