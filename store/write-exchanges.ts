import { once } from 'node:events';
import type { Exchange } from './exchange.js';
import { openStoreWriter, type StoreWriterOptions, type StoreWriterSummary } from './segment-writer.js';

/**
 * Drain an Exchange stream into a store. On a source error the records
 * already written are kept: the writer is closed (sealing the segment) before
 * the error is rethrown.
 *
 * @example
 * await writeExchanges(importHar('session.har'), './store');
 */
export async function writeExchanges(
  exchanges: AsyncIterable<Exchange> | Iterable<Exchange>,
  storeDir: string,
  options: StoreWriterOptions & { onProgress?: (count: number) => void } = {},
): Promise<StoreWriterSummary> {
  const writer = await openStoreWriter(storeDir, options);
  try {
    for await (const ex of exchanges) {
      await writer.write(ex);
      if (options.onProgress && writer.count % 10_000 === 0) options.onProgress(writer.count);
    }
  } catch (err) {
    await writer.close();
    throw err;
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
      if (!out.write(`${JSON.stringify(ex)}\n`)) await Promise.race([once(out, 'drain'), once(out, 'close')]);
    }
  } finally {
    out.off('error', onError);
  }
  return n;
}
