// Why this file exists: the ingest endpoint may only say 2xx once a payload is safe, because the
// forwarder deletes its SQS message on 2xx. Safe means written *and* flushed to the kernel. A
// flush per request would cost one gzip sync-flush each; group commit shares one flush among
// all requests that arrive while the previous flush runs, so throughput holds under load.
import type { Exchange } from '../../store/exchange.js';
import type { StoreWriterSummary } from '../../store/segment-writer.js';

/** The part of a store writer this needs (a local StoreWriter, or any backend with the same contract). */
export interface FlushableSink {
  write(ex: Exchange): Promise<void>;
  /** Resolves once everything written before the call survives a crash of this process. */
  flush(): Promise<void>;
  close(): Promise<StoreWriterSummary>;
  /** Close after a failed start: a store that opening created and nothing was written to is removed again. */
  closeAfterError?(): Promise<StoreWriterSummary>;
}

/**
 * Serialized writes plus group-committed flushes over a store writer.
 *
 * Why a flush can be shared: StoreWriter.flush() pushes every line written so far, then
 * resolves when that sync flush reaches the kernel. A flush started after our writes therefore
 * covers them. A flush already running may have started before them, so a request never joins
 * it; it joins (or starts) the *next* one, which begins as soon as the running one ends.
 *
 * @example
 * const durable = new DurableWriter(await openStoreWriter('./store'));
 * await durable.writeDurably([exchange]); // now safe to answer 2xx
 */
export class DurableWriter {
  private writing: Promise<void> = Promise.resolve();
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;
  /** Flushes performed, for stats: requests ÷ flushes is the group-commit factor. */
  flushes = 0;

  constructor(private readonly sink: FlushableSink) {}

  /** Write the records and resolve once they are durable; rejects if the store refused them. */
  async writeDurably(exchanges: readonly Exchange[]): Promise<void> {
    if (exchanges.length === 0) return;
    // One request's records go in together and never interleave with another request's writes
    // (StoreWriter.write may await a drain or a rotation mid-way).
    const done = this.writing.then(async () => {
      for (const ex of exchanges) await this.sink.write(ex);
    });
    this.writing = done.catch(() => undefined);
    await done;
    await this.commit();
  }

  /** Wait for pending writes and flushes, then close the store. */
  async close(): Promise<StoreWriterSummary> {
    await this.writing;
    await this.running?.catch(() => undefined);
    await this.next?.catch(() => undefined);
    return this.sink.close();
  }

  private commit(): Promise<void> {
    if (this.next) return this.next;
    const start = (): Promise<void> => {
      this.next = null;
      this.flushes++;
      const run = this.sink.flush();
      this.running = run;
      const clear = (): void => {
        if (this.running === run) this.running = null;
      };
      run.then(clear, clear);
      return run;
    };
    if (!this.running) return start();
    this.next = this.running.catch(() => undefined).then(start);
    return this.next;
  }
}
