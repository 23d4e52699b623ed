import type { ExchangeError } from '../../store/exchange.js';
import type { InterimResponse, PairedMessages } from './http-exchange-builder.js';
import type { ResponseHead } from './http-head.js';
import type { ParsedMessage } from './http-parser.js';
import type { StreamEndReason } from './tcp-reassembler.js';

/**
 * The FIFO that pairs one connection's requests with its responses. A request
 * joins when its head is parsed; responses answer entries in order; an entry
 * leaves — through `emit`, in request order — once its request and its
 * response have both ended (or it is known that no response will come).
 * Placeholders stand for requests lost in a capture gap: the response that
 * answers one is dropped instead of being paired with the next request.
 *
 * A capture that drops packets often loses a request and its response
 * together, and the two gaps are not found in order: the server's gap can be
 * reported first (the client ACKs past it), or the response can arrive as an
 * orphan before the client's gap shows (only the client's next bytes reveal
 * it). Responses seen or lost while nothing waited are therefore remembered
 * until the next request is seen: a request found lost in that time is the
 * one they answered, and gets no placeholder — which would otherwise take
 * the response of the request after it and shift every later pairing.
 */

interface Entry {
  seq: number;
  /** null: a placeholder for a request lost in a gap. */
  request: ParsedMessage | null;
  requestDone: boolean;
  response: ParsedMessage | null;
  responseDone: boolean;
  interim: InterimResponse[];
  error?: ExchangeError;
  incomplete: string[];
}

/** Clients rarely pipeline more than a few requests; a longer queue means the capture sees only one direction. */
const MAX_WAITING = 256;

export class ExchangeQueue {
  private readonly entries: Entry[] = [];
  private nextSeq = 0;
  /** Responses seen or lost while nothing waited, since the last request: answers to requests not seen (yet). */
  private unclaimedResponses = 0;

  constructor(
    private readonly emit: (paired: PairedMessages) => void,
    /** A response that answered a placeholder was dropped. */
    private readonly dropped: (response: ParsedMessage) => void,
  ) {}

  get length(): number {
    return this.entries.length;
  }

  addRequest(msg: ParsedMessage): void {
    this.unclaimedResponses = 0;
    this.entries.push({ seq: this.nextSeq++, request: msg, requestDone: false, response: null, responseDone: false, interim: [], incomplete: [] });
    const first = this.entries[0]!;
    if (this.entries.length > MAX_WAITING && !first.response && !first.responseDone) {
      first.responseDone = true;
      first.error = { kind: 'no-response', message: `more than ${MAX_WAITING} requests waiting for responses` };
      this.flush();
    }
  }

  /** A request head was lost in a capture gap. */
  requestLost(): void {
    if (this.unclaimedResponses > 0) {
      // Its response already came, or was lost too (see the top of this file).
      this.unclaimedResponses--;
      return;
    }
    this.addPlaceholder();
  }

  /** A request that will have a response but is not recorded (lost, or its head did not parse). */
  addPlaceholder(): void {
    this.entries.push({ seq: -1, request: null, requestDone: true, response: null, responseDone: false, interim: [], incomplete: [] });
  }

  requestEnded(msg: ParsedMessage): void {
    const e = this.entries.find((x) => x.request === msg);
    if (e) e.requestDone = true;
    this.flush();
  }

  /** Whether the next response answers a request (false: nothing waiting); its method when known. */
  waiting(): { method: string | undefined } | undefined {
    const t = this.target();
    if (!t) return undefined;
    return { method: t.request?.head.kind === 'request' ? t.request.head.method : undefined };
  }

  /** Bind a response head to the entry it answers; false when there is none (an orphan). */
  responseStarted(msg: ParsedMessage): boolean {
    const t = this.target();
    if (t) t.response = msg;
    else this.unclaimedResponses++;
    return t !== undefined;
  }

  addInterim(head: ResponseHead): void {
    this.target()?.interim.push({ status: head.status, statusText: head.statusText, headers: head.headers });
  }

  /** The response ended; returns the request it answered (null for a placeholder), or undefined if unknown. */
  responseEnded(msg: ParsedMessage): ParsedMessage | null | undefined {
    const e = this.entries.find((x) => x.response === msg);
    if (!e) return undefined;
    e.responseDone = true;
    this.flush();
    return e.request;
  }

  /** A response head was lost in a capture gap: the next waiting request gets none (or one not seen yet had one). */
  responseLost(incomplete: string, error: ExchangeError): void {
    if (!this.target()) this.unclaimedResponses++;
    else this.responseFailed(incomplete, error);
  }

  /** The response to the next waiting request was lost in a gap, or was not HTTP. */
  responseFailed(incomplete: string | null, error: ExchangeError): void {
    const t = this.target();
    if (!t || t.response) return;
    t.responseDone = true;
    if (incomplete) t.incomplete.push(incomplete);
    t.error = error;
    this.flush();
  }

  /** The connection is gone: whatever is still waiting ends now. */
  close(reason: StreamEndReason): void {
    for (const e of this.entries) {
      if (!e.requestDone) {
        e.requestDone = true;
        e.incomplete.push(`connection closed (${reason}) during the request`);
      }
      if (e.responseDone) continue;
      e.responseDone = true;
      if (e.response) e.incomplete.push(`connection closed (${reason}) during the response`);
      else e.error = reason === 'reset'
        ? { kind: 'reset', message: 'connection reset before a response was seen' }
        : { kind: 'no-response', message: `no response seen before the connection ended (${reason})` };
    }
    this.flush();
  }

  private target(): Entry | undefined {
    return this.entries.find((e) => !e.responseDone);
  }

  /** Emit finished entries from the front, in request order. */
  private flush(): void {
    while (this.entries.length > 0) {
      const e = this.entries[0]!;
      if (!e.requestDone || !e.responseDone) return;
      this.entries.shift();
      if (!e.request) {
        if (e.response) this.dropped(e.response);
        continue;
      }
      this.emit({ seq: e.seq, request: e.request, response: e.response, interim: e.interim, error: e.error, incomplete: e.incomplete });
    }
  }
}
