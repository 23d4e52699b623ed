import { once, type EventEmitter } from 'node:events';
import { closeAfterFailure } from './close-after-failure.js';
import type { Exchange } from './exchange.js';
import { openAnyStoreWriter, type AnyStoreWriterOptions, type AnyStoreWriterSummary } from './open-store-writer.js';

/**
 * Drain an Exchange stream into a store (a directory or `s3://bucket/prefix`). On a source error the records
 * already written are kept: the writer is closed (sealing the segment) before
 * the error is rethrown. A source that fails before its first record leaves no
 * store behind where there was none (a store that was there is left as it was).
 * The source's error is the one thrown, also when the store cannot be closed
 * after it (see closeAfterFailure).
 *
 * @example
 * await writeExchanges(importHar('session.har'), './store');
 */
export async function writeExchanges(
  exchanges: AsyncIterable<Exchange> | Iterable<Exchange>,
  storeDir: string,
  options: AnyStoreWriterOptions & { onProgress?: (count: number) => void } = {},
): Promise<AnyStoreWriterSummary> {
  const writer = await openAnyStoreWriter(storeDir, options);
  try {
    for await (const ex of exchanges) {
      await writer.write(ex);
      if (options.onProgress && writer.count % 10_000 === 0) options.onProgress(writer.count);
    }
  } catch (err) {
    throw await closeAfterFailure(writer, err, storeDir);
  }
  return writer.close();
}

/**
 * Write records as NDJSON to a stream (stdout for `store cat`), respecting
 * backpressure; stops quietly when the reader goes away (`| head`).
 */
export async function writeNdjson(exchanges: AsyncIterable<Exchange>, out: NodeJS.WritableStream): Promise<number> {
  let n = 0;
  let closed = false;
  const onError = (err: NodeJS.ErrnoException): void => {
    if (err.code === 'EPIPE') closed = true;
  };
  out.on('error', onError);
  try {
    for await (const ex of exchanges) {
      if (closed) break;
      n++;
      if (!out.write(`${JSON.stringify(ex)}\n`)) await drainOrClose(out);
    }
  } finally {
    out.off('error', onError);
  }
  return n;
}

/** Wait for 'drain' or 'close', then drop both listeners (left behind, they pile up on every full write). */
async function drainOrClose(out: NodeJS.WritableStream): Promise<void> {
  const ac = new AbortController();
  const wait = (event: string): Promise<void> => once(out as unknown as EventEmitter, event, { signal: ac.signal }).then(() => undefined, () => undefined);
  await Promise.race([wait('drain'), wait('close')]);
  ac.abort();
}
