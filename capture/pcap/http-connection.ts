/**
 * One TCP connection seen as HTTP/1: a request parser on the client's stream,
 * a response parser on the server's, and the FIFO that pairs them
 * (http-exchange-queue.ts). Roles come from the reassembler, or from content
 * (http-role-probe.ts) when it could only guess.
 *
 * Pairing. A request joins the queue as soon as its head is parsed (the
 * response's framing depends on its method, and a server may answer before
 * the request body ends). Responses answer queue entries in order; an entry
 * leaves the queue — as an Exchange, in request order — once both its request
 * and its response are finished. When the response parser needs a request
 * and the queue is empty, the client stream's holes are given up first (the
 * request may be stuck behind one); a response with still nothing to answer
 * is an orphan, parsed for framing and dropped (counted).
 *
 * Gaps. A request head lost in a gap leaves a placeholder in the queue, so
 * the response to it is dropped instead of being paired with the next
 * request; a response head lost in a gap completes the entry it answered with
 * no response. Pairing after a gap is therefore right whenever at most one
 * message was lost per gap — always so for clients that do not pipeline.
 */
import type { Exchange, SourceKind } from '../../store/exchange.js';
import { buildExchange, type PairedMessages } from './http-exchange-builder.js';
import { ExchangeQueue } from './http-exchange-queue.js';
import { mayLeaveHttp } from './http-head.js';
import { HttpStreamParser, type HttpParserEvents, type ParsedMessage } from './http-parser.js';
import { RoleProbe } from './http-role-probe.js';
import type { ByteBudget } from './tcp-byte-budget.js';
import { endpointText, type StreamEndReason, type TcpConnectionInfo, type TcpStreamHandler } from './tcp-reassembler.js';
import { countDrop, type DropCounts } from './tcp-segment.js';

export interface HttpCounters {
  exchanges: number;
  incomplete: number;
  noResponse: number;
  orphanResponses: number;
}

export interface ConnectionContext {
  captureId: string;
  sourceKind: SourceKind;
  bodyCap: number;
  maxHeadBytes: number;
  budget: ByteBudget;
  drops: DropCounts;
  counters: HttpCounters;
  emit: (ex: Exchange) => void;
  /** Give up the holes of one side of the connection now (see TcpReassembler.flush). */
  flush: (info: TcpConnectionInfo, fromClient: boolean) => void;
}

export class HttpConnection implements TcpStreamHandler {
  private req: HttpStreamParser | null = null;
  private res: HttpStreamParser | null = null;
  private readonly queue: ExchangeQueue;
  /** A response being parsed that answers no request. */
  private orphan: ParsedMessage | null = null;
  /** The HTTP client is the reassembler's server. */
  private swapped = false;
  private probe: RoleProbe | null = null;
  private notHttp = false;
  /** The client's first bytes were not an HTTP request; the server's side decides what to count. */
  private requestNotHttp = false;
  private sawBytes = false;
  private label = '';
  private clientText = '';
  private serverText = '';

  constructor(
    private readonly info: TcpConnectionInfo,
    private readonly ctx: ConnectionContext,
  ) {
    this.queue = new ExchangeQueue((p) => this.emit(p), (response) => this.drop(response));
    if (info.roleSource === 'guess') this.probe = new RoleProbe(ctx.budget);
    else this.decide(false);
  }

  data(fromClient: boolean, bytes: Buffer, ts: number): void {
    this.sawBytes = true;
    if (this.probe) {
      this.probe.data(fromClient, bytes, ts);
      if (this.probe.verdict !== undefined) this.endProbe();
      return;
    }
    this.parser(fromClient).write(bytes, ts);
  }

  gap(fromClient: boolean, n: number, ts: number): void {
    if (this.probe) return this.probe.gap(fromClient, n, ts);
    this.parser(fromClient).gap(n, ts);
  }

  end(fromClient: boolean, reason: StreamEndReason, ts: number): void {
    if (this.probe) this.endProbe();
    this.parser(fromClient).end(reason, ts);
  }

  close(reason: StreamEndReason): void {
    if (this.probe) this.endProbe();
    this.queue.close(reason);
    if (this.orphan) {
      this.orphan.body.release();
      this.orphan = null;
    }
    if (this.notHttp) return;
    const responses = this.res?.messages ?? 0;
    if (this.requestNotHttp) countDrop(this.ctx.drops, responses > 0 ? 'http-parse-error' : 'not-http');
    else if (this.sawBytes && responses + (this.req?.messages ?? 0) === 0) countDrop(this.ctx.drops, 'not-http');
  }

  private decide(swapped: boolean): void {
    this.swapped = swapped;
    this.clientText = endpointText(swapped ? this.info.server : this.info.client);
    this.serverText = endpointText(swapped ? this.info.client : this.info.server);
    this.label = `${this.clientText}-${this.serverText}#${this.info.index}`;
  }

