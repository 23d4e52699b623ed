// Why this file exists: HAR is what browsers' devtools, proxies and HAR viewers read, so exporting
// a store (or a filtered part of it) as HAR lets people inspect captured traffic with tools they
// know. The document is streamed: one entry in memory at a time, whatever the store's size.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { RepriseError } from '../../errors.js';
import type { Exchange } from '../exchange.js';
import { buildHarEntry } from './har-entry.js';

/** HAR requires creator.version; the format of `_reprise` is versioned separately (its `v`). */
const CREATOR = { name: 'reprise', version: '0.1.0' };

/**
 * Write exchanges as one HAR 1.2 file, one entry per line. Writing goes to a
 * temporary file beside `outFile` that is renamed into place at the end, so
 * a failed or interrupted export never leaves a half HAR under the real name
 * (a killed process can leave the `<outFile>.<pid>.tmp` file behind).
 * Backpressure: the next exchange is read only when the file stream has room.
 *
 * @example
 * const { count } = await exportHar(readExchanges('./store', { filter: { statuses: ['5xx'] } }), 'errors.har');
 */
export async function exportHar(exchanges: AsyncIterable<Exchange>, outFile: string): Promise<{ count: number }> {
  const tmp = `${outFile}.${process.pid}.tmp`;
  const counter = { count: 0 };
  try {
    await pipeline(renderHar(exchanges, counter), createWriteStream(tmp));
    await rename(tmp, outFile);
  } catch (err) {
    await rm(tmp, { force: true });
    throw toExportError(err, outFile);
  }
  return { count: counter.count };
}

/** The HAR document as text pieces: head, entries, tail. */
async function* renderHar(exchanges: AsyncIterable<Exchange>, counter: { count: number }): AsyncGenerator<string> {
  yield `{"log":{"version":"1.2","creator":${JSON.stringify(CREATOR)},"pages":[],"entries":[`;
  for await (const ex of exchanges) {
    yield `${counter.count === 0 ? '\n' : ',\n'}${JSON.stringify(buildHarEntry(ex))}`;
    counter.count++;
  }
  yield '\n]}}\n';
}

/**
 * Errors from the input (a corrupt store) pass through; file system errors
 * become OUTPUT_UNWRITABLE naming `target`. Shared by the exporters.
 *
 * @example
 * try { await writeFile(file, text); } catch (err) { throw toExportError(err, file); }
 */
export function toExportError(err: unknown, target: string): unknown {
  if (err instanceof RepriseError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) { // errno codes (ENOENT, EACCES), not ERR_*
    return new RepriseError('OUTPUT_UNWRITABLE', `cannot write ${target}: ${(err as Error).message}`, { cause: err, location: { file: target } });
  }
  return err;
}
