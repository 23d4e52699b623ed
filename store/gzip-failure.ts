// Why this file exists: Node's zlib says *that* a gzip stream is corrupt, not *where*. A Gunzip's
// bytesWritten only counts input whose output chunk was finished before the error (0 for a
// segment smaller than one output chunk), and the output of the call that failed is never
// delivered, so the records decoded just before the damage would be lost too. On that rare path
// the segment is decoded again in ever smaller writes: zlib's verdict depends only on the bytes,
// not on how they are split, so the write that fails when they arrive one at a time is the byte
// at which decoding failed, and everything decoded before it comes out.
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';

export interface GzipFailure {
  /** Offset in the compressed stream of the byte at which zlib found the stream bad. */
  offset: number;
  /** Decoded bytes from `skipOutput` up to that byte (at most MAX_TAIL). */
  tail: Buffer;
}

// What the first pass can have lost is one output chunk and what its stream still buffered
// (hundreds of KiB); far more than that kept here would only mean a wrong skipOutput.
const MAX_TAIL = 16 * 1024 * 1024;
// The coarse pass narrows the failure to 1 KiB in at most a few hundred writes; the fine pass then
// needs at most 1,024 one-byte writes. Each pass decodes the segment up to the failure once.
const COARSE_STEP = 1024;

/**
 * Find where a gzip stream fails. `open` gives its bytes from the start (again); `knownGood` is a
 * prefix that already decoded without error (written whole); `skipOutput` decoded bytes the caller
 * has already had. Resolves null when decoding does not fail this time (the file changed, or the
 * first failure was not in the bytes).
 *
 * @example
 * const f = await locateGzipFailure(() => Promise.resolve(createReadStream(seg)), { knownGood: gunzip.bytesWritten, skipOutput: decoded });
 * if (f) console.error(`${seg} at byte ${f.offset}: corrupt`);
 */
export async function locateGzipFailure(open: () => Promise<Readable>, options: { knownGood: number; skipOutput: number }): Promise<GzipFailure | null> {
  const coarse = await decodeUntilFailure(open, options.knownGood, COARSE_STEP, options.skipOutput);
  if (!coarse || coarse.atEnd) return coarse && { offset: coarse.from, tail: coarse.tail };
  const fine = await decodeUntilFailure(open, coarse.from, 1, options.skipOutput);
  return fine && { offset: fine.from, tail: fine.tail };
}

interface Attempt {
  /** Offset of the first byte of the write that failed (the end of the input when ending failed). */
  from: number;
  atEnd: boolean;
  tail: Buffer;
}

/** Decode with the bytes before `wholeUntil` written as they come and the rest `step` bytes at a time. */
async function decodeUntilFailure(open: () => Promise<Readable>, wholeUntil: number, step: number, skipOutput: number): Promise<Attempt | null> {
  const gunzip = zlib.createGunzip();
  const kept: Buffer[] = [];
  let produced = 0;
  let keptBytes = 0;
  gunzip.on('data', (c: Buffer) => {
    const from = Math.max(0, skipOutput - produced);
    produced += c.length;
    if (from >= c.length || keptBytes >= MAX_TAIL) return;
    const piece = c.subarray(from, from + MAX_TAIL - keptBytes);
    kept.push(piece);
    keptBytes += piece.length;
  });
  let failed = false;
  gunzip.on('error', () => (failed = true));
  const tail = (): Buffer => Buffer.concat(kept);
  const source = await open();
  let pos = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      for (let at = 0; at < chunk.length;) {
        const size = Math.min(chunk.length - at, pos < wholeUntil ? wholeUntil - pos : step);
        await settle(gunzip, (done) => gunzip.write(chunk.subarray(at, at + size), done));
        if (failed) return { from: pos, atEnd: false, tail: tail() };
        pos += size;
        at += size;
      }
    }
    await settle(gunzip, (done) => gunzip.end(done));
    return failed ? { from: pos, atEnd: true, tail: tail() } : null;
  } finally {
    source.destroy();
    gunzip.destroy();
  }
}

/** Resolve once `act`'s callback runs or the stream fails, whichever comes first. */
function settle(stream: zlib.Gunzip, act: (done: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('error', done);
    stream.once('close', done);
    act(done);
  });
}
