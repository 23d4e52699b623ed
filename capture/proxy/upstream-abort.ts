/**
 * A one-shot abort handle for one upstream request, in the EventEmitter shape
 * undici accepts as a `signal` (`on`/`once`/`removeListener`, `aborted`,
 * `reason`; see undici's `addSignal`).
 *
 * Why not an AbortController: the proxy needs one per request, and Node's
 * AbortSignal is an EventTarget that V8 keeps alive through weak references
 * until a full GC. Under load the profile showed ~2.5 % of proxy CPU creating
 * them and the young generation doubling in size, which made every scavenge
 * (a stop-the-world pause on the request path) several milliseconds long.
 * undici registers exactly one listener per request; more are kept in order.
 */
export class UpstreamAbort {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Array<(...args: unknown[]) => void> = [];

  on(_event: 'abort', listener: (...args: unknown[]) => void): this {
    this.listeners.push(listener);
    return this;
  }

  once(event: 'abort', listener: (...args: unknown[]) => void): this {
    return this.on(event, listener);
  }

  removeListener(_event: 'abort', listener: (...args: unknown[]) => void): this {
    const i = this.listeners.indexOf(listener);
    if (i !== -1) this.listeners.splice(i, 1);
    return this;
  }

  /** Abort once: later calls are ignored. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = [];
    for (const l of listeners) l();
  }
}
