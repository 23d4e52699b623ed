/**
 * One TCP connection seen as HTTP/1: a request parser on the client's stream,
 * a response parser on the server's, and the FIFO that pairs them.
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
import type { Exchange, ExchangeError, SourceKind } from '../../store/exchange.js';
import { buildExchange, type InterimResponse } from './http-exchange-builder.js';
import { mayLeaveHttp, type RequestHead, type ResponseHead } from './http-head.js';
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

interface Entry {
  /** -1 for a placeholder (a request lost to a gap). */
  seq: number;
  request: ParsedMessage | null;
  requestDone: boolean;
  response: ParsedMessage | null;
  responseDone: boolean;
  interim: InterimResponse[];
  error?: ExchangeError;
  incomplete: string[];
  notes: string[];
}

/** Clients rarely pipeline more than a few requests; a longer queue means the capture sees only one direction. */
const MAX_QUEUE = 256;

export class HttpConnection implements TcpStreamHandler {
  private req: HttpStreamParser | null = null;
  private res: HttpStreamParser | null = null;
  private readonly queue: Entry[] = [];
  private orphan: ParsedMessage | null = null;
  private nextSeq = 0;
  /** The HTTP client is the reassembler's server. */
  private swapped = false;
  private probe: RoleProbe | null = null;
  private notHttp = false;
  private sawBytes = false;
  private label = '';
  private clientText = '';
  private serverText = '';

  constructor(
    private readonly info: TcpConnectionInfo,
    private readonly ctx: ConnectionContext,
  ) {
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
    for (const e of this.queue) {
      if (!e.requestDone) {
        e.requestDone = true;
        e.incomplete.push(`connection closed (${reason}) during the request`);
      }
      if (!e.responseDone) {
        e.responseDone = true;
        if (e.response) e.incomplete.push(`connection closed (${reason}) during the response`);
        else e.error = reason === 'reset'
          ? { kind: 'reset', message: 'connection reset before a response was seen' }
          : { kind: 'no-response', message: `no response seen before the connection ended (${reason})` };
      }
    }
    this.flushReady();
    if (this.orphan) {
      this.orphan.body.release();
      this.orphan = null;
    }
    const messages = (this.req?.messages ?? 0) + (this.res?.messages ?? 0);
    if (!this.notHttp && this.sawBytes && messages === 0) countDrop(this.ctx.drops, 'not-http');
  }

  private decide(swapped: boolean): void {
    this.swapped = swapped;
    const client = swapped ? this.info.server : this.info.client;
    const server = swapped ? this.info.client : this.info.server;
    this.clientText = endpointText(client);
    this.serverText = endpointText(server);
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
      head: (msg) => {
        this.queue.push({ seq: this.nextSeq++, request: msg, requestDone: false, response: null, responseDone: false, interim: [], incomplete: [], notes: [] });
        const first = this.queue[0]!;
        if (this.queue.length > MAX_QUEUE && !first.response && !first.responseDone) {
          first.responseDone = true;
          first.error = { kind: 'no-response', message: `more than ${MAX_QUEUE} requests waiting for responses` };
          this.flushReady();
        }
      },
      message: (msg) => {
        if (msg.parseError) countDrop(this.ctx.drops, 'http-parse-error');
        const e = this.queue.find((x) => x.request === msg);
        if (e) e.requestDone = true;
        this.flushReady();
      },
      interim: () => {},
      lost: (reason) => this.pushPlaceholder(reason),
      notHttp: () => this.markNotHttp(),
      error: (reason) => {
        countDrop(this.ctx.drops, 'http-parse-error');
        this.pushPlaceholder(reason);
      },
    };
  }

  private responseEvents(): HttpParserEvents {
    return {
      requestMethod: () => {
        const t = this.target(true);
        return t?.request ? (t.request.head as RequestHead).method : undefined;
      },
      head: (msg) => {
        const t = this.target(false);
        if (t) t.response = msg;
        else this.orphan = msg;
      },
      message: (msg) => this.responseDone(msg),
      interim: (head: ResponseHead) => {
        this.target(true)?.interim.push({ status: head.status, statusText: head.statusText, headers: head.headers });
      },
      lost: (reason) => {
        const t = this.target(false);
        if (!t) return;
        t.responseDone = true;
        t.incomplete.push(`response lost: ${reason}`);
        t.error = { kind: 'no-response', message: 'the response was lost in a capture gap' };
        this.flushReady();
      },
      notHttp: (reason) => {
        if (this.queue.length === 0 && (this.req?.messages ?? 0) === 0) return this.markNotHttp();
        countDrop(this.ctx.drops, 'http-parse-error');
        this.failTarget(`response is not HTTP/1: ${reason}`);
      },
      error: (reason) => {
        countDrop(this.ctx.drops, 'http-parse-error');
        this.failTarget(`bad response: ${reason}`);
      },
    };
  }

  /** The entry the response parser is answering; with `flush`, give up client holes first when there is none. */
  private target(flush: boolean): Entry | undefined {
    let t = this.queue.find((e) => !e.responseDone);
    if (!t && flush) {
      this.ctx.flush(this.info, !this.swapped);
      t = this.queue.find((e) => !e.responseDone);
    }
    return t;
  }

  private responseDone(msg: ParsedMessage): void {
    if (msg.parseError) countDrop(this.ctx.drops, 'http-parse-error');
    if (this.orphan === msg) {
      this.orphan = null;
      this.ctx.counters.orphanResponses++;
      msg.body.release();
      return;
    }
    const e = this.queue.find((x) => x.response === msg);
    if (!e) return msg.body.release();
    e.responseDone = true;
    if (msg.framing === 'tunnel') this.req?.release(true);
    else if (e.request && mayLeaveHttp(e.request.head as RequestHead)) this.req?.release(false);
    this.flushReady();
  }

  private failTarget(message: string): void {
    const t = this.target(false);
    if (t && !t.response) {
      t.responseDone = true;
      t.error = { kind: 'protocol', message };
      this.flushReady();
    }
  }

  private pushPlaceholder(reason: string): void {
    this.queue.push({ seq: -1, request: null, requestDone: true, response: null, responseDone: false, interim: [], incomplete: [reason], notes: [] });
  }

  private markNotHttp(): void {
    if (this.notHttp) return;
    this.notHttp = true;
    countDrop(this.ctx.drops, 'not-http');
    this.req?.kill();
    this.res?.kill();
  }

  /** Emit finished entries from the front of the queue, in request order. */
  private flushReady(): void {
    while (this.queue.length > 0) {
      const e = this.queue[0]!;
      if (!e.requestDone || !e.responseDone) return;
      this.queue.shift();
      if (!e.request) {
        if (e.response) {
          this.ctx.counters.orphanResponses++;
          e.response.body.release();
        }
        continue;
      }
      const ex = buildExchange(
        { seq: e.seq, request: e.request, response: e.response, interim: e.interim, error: e.error, incomplete: e.incomplete, notes: e.notes },
        { captureId: this.ctx.captureId, sourceKind: this.ctx.sourceKind, connection: this.label, client: this.clientText, server: this.serverText, bodyCap: this.ctx.bodyCap, drops: this.ctx.drops },
      );
      const c = this.ctx.counters;
      c.exchanges++;
      if (ex.incomplete !== undefined) c.incomplete++;
      if (ex.response === null) c.noResponse++;
      this.ctx.emit(ex);
    }
  }
}