  private endProbe(): void {
    const probe = this.probe!;
    this.probe = null;
    this.decide(probe.verdict === false);
    for (const e of probe.take()) {
      if (e.bytes) this.parser(e.fromClient).write(e.bytes, e.ts);
      else this.parser(e.fromClient).gap(e.gap, e.ts);
    }
  }

  /** The parser for bytes sent by the reassembler's client (`fromClient`) or server; created on first use. */
  private parser(fromClient: boolean): HttpStreamParser {
    const isClient = fromClient !== this.swapped;
    if (isClient) return (this.req ??= this.makeParser('request', fromClient));
    return (this.res ??= this.makeParser('response', fromClient));
  }

  private makeParser(kind: 'request' | 'response', fromClient: boolean): HttpStreamParser {
    const synSeen = fromClient ? this.info.clientSyn : this.info.serverSyn;
    const opts = { kind, atMessageStart: synSeen, bodyCap: this.ctx.bodyCap, budget: this.ctx.budget, maxHeadBytes: this.ctx.maxHeadBytes };
    const parser = new HttpStreamParser(opts, kind === 'request' ? this.requestEvents() : this.responseEvents());
    if (this.notHttp) parser.kill();
    return parser;
  }

  private requestEvents(): HttpParserEvents {
    return {
      requestMethod: () => undefined,
      head: (msg) => this.queue.addRequest(msg),
      message: (msg) => {
        if (msg.parseError) countDrop(this.ctx.drops, 'http-parse-error');
        this.queue.requestEnded(msg);
      },
      interim: () => {},
      lost: () => this.queue.requestLost(),
      // A malformed first request (the server may still answer it with a 400): counted at close.
      notHttp: () => void (this.requestNotHttp = true),
      error: () => {
        countDrop(this.ctx.drops, 'http-parse-error');
        this.queue.addPlaceholder();
      },
    };
  }

  private responseEvents(): HttpParserEvents {
    return {
      requestMethod: () => this.waiting()?.method,
      head: (msg) => {
        if (!this.queue.responseStarted(msg)) this.orphan = msg;
      },
      message: (msg) => this.responseEnded(msg),
      interim: (head) => {
        if (this.waiting()) this.queue.addInterim(head);
      },
      lost: (reason) => this.queue.responseLost(`response lost: ${reason}`, { kind: 'no-response', message: 'the response was lost in a capture gap' }),
      notHttp: (reason) => {
        if (this.queue.length === 0 && (this.req?.messages ?? 0) === 0) {
          this.requestNotHttp = false;
          return this.markNotHttp();
        }
        countDrop(this.ctx.drops, 'http-parse-error');
        this.queue.responseFailed(null, { kind: 'protocol', message: `response is not HTTP/1: ${reason}` });
      },
      error: (reason) => {
        countDrop(this.ctx.drops, 'http-parse-error');
        this.queue.responseFailed(null, { kind: 'protocol', message: `bad response: ${reason}` });
      },
    };
  }

  /**
   * What the next response answers. When nothing waits, the client stream's
   * holes are given up first: the request may be stuck behind one.
   */
  private waiting(): { method: string | undefined } | undefined {
    const w = this.queue.waiting();
    if (w) return w;
    this.ctx.flush(this.info, !this.swapped);
    return this.queue.waiting();
  }

  private responseEnded(msg: ParsedMessage): void {
    if (msg.parseError) countDrop(this.ctx.drops, 'http-parse-error');
    if (this.orphan === msg) {
      this.orphan = null;
      return this.drop(msg);
    }
    const request = this.queue.responseEnded(msg);
    if (request === undefined) return msg.body.release();
    if (msg.framing === 'tunnel') this.req?.release(true);
    else if (request?.head.kind === 'request' && mayLeaveHttp(request.head)) this.req?.release(false);
  }

  private markNotHttp(): void {
    if (this.notHttp) return;
    this.notHttp = true;
    countDrop(this.ctx.drops, 'not-http');
    this.req?.kill();
    this.res?.kill();
  }

  /** A response with no request to pair with: parsed for its framing, then dropped (counted). */
  private drop(response: ParsedMessage): void {
    this.ctx.counters.orphanResponses++;
    response.body.release();
  }

  private emit(p: PairedMessages): void {
    const ex = buildExchange(p, {
      captureId: this.ctx.captureId, sourceKind: this.ctx.sourceKind, connection: this.label,
      client: this.clientText, server: this.serverText, bodyCap: this.ctx.bodyCap, drops: this.ctx.drops,
    });
    const c = this.ctx.counters;
    c.exchanges++;
    if (ex.incomplete !== undefined) c.incomplete++;
    if (ex.response === null) c.noResponse++;
    this.ctx.emit(ex);
  }
}
