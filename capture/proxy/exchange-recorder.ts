import type { Exchange } from '../../store/exchange.js';
import { endpointKey } from '../../store/endpoint-template.js';
import { openAnyStoreWriter, type AnyStoreWriterOptions } from '../../store/open-store-writer.js';
import { DEFAULT_SECRET_HEADERS, redactSecretHeaders } from '../../transform/redact-headers.js';

/**
 * The off-the-hot-path half of a recording proxy. The proxy hands each
 * finished Exchange to `offer()`, which never blocks and never throws:
 * redaction, sampling and queueing happen here, and a single drain loop
 * writes to the store. When the store is slow or stuck the queue fills to
 * `queueLimit`, then records are dropped and counted — traffic keeps flowing
 * (fail-open). Secrets are redacted before a record is queued, so they never
 * sit in memory longer than the request itself, nor reach disk.
 */

export interface RecordSink {
  write(ex: Exchange): Promise<void>;
  close(): Promise<unknown>;
  /** Close after a failed start: a store that opening created and nothing was written to is removed again. */
  closeAfterError?(): Promise<unknown>;
}

export interface SamplingOptions {
  /** Fraction of exchanges kept, 0–1 (default 1). */
  rate?: number;
  /** At most this many exchanges per second per endpoint template (`GET /users/:id`). */
  perEndpointPerSecond?: number;
  /** Keep 5xx responses and upstream failures whatever the sampling says (default true). */
  keepErrors?: boolean;
}

export interface RecorderOptions {
  /** Header names redacted before queueing; false disables (default: DEFAULT_SECRET_HEADERS). */
  redactHeaders?: readonly string[] | false;
  sampling?: SamplingOptions;
  /** Records waiting for the store before new ones are dropped (default 10,000). */
  queueLimit?: number;
  /**
   * Approximate bytes of body text waiting for the store before new records
   * are dropped (default 32 MiB). The count limit alone does not bound memory:
   * 10,000 records with 1 MiB bodies would be 10 GB.
   */
  queueBytes?: number;
  /** Injected for tests and tools; a Math.random replacement in [0, 1). */
  random?: () => number;
  /** Clock for per-endpoint caps, ms. */
  now?: () => number;
}

export interface RecorderStats {
  /** Exchanges offered by the proxy. */
  seen: number;
  /** Written to the store. */
  recorded: number;
  sampledOut: number;
  /** Dropped because the queue was full (store slow or stuck). */
  dropped: number;
  /** Records the store refused (I/O errors); counted, never thrown at the proxy. */
  writeErrors: number;
  /** Waiting in the queue now. */
  queued: number;
  /** Approximate bytes those queued records hold. */
  queuedBytes: number;
  /** Upstream failures among the offered exchanges (no response). */
  upstreamErrors: number;
}

export class ExchangeRecorder {
  private readonly sink: RecordSink;
  private readonly redact: readonly string[] | null;
  private readonly sampling: Required<Omit<SamplingOptions, 'perEndpointPerSecond'>> & { perEndpointPerSecond: number | undefined };
  private readonly queueLimit: number;
  private readonly queueBytes: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly queue: Array<{ ex: Exchange; bytes: number }> = [];
  private readonly buckets = new Map<string, { second: number; count: number }>();
  private draining: Promise<void> | null = null;
  private closed = false;
  private abandoned = false;
  private lastError: unknown = null;
  readonly stats: RecorderStats = { seen: 0, recorded: 0, sampledOut: 0, dropped: 0, writeErrors: 0, queued: 0, queuedBytes: 0, upstreamErrors: 0 };

