// Why this file exists: the forwarder delivers at least once (SQS redelivers a message whose
// POST timed out or failed), so the ingest endpoint must recognize a payload it already stored.
// Remembering every key forever would grow without bound; this remembers them for a window.

export interface DedupeOptions {
  /** How long a key is remembered, ms (at least this long, at most one slot longer). */
  windowMs: number;
  /** Keys held at most; past it the oldest slot is forgotten early, and counted. */
  maxEntries?: number;
  now?: () => number;
}

/** What is known about a key: resolves true once its record is durable, false if that write failed. */
export type DurableState = Promise<boolean>;

// The window is cut into this many time slots: expiry drops a whole slot (one Map) at a time,
// so there is no per-key timer and no scan; a key lives between windowMs and windowMs + one slot.
const SLOTS = 8;

/**
 * A time-bucketed set of dedupe keys with a memory cap. Each key maps to the durability of its
 * first write, so a redelivery that races the original can wait for it instead of storing twice.
 *
 * @example
 * const seen = new DedupeWindow({ windowMs: 15 * 60_000 });
 * if (!seen.get(key)) seen.set(key, durable);
 */
export class DedupeWindow {
  private readonly slotMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private slots: { start: number; keys: Map<string, DurableState> }[] = [];
  private count = 0;
  /** Keys forgotten before their window ended because the cap was reached. */
  evictedEarly = 0;

  constructor(options: DedupeOptions) {
    this.slotMs = Math.max(1, Math.ceil(options.windowMs / SLOTS));
    this.maxEntries = options.maxEntries ?? 1_000_000;
    this.now = options.now ?? Date.now;
  }

  /** Keys remembered now. */
  get size(): number {
    return this.count;
  }

  get(key: string): DurableState | undefined {
    this.expire();
    for (let i = this.slots.length - 1; i >= 0; i--) {
      const state = this.slots[i]!.keys.get(key);
      if (state) return state;
    }
    return undefined;
  }

  set(key: string, state: DurableState): void {
    this.expire();
    const now = this.now();
    let slot = this.slots[this.slots.length - 1];
    // A full slot is closed early too, so the cap can drop keys a slot (1/8 of the cap) at a time.
    if (!slot || now - slot.start >= this.slotMs || slot.keys.size >= Math.ceil(this.maxEntries / SLOTS)) {
      slot = { start: now, keys: new Map() };
      this.slots.push(slot);
    }
    if (!slot.keys.has(key)) this.count++;
    slot.keys.set(key, state);
    while (this.count > this.maxEntries && this.slots.length > 1) {
      const dropped = this.slots.shift()!;
      this.count -= dropped.keys.size;
      this.evictedEarly += dropped.keys.size;
    }
  }

  /** Forget a key whose write failed, so a redelivery is stored. */
  delete(key: string): void {
    for (const slot of this.slots) if (slot.keys.delete(key)) this.count--;
  }

  private expire(): void {
    const horizon = this.now() - SLOTS * this.slotMs;
    while (this.slots.length > 0 && this.slots[0]!.start + this.slotMs <= horizon) this.count -= this.slots.shift()!.keys.size;
  }
}
