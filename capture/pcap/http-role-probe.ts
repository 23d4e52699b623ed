import { StartLineScanner } from './http-start-scanner.js';
import type { ByteBudget } from './tcp-byte-budget.js';

/**
 * Decides which side of a connection is the HTTP client when neither a SYN
 * nor a server port said so: the side that sends a request line is the
 * client, the side that sends a status line is the server. Until then every
 * byte (and gap) is kept, in arrival order, to be replayed into the parsers.
 * Bounded: after `limit` bytes on one side the reassembler's guess (the higher
 * port is the client) stands.
 */

export interface ProbedEvent {
  /** Relative to the reassembler's client. */
  fromClient: boolean;
  bytes: Buffer | null;
  gap: number;
  ts: number;
}

/** 64 KiB holds the start of any message that fits our own head limit. */
const DEFAULT_LIMIT = 64 * 1024;

export class RoleProbe {
  /** undefined until decided; true when the reassembler's client is the HTTP client. */
  verdict: boolean | undefined;
  private events: ProbedEvent[] = [];
  private readonly held = [0, 0];
  private readonly scanners: [StartLineScanner, StartLineScanner];

  constructor(
    private readonly budget: ByteBudget,
    private readonly limit = DEFAULT_LIMIT,
  ) {
    this.scanners = [new StartLineScanner(['request', 'response'], budget), new StartLineScanner(['request', 'response'], budget)];
  }

  data(fromClient: boolean, bytes: Buffer, ts: number): void {
    const side = fromClient ? 0 : 1;
    if (this.held[side]! + bytes.length > this.limit || !this.budget.tryTake(bytes.length)) {
      this.verdict = true;
      return void this.events.push({ fromClient, bytes: Buffer.from(bytes), gap: 0, ts }); // replayed at once, not held for long
    }
    this.held[side]! += bytes.length;
    this.events.push({ fromClient, bytes: Buffer.from(bytes), gap: 0, ts });
    const match = this.scanners[side].scan(bytes, 0, ts);
    if (match) this.verdict = match.kind === 'request' ? fromClient : !fromClient;
  }

  gap(fromClient: boolean, n: number, ts: number): void {
    this.events.push({ fromClient, bytes: null, gap: n, ts });
    this.scanners[fromClient ? 0 : 1].reset();
  }

  /** Hand over what was kept (and give its memory back). */
  take(): ProbedEvent[] {
    const events = this.events;
    this.events = [];
    this.budget.release(this.held[0]! + this.held[1]!);
    this.held[0] = 0;
    this.held[1] = 0;
    for (const s of this.scanners) s.reset();
    return events;
  }
}
