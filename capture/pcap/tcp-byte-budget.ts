/**
 * One memory budget for everything the stream layers hold between segments:
 * out-of-order TCP data, unfinished HTTP heads, held and probed bytes, and
 * stored body prefixes. Every holder takes bytes before keeping them and gives
 * them back when it lets go, so `used` is the live total and the promise
 * "never more than `limit` bytes of payload in memory" can be checked.
 */
export class ByteBudget {
  used = 0;
  peak = 0;

  constructor(readonly limit: number) {}

  /** Take `n` bytes if they fit; false (and nothing taken) when they do not. */
  tryTake(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.take(n);
    return true;
  }

  /** Take `n` bytes unconditionally; the caller checks `over` and sheds load. */
  take(n: number): void {
    this.used += n;
    if (this.used > this.peak) this.peak = this.used;
  }

  release(n: number): void {
    this.used = Math.max(0, this.used - n);
  }

  get over(): boolean {
    return this.used > this.limit;
  }
}
