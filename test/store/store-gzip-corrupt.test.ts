import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import { RepriseError } from '../../errors.js';
import type { Exchange } from '../../store/exchange.js';
import { newReadReport, readExchanges, type ReadOptions } from '../../store/segment-reader.js';
import { openStoreWriter } from '../../store/segment-writer.js';
import { expectOneLineError, runCli } from '../support/run-cli.js';
import { syntheticExchange, writeSyntheticStore } from '../support/synthetic-exchange.js';
import { makeTempDir } from '../support/temp-dir.js';

// Real stores written by the real writer, one gzip segment each, damaged at known places.

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => { tmp = await makeTempDir(); });
afterEach(async () => { await tmp.cleanup(); });

async function damaged(n: number, damage: (segment: Buffer) => Buffer): Promise<{ store: string; seg: string; bytes: Buffer }> {
  const store = await writeSyntheticStore(tmp.dir, n);
  const seg = join(store, 'segments', '000001.ndjson.gz');
  const bytes = damage(await readFile(seg));
  await writeFile(seg, bytes);
  return { store, seg, bytes };
}

/** Everything read before the error, and the error. */
async function readUntilError(store: string, options: ReadOptions = {}): Promise<{ read: Exchange[]; err: RepriseError }> {
  const read: Exchange[] = [];
  try {
    for await (const ex of readExchanges(store, options)) read.push(ex);
  } catch (err) {
    return { read, err: err as RepriseError };
  }
  throw new Error(`expected an error after ${read.length} records`);
}

