import type { Dispatcher } from 'undici';
import type { Header } from '../../store/exchange.js';

/**
 * The undici handler of one send: counts response bytes and, when someone
 * needs them (--record-out, correlation), keeps the status, headers and the
 * first `bodyCap` body bytes.
 *
 * undici's callback ("legacy") handler API, on purpose: it is what undici's
 * core calls, so there is no adapter per request and response headers stay
 * raw buffers (the controller API wraps every handler and parses every
 * response's headers into an object first). A class, not a literal of
 * closures, so a send allocates one object rather than six functions.
 */
export class SendHandler implements Dispatcher.DispatchHandler {
  status: number | null = null;
  statusText = '';
  headers: Header[] = [];
  /** Approximate response bytes: status line, headers, body. */
  received = 0;
  bodyBytes = 0;
  /** undici put the request on a connection (a refused, DNS or TLS failure never gets that far: nothing was sent). */
  connected = false;
  private chunks: Buffer[] = [];
  private kept = 0;

  constructor(
    private readonly keep: boolean,
    private readonly bodyCap: number,
    private readonly done: (h: SendHandler, err?: unknown) => void,
  ) {}

  private abort: ((err: Error) => void) | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private expiredAfterMs = 0;

  /**
   * Fail the send when no response head arrived within `ms` of now. undici's
   * own headers timeout rides on its coarse timer (a 500 ms tick: a 200 ms
   * timeout fired after up to a second), so a short `--timeout` is kept here
   * with a native timer; it ends at the response head, where undici's body
   * timeout takes over.
   */
  expireAfter(ms: number): void {
    this.deadline = setTimeout(() => {
      this.expiredAfterMs = ms;
      // Not on a connection yet (queued in the pool): aborted as soon as undici hands it one.
      this.abort?.(headTimeoutError(ms));
    }, ms);
  }

  onConnect(abort: (err?: Error) => void): void {
    // Expired while queued: aborted before a byte is written, so nothing counts as sent.
    if (this.expiredAfterMs > 0) return abort(headTimeoutError(this.expiredAfterMs));
    this.connected = true;
    this.abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], _resume: () => void, message: string): boolean {
    if (statusCode < 200) return true; // 1xx: the final response is still to come
    clearTimeout(this.deadline);
    this.status = statusCode;
    this.statusText = message ?? '';
    this.received += 15 + this.statusText.length;
    // Header pairs as strings only when someone reads them; the byte count comes from the raw buffers.
    if (this.keep) {
      this.headers = rawHeaderPairs(rawHeaders);
      for (const [n, v] of this.headers) this.received += n.length + v.length + 4;
    } else {
      for (const b of rawHeaders) this.received += b.length + 2;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.received += chunk.length;
    this.bodyBytes += chunk.length;
    if (this.keep && this.kept < this.bodyCap) {
      const part = chunk.length + this.kept > this.bodyCap ? chunk.subarray(0, this.bodyCap - this.kept) : chunk;
      this.chunks.push(part);
      this.kept += part.length;
    }
    return true;
  }

  onComplete(): void {
    clearTimeout(this.deadline);
    this.done(this);
  }

  onError(err: Error): void {
    clearTimeout(this.deadline);
    this.done(this, err);
  }

  /** The kept body bytes (empty unless `keep`). */
  body(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
  }

  get keeping(): boolean {
    return this.keep;
  }
}

function headTimeoutError(ms: number): Error {
  return Object.assign(new Error(`no response head within ${ms} ms (--timeout)`), { code: 'REPRISE_TIMEOUT' });
}

/** Response headers in wire order and case. */
function rawHeaderPairs(raw: readonly (Buffer | string)[] | null): Header[] {
  const out: Header[] = [];
  if (!raw) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!.toString('latin1'), raw[i + 1]!.toString('latin1')]);
  return out;
}
