import type { Exchange } from './exchange.js';
import type { S3StoreWriterOptions } from './s3/s3-store-writer.js';
import type { UploadStats } from './s3/segment-uploader.js';
import { openStoreWriter, type StoreWriterSummary } from './segment-writer.js';

/**
 * What every store writer offers, local (StoreWriter) or S3 (S3StoreWriter):
 * sources and `writeExchanges` take this, so any of them can write to
 * `./store` or `s3://bucket/prefix`.
 */
export interface ExchangeStoreWriter {
  /** The store path or URL. */
  readonly dir: string;
  /** Records written so far. */
  readonly count: number;
  write(ex: Exchange): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<AnyStoreWriterSummary>;
  /** Close after the command failed; a store that opening created and nothing was written to is removed again. */
  closeAfterError(): Promise<AnyStoreWriterSummary>;
}

export interface AnyStoreWriterSummary extends StoreWriterSummary {
  /** S3 stores only: what was uploaded, and what still waits in the spool. */
  upload?: UploadStats;
}

/** Options for either kind; the S3 ones are ignored for a local store. */
export type AnyStoreWriterOptions = S3StoreWriterOptions;

/**
 * Open a local store directory or an `s3://bucket/prefix` store for appending.
 * The S3 backend (and the AWS SDK) is loaded only for `s3://` paths.
 *
 * @example
 * const w = await openAnyStoreWriter(process.env.STORE ?? './store');
 * await w.write(exchange);
 * const summary = await w.close();
 * if (summary.upload?.pending) console.warn(`${summary.upload.pending} segments wait in ${summary.upload.spoolDir}`);
 */
export async function openAnyStoreWriter(path: string, options: AnyStoreWriterOptions = {}): Promise<ExchangeStoreWriter> {
  if (path.startsWith('s3://')) {
    const { openS3StoreWriter } = await import('./s3/s3-store-writer.js');
    return openS3StoreWriter(path, options);
  }
  return openStoreWriter(path, options);
}
