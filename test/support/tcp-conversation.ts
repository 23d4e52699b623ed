import type { Exchange } from '../../store/exchange.js';
import { HttpExchangeAssembler, type HttpExchangeAssemblerOptions, type HttpExchangeAssemblerStats } from '../../capture/pcap/http-exchange-assembler.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type TcpSegment } from '../../capture/pcap/tcp-segment.js';

/**
 * Scripted TCP conversations for stream-layer tests: client bytes and server
 * bytes in turn become TcpSegments (handshake, data, close) that the tests
 * then split, reorder, duplicate or drop.
 */

export const T0 = Date.UTC(2026, 10, 23, 9, 0, 0) * 1000; // µs

export interface Endpoint {
  ip: string;
  port: number;
}

export interface Turn {
  from: 'client' | 'server';
  data: Buffer | string;
  /** Bytes per segment (default: the conversation's mss). */
  segment?: number;
  /** Capture time before this turn, µs (default: stepUs). */
  pauseUs?: number;
}

export interface ConversationOptions {
  client?: Endpoint;
  server?: Endpoint;
  isnClient?: number;
  isnServer?: number;
  /** Emit SYN / SYN-ACK / ACK first (default true). */
  handshake?: boolean;
  /** How the connection ends (default 'fin' from the client, then the server). */
  close?: 'fin' | 'server-fin' | 'rst' | 'none';
  startTs?: number;
  /** Capture time between segments, µs (default 100). */
  stepUs?: number;
  mss?: number;
}

export const CLIENT: Endpoint = { ip: '10.0.0.1', port: 51000 };
export const SERVER: Endpoint = { ip: '10.0.0.2', port: 80 };

export function conversation(turns: readonly Turn[], o: ConversationOptions = {}): TcpSegment[] {
  const client = o.client ?? CLIENT;
  const server = o.server ?? SERVER;
  const step = o.stepUs ?? 100;
  const mss = o.mss ?? 1460;
  let ts = o.startTs ?? T0;
  const seq = { client: (o.isnClient ?? 1000) >>> 0, server: (o.isnServer ?? 500000) >>> 0 };
  const segs: TcpSegment[] = [];
  const emit = (from: 'client' | 'server', flags: number, payload: Buffer): void => {
    const [src, dst] = from === 'client' ? [client, server] : [server, client];
    const other = from === 'client' ? 'server' : 'client';
    segs.push({ ts, srcIp: src.ip, dstIp: dst.ip, srcPort: src.port, dstPort: dst.port, seq: seq[from], ack: seq[other], flags, payload, frameBytes: 54 + payload.length });
    seq[from] = (seq[from] + payload.length + (flags & (TCP_SYN | TCP_FIN) ? 1 : 0)) >>> 0;
    ts += step;
  };
  if (o.handshake ?? true) {
    emit('client', TCP_SYN, Buffer.alloc(0));
    emit('server', TCP_SYN | TCP_ACK, Buffer.alloc(0));
    emit('client', TCP_ACK, Buffer.alloc(0));
  }
  for (const turn of turns) {
    if (turn.pauseUs) ts += turn.pauseUs;
    const data = typeof turn.data === 'string' ? Buffer.from(turn.data, 'latin1') : turn.data;
    const size = turn.segment ?? mss;
    for (let i = 0; i < data.length; i += size) emit(turn.from, TCP_ACK | TCP_PSH, data.subarray(i, i + size));
  }
  const close = o.close ?? 'fin';
  if (close === 'fin') {
    emit('client', TCP_FIN | TCP_ACK, Buffer.alloc(0));
    emit('server', TCP_FIN | TCP_ACK, Buffer.alloc(0));
  } else if (close === 'server-fin') {
    emit('server', TCP_FIN | TCP_ACK, Buffer.alloc(0));
    emit('client', TCP_FIN | TCP_ACK, Buffer.alloc(0));
  } else if (close === 'rst') {
    emit('client', TCP_RST, Buffer.alloc(0));
  }
  return segs;
}

/** Run segments through a fresh assembler; returns the exchanges and the final stats. */
export function assemble(
  segs: Iterable<TcpSegment>,
  options: Partial<HttpExchangeAssemblerOptions> = {},
): { exchanges: Exchange[]; stats: HttpExchangeAssemblerStats } {
  const exchanges: Exchange[] = [];
  const asm = new HttpExchangeAssembler({ captureId: 'test', ...options }, (ex) => exchanges.push(ex));
  for (const s of segs) asm.push(s);
  asm.end();
  return { exchanges, stats: asm.stats };
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Data segments of one side (payload > 0). */
export function dataOf(segs: readonly TcpSegment[], from: 'client' | 'server', client: Endpoint = CLIENT): TcpSegment[] {
  return segs.filter((s) => s.payload.length > 0 && (s.srcPort === client.port) === (from === 'client'));
}

/** A copy of `seg` carrying bytes [from, to) of its payload (a partial retransmission). */
export function slice(seg: TcpSegment, from: number, to: number): TcpSegment {
  return { ...seg, seq: (seg.seq + from) >>> 0, payload: seg.payload.subarray(from, to), flags: TCP_ACK };
}

export function http(lines: string[], body: Buffer | string = ''): Buffer {
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), typeof body === 'string' ? Buffer.from(body) : body]);
}

export function bodyText(ex: Exchange | undefined, side: 'request' | 'response' = 'response'): string {
  const body = side === 'request' ? ex?.request.body : ex?.response?.body;
  if (!body) return '';
  return body.encoding === 'base64' ? Buffer.from(body.data, 'base64').toString('latin1') : body.data;
}
