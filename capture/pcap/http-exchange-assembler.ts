import { RepriseError } from '../../errors.js';
import type { Exchange, SourceKind } from '../../store/exchange.js';
import { HttpConnection, type HttpCounters } from './http-connection.js';
import { ByteBudget } from './tcp-byte-budget.js';
import { DEFAULT_SERVER_PORTS, TcpReassembler, type TcpReassemblerStats } from './tcp-reassembler.js';
import type { DropCounts, TcpSegment } from './tcp-segment.js';

/**
 * TcpSegments in, Exchange records out: TCP reassembly (tcp-reassembler.ts)
 * feeding one HttpConnection per connection (http-connection.ts), which
 * parses both directions (http-parser.ts) and pairs requests with responses.
 *
 * Output order: exchanges of one connection come out in request order, each
 * as soon as its response has ended. Exchanges of different connections are
 * NOT in start-time order (a slow download is emitted after many quick
 * requests that started later); wrap `onExchange` with `orderByStart()`
 * (http-exchange-order.ts) when the consumer needs time order.
 *
 * Memory: everything held between segments — out-of-order TCP data, stored
 * body prefixes, unfinished heads — is charged to one budget
 * (`maxBufferedBytes`); live connections are capped by `maxConnections`.
 * Crossing a bound is counted in `stats.drops`, never silent.
 *
 * Stream-level drops count events, not packets: 'not-http' one per
 * connection, 'http-parse-error' one per bad message, 'stream-memory' one per
 * forced hole or body cut short by the budget, 'connection-limit' one per
 * segment refused.
 */

export interface HttpExchangeAssemblerOptions {
  /** Goes into every Exchange's `source.captureId`. */
  captureId: string;
  /** `source.kind`; default 'pcap'. */
  sourceKind?: SourceKind;
  /** Ports that mark the server when no SYN was seen. Default: 80, 8000, 8008, 8080, 8081, 8888, 3000, 5000, 9000. */
  serverPorts?: readonly number[];
  /** Bytes of each body kept (decoded). Default 1 MiB — API payloads fit, media files do not need to; the true size is always recorded. */
  bodyCap?: number;
  /** Capture-time idle expiry of a connection, µs. Default 120 s, above common keep-alive timeouts (60–75 s). */
  idleTimeoutUs?: number;
  /** Live connections tracked at once. Default 50,000: a busy front end, at a few KiB of state each. */
  maxConnections?: number;
  /** Bytes held across all connections (buffers and stored bodies). Default 256 MiB: ~250 bodies at the cap in flight at once. */
  maxBufferedBytes?: number;
  /** Out-of-order bytes one connection may buffer. Default 4 MiB. */
  maxConnectionBufferBytes?: number;
  /** Largest head block / trailer section. Default 64 KiB. */
  maxHeadBytes?: number;
}

export interface HttpExchangeAssemblerStats extends HttpCounters {
  connections: number;
  liveConnections: number;
  drops: DropCounts;
  tcp: TcpReassemblerStats;
  bufferedBytes: number;
  peakBufferedBytes: number;
}

const MIB = 1024 * 1024;

export class HttpExchangeAssembler {
  private readonly tcp: TcpReassembler;
  private readonly budget: ByteBudget;
  private readonly drops: DropCounts = {};
  private readonly counters: HttpCounters = { exchanges: 0, incomplete: 0, noResponse: 0, orphanResponses: 0 };

  /**
   * @example
   * const exchanges: Exchange[] = [];
   * const asm = new HttpExchangeAssembler({ captureId: 'cap-1' }, (ex) => exchanges.push(ex));
   * for (const seg of segments) asm.push(seg);
   * asm.end();
   */
  constructor(options: HttpExchangeAssemblerOptions, onExchange: (ex: Exchange) => void) {
    const o = Object.freeze(validateOptions(options));
    this.budget = new ByteBudget(o.maxBufferedBytes ?? 256 * MIB);
    const ctx = {
      captureId: o.captureId,
      sourceKind: o.sourceKind ?? 'pcap',
      bodyCap: o.bodyCap ?? MIB,
      maxHeadBytes: o.maxHeadBytes ?? 64 * 1024,
      budget: this.budget,
      drops: this.drops,
      counters: this.counters,
      emit: onExchange,
      flush: (info: Parameters<TcpReassembler['flush']>[0], fromClient: boolean) => this.tcp.flush(info, fromClient),
    };
    this.tcp = new TcpReassembler({
      onConnection: (info) => new HttpConnection(info, ctx),
      drops: this.drops,
      budget: this.budget,
      serverPorts: o.serverPorts ?? DEFAULT_SERVER_PORTS,
      idleTimeoutUs: o.idleTimeoutUs,
      maxConnections: o.maxConnections,
      maxConnectionBufferBytes: o.maxConnectionBufferBytes,
    });
  }

  /** Feed one segment, in capture order. Exchanges that finish are passed to `onExchange` before it returns. */
  push(seg: TcpSegment): void {
    this.tcp.push(seg);
  }

  /** End of capture: every connection is closed; requests still waiting get `response: null, error: no-response`. */
  end(): void {
    this.tcp.end();
  }

  get stats(): HttpExchangeAssemblerStats {
    return {
      ...this.counters,
      connections: this.tcp.stats.connections,
      liveConnections: this.tcp.liveConnections,
      drops: { ...this.drops },
      tcp: { ...this.tcp.stats },
      bufferedBytes: this.budget.used,
      peakBufferedBytes: this.budget.peak,
    };
  }
}

/**
 * Check options once, at the boundary, reporting every problem at once.
 *
 * @example
 * validateOptions({ captureId: 'c', bodyCap: -1 }) // throws CAPTURE_OPTIONS_INVALID: bodyCap: must be an integer ≥ 0
 */
export function validateOptions(options: HttpExchangeAssemblerOptions): HttpExchangeAssemblerOptions {
  const problems: string[] = [];
  const int = (name: keyof HttpExchangeAssemblerOptions, min: number): void => {
    const v = options[name];
    if (v !== undefined && !(typeof v === 'number' && Number.isSafeInteger(v) && v >= min)) problems.push(`${name}: must be an integer ≥ ${min}`);
  };
  if (typeof options.captureId !== 'string' || options.captureId === '') problems.push('captureId: must be a non-empty string');
  int('bodyCap', 0);
  int('idleTimeoutUs', 1);
  int('maxConnections', 1);
  int('maxBufferedBytes', 1);
  int('maxConnectionBufferBytes', 1);
  int('maxHeadBytes', 256);
  if (options.serverPorts !== undefined) {
    const bad = Array.isArray(options.serverPorts) ? options.serverPorts.filter((p) => !(Number.isInteger(p) && p >= 1 && p <= 65535)) : ['(not a list)'];
    if (bad.length > 0) problems.push(`serverPorts: ${bad.slice(0, 5).join(', ')} not a port number 1–65535`);
  }
  if (problems.length > 0) throw new RepriseError('CAPTURE_OPTIONS_INVALID', `invalid capture options: ${problems.join('; ')}`);
  return { ...options };
}