/** How many whole records the first `length` bytes of the segment hold (zlib's own answer). */
function wholeRecordsIn(bytes: Buffer, length: number): number {
  const text = gunzipSync(bytes.subarray(0, length), { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8');
  return text.split('\n').length - 1;
}

/** The body data of each whole record zlib decodes from the first `length` bytes. */
function recordsIn(bytes: Buffer, length: number): unknown[] {
  const text = gunzipSync(bytes.subarray(0, length), { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8');
  return text.split('\n').slice(0, -1).map((line) => (JSON.parse(line) as Exchange).response?.body?.data);
}

const flipAt = (at: number) => (b: Buffer): Buffer => {
  b[at] = b[at]! ^ 0xff;
  return b;
};

/**
 * A store of `n` records whose segment has one byte flipped at `from` or just after: the first
 * such flip that zlib rejects as bad deflate data (some flips decode to wrong text instead, which
 * the reader reports as a bad line, or which only the trailer checksum catches). Segments differ
 * run to run (ids are random), so it is searched.
 */
async function flippedWhereZlibFails(n: number, from: number): Promise<{ store: string; seg: string; bytes: Buffer; flipped: number }> {
  const store = await writeSyntheticStore(tmp.dir, n);
  const seg = join(store, 'segments', '000001.ndjson.gz');
  const original = await readFile(seg);
  for (let at = from; at < from + 400; at++) {
    const bytes = flipAt(at)(Buffer.from(original));
    await writeFile(seg, bytes);
    const { err } = await readUntilError(store);
    // Not a checksum failure: that is found at the trailer, whichever byte was changed.
    if (/^segment is corrupt \(gzip: (?!incorrect (data|length) check)/.test(err.message)) return { store, seg, bytes, flipped: at };
  }
  throw new Error('no flip zlib detects');
}

describe('a damaged gzip segment', () => {
  it('a byte flipped in the middle of a small segment: the error names the file and the byte where decoding failed, not byte 0', async () => {
    // 30 records (~2 KB): the whole segment is one read and one output chunk, where zlib's bytesWritten says 0.
    const { store, seg, bytes, flipped } = await flippedWhereZlibFails(30, 1000);
    const { read, err } = await readUntilError(store);
    expect(err).toMatchObject({ code: 'STORE_CORRUPT', location: { file: seg } });
    const offset = err.location!.offset!;
    // zlib may decode past the flipped byte for a while (into other text) before a code is invalid.
    expect(offset).toBeGreaterThanOrEqual(flipped);
    expect(offset).toBeLessThan(bytes.length - 8);
    // Exactly there: everything before that byte decodes, with it the stream is bad.
    expect(() => gunzipSync(bytes.subarray(0, offset), { finishFlush: constants.Z_SYNC_FLUSH })).not.toThrow();
    expect(() => gunzipSync(bytes.subarray(0, offset + 1), { finishFlush: constants.Z_SYNC_FLUSH })).toThrow();
    // Every record decoded before it was handed on, intact.
    const before = wholeRecordsIn(bytes, offset);
    expect(before).toBeGreaterThan(5);
    expect(read.map((e) => e.response?.body?.data)).toEqual(recordsIn(bytes, offset));
    expect(read.slice(0, 5).map((e) => e.response?.body?.data)).toEqual([0, 1, 2, 3, 4].map((i) => syntheticExchange(i).response!.body!.data));
    expect(err.message).toMatch(new RegExp(`^segment is corrupt \\(gzip: [^)]+\\); decoded up to there: lines 1–${before}, and line ${before + 1} in part$`));
    expect(err.where).toBe(`${seg} at byte ${offset}`);
  });

  it('a bad checksum in the trailer of a large segment: every record is read, then the error names the checksum bytes', async () => {
    const { store, seg, bytes } = await damaged(2000, (b) => flipAt(b.length - 6)(b)); // inside the CRC-32
    const { read, err } = await readUntilError(store);
    expect(read).toHaveLength(2000);
    expect(read.at(-1)!.response?.body?.data).toBe(syntheticExchange(1999).response!.body!.data);
    expect(err).toMatchObject({ code: 'STORE_CORRUPT', location: { file: seg, offset: bytes.length - 5 } }); // the CRC's last byte
    expect(err.message).toMatch(/^segment is corrupt \(gzip: incorrect data check: the trailer checksum does not match .*\); decoded up to there: lines 1–2000$/);
  });

  it('a flipped byte with onCorrupt: skip: the records before it are kept, the problem names file and offset, the next segment is read', async () => {
    const { store, seg, bytes } = await flippedWhereZlibFails(30, 900);
    const more = await openStoreWriter(store); // a second, sound segment after the damaged one
    for (let i = 100; i < 105; i++) await more.write(syntheticExchange(i));
    await more.close();
    const report = newReadReport();
    const read: Exchange[] = [];
    for await (const ex of readExchanges(store, { onCorrupt: 'skip', report })) read.push(ex);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatch(new RegExp(`^${seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at byte \\d+: segment is corrupt`));
    const offset = Number(/ at byte (\d+):/.exec(report.problems[0]!)![1]);
    const before = wholeRecordsIn(bytes, offset);
    expect(before).toBeGreaterThan(3);
    // The records zlib itself decodes before the byte it rejects: the ones before the flip are the
    // originals; a record between the flip and that byte may have decoded to other text that still
    // parses (deflate has no checksum before the trailer), and then it is what any gzip reader gets.
    const decoded = recordsIn(bytes, offset);
    expect(decoded.slice(0, 3)).toEqual([0, 1, 2].map((i) => syntheticExchange(i).response!.body!.data));
    expect(read.map((e) => e.response?.body?.data)).toEqual([...decoded, ...[100, 101, 102, 103, 104].map((i) => syntheticExchange(i).response!.body!.data)]);
  });

  it('a truncated sealed segment: the offset is where the data ends, and every whole record before it is read', async () => {
    const store = await writeSyntheticStore(tmp.dir, 2000);
    const seg = join(store, 'segments', '000001.ndjson.gz');
    const cut = 40_000;
    await truncate(seg, cut);
    const { read, err } = await readUntilError(store);
    expect(err).toMatchObject({ code: 'STORE_CORRUPT', location: { file: seg, offset: cut } });
    expect(err.message).toMatch(/^segment is truncated \(gzip stream ends early; sealed at \d+ bytes\); decoded up to there: lines 1–\d+/);
    expect(read).toHaveLength(wholeRecordsIn(await readFile(seg), cut));
  });

  it('store cat prints one line naming the segment file and the byte', async () => {
    const { store, seg, flipped } = await flippedWhereZlibFails(30, 1000);
    const r = await runCli(['store', 'cat', store]);
    expect(r.code).toBe(1);
    expect(expectOneLineError(r, 'STORE_CORRUPT')).toMatch(new RegExp(`^reprise: STORE_CORRUPT: ${seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at byte (\\d+): segment is corrupt \\(gzip: `));
    expect(Number(/ at byte (\d+):/.exec(r.stderr)![1])).toBeGreaterThanOrEqual(flipped);
    expect(r.stdout.split('\n').filter(Boolean).length).toBeGreaterThan(5); // the records before it were printed
  });
});