  constructor(sink: RecordSink, options: RecorderOptions = {}) {
    this.sink = sink;
    this.redact = options.redactHeaders === false ? null : (options.redactHeaders ?? DEFAULT_SECRET_HEADERS);
    this.sampling = {
      rate: options.sampling?.rate ?? 1,
      perEndpointPerSecond: options.sampling?.perEndpointPerSecond,
      keepErrors: options.sampling?.keepErrors ?? true,
    };
    this.queueLimit = options.queueLimit ?? 10_000;
    this.queueBytes = options.queueBytes ?? 32 * 1024 * 1024;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /**
   * Hand over a finished exchange. Never blocks, never throws.
   *
   * `complete`, when given, turns a light record (method, path, status — what
   * sampling looks at) into the full one (headers, decoded bodies). It runs
   * only for records that are kept, so a 10% sample decodes 10% of bodies.
   */
  offer(ex: Exchange, complete?: (ex: Exchange) => Exchange): void {
    this.stats.seen++;
    const failed = ex.response === null;
    if (failed) this.stats.upstreamErrors++;
    if (this.closed) {
      this.stats.dropped++;
      return;
    }
    // A response cut short (reset, timeout mid-body) is an upstream failure too.
    const isError = failed || ex.error !== undefined || ex.response!.status >= 500;
    if (!(isError && this.sampling.keepErrors) && !this.sampled(ex)) {
      this.stats.sampledOut++;
      return;
    }
    if (this.queue.length >= this.queueLimit || this.stats.queuedBytes >= this.queueBytes) {
      this.stats.dropped++;
      return;
    }
    let full: Exchange;
    try {
      full = complete ? complete(ex) : ex;
    } catch (err) {
      // A bug in a source's builder must not take the proxy down with it.
      this.stats.writeErrors++;
      this.lastError = err;
      return;
    }
    const bytes = approximateBytes(full);
    this.queue.push({ ex: this.redact ? redactSecretHeaders(full, this.redact) : full, bytes });
    this.stats.queued = this.queue.length;
    this.stats.queuedBytes += bytes;
    this.draining ??= this.drain();
  }

  /** The last store error, if any (for logs; never thrown at the proxy). */
  get error(): unknown {
    return this.lastError;
  }

  /**
   * Close after the command failed: a proxy that could not start (its port taken, say), a replay
   * --record-out run that stopped. What is queued is written first; then a store that opening the
   * recorder created and not one record reached is removed again rather than left empty.
   */
  async closeAfterError(): Promise<RecorderStats> {
    this.closed = true;
    while (this.draining) await this.draining;
    await (this.sink.closeAfterError ? this.sink.closeAfterError() : this.sink.close());
    return { ...this.stats };
  }

  /**
   * Stop accepting, write what is queued, close the store. With `timeoutMs`,
   * a store that is stuck is given up on after that long: what is still queued
   * is counted as dropped and the returned promise settles anyway, so a
   * shutdown never hangs on a dead disk or network share.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<RecorderStats> {
    this.closed = true;
    const flushAndClose = (async () => {
      while (this.draining) await this.draining;
      await this.sink.close();
    })();
    if (options.timeoutMs === undefined) {
      await flushAndClose;
      return { ...this.stats };
    }
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), options.timeoutMs)));
    const outcome = await Promise.race([flushAndClose.then(() => 'done' as const), expired]);
    clearTimeout(timer);
    if (outcome === 'expired') {
      flushAndClose.catch((err: unknown) => (this.lastError = err));
      this.abandoned = true;
      this.stats.dropped += this.queue.length;
      this.queue.length = 0;
      this.stats.queued = 0;
      this.stats.queuedBytes = 0;
      this.lastError ??= new Error(`store did not finish writing within ${options.timeoutMs} ms; queued records dropped`);
    }
    return { ...this.stats };
  }

  private sampled(ex: Exchange): boolean {
    if (this.sampling.rate < 1 && this.random() >= this.sampling.rate) return false;
    const cap = this.sampling.perEndpointPerSecond;
    if (cap === undefined) return true;
    const key = endpointKey(ex.request.method, ex.request.path);
    const second = Math.floor(this.now() / 1000);
    const bucket = this.buckets.get(key);
    if (!bucket || bucket.second !== second) {
      // Bounded: a flood of distinct paths resets the map rather than growing it.
      if (!bucket && this.buckets.size >= 10_000) this.buckets.clear();
      this.buckets.set(key, { second, count: 1 });
      return true;
    }
    if (bucket.count >= cap) return false;
    bucket.count++;
    return true;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.abandoned) {
        const { ex, bytes } = this.queue.shift()!;
        this.stats.queued = this.queue.length;
        this.stats.queuedBytes -= bytes;
        try {
          await this.sink.write(ex);
          this.stats.recorded++;
        } catch (err) {
          this.stats.writeErrors++;
          this.lastError = err;
        }
      }
    } finally {
      this.draining = null;
    }
  }
}

/** Body text dominates a record's memory; 1 KiB stands in for the rest. */
function approximateBytes(ex: Exchange): number {
  return 1024 + (ex.request.body?.data.length ?? 0) + (ex.response?.body?.data.length ?? 0);
}

/**
 * A recorder writing to a store: a directory, or `s3://bucket/prefix` (spooled locally, uploaded as segments seal).
 *
 * @example
 * const rec = await openRecorder('./store', { sampling: { rate: 0.1 } });
 * rec.offer(exchange);
 * await rec.close();
 */
export async function openRecorder(store: string, options: RecorderOptions & { writer?: AnyStoreWriterOptions } = {}): Promise<ExchangeRecorder> {
  const writer = await openAnyStoreWriter(store, options.writer);
  return new ExchangeRecorder(writer, options);
}
