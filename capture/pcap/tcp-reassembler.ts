/**
 * TCP reassembly: TcpSegments in, two ordered byte streams per connection out.
 *
 * Connections. Both directions of a 4-tuple map to one normalised key. A
 * connection is opened by a SYN or by the first segment carrying payload (a
 * capture that starts mid-connection); pure ACKs of unknown connections are
 * ignored. Roles: the sender of a SYN without ACK is the client (a SYN+ACK
 * sender is the server) — `roleSource: 'syn'`; else a port listed in
 * `serverPorts` marks the server — `'port'`; else the higher port is guessed
 * to be the (ephemeral) client — `'guess'`, and the consumer may decide
 * otherwise from content (the HTTP layer looks for a request line).
 *
 *   OPEN ── FIN both ways, all bytes delivered ──▶ CLOSED('fin')
 *   OPEN ── RST ──▶ CLOSED('reset')          OPEN ── no segment for idleTimeoutUs ──▶ CLOSED('idle')
 *   OPEN ── end() ──▶ CLOSED('capture-end')  OPEN ── new SYN, new ISN ──▶ CLOSED('reused'), new OPEN
 * A CLOSED connection stays as a tombstone (no buffers) until idle expiry so
 * that its late ACKs and retransmissions do not open a bogus new connection.
 *
 * Directions. Each direction is UNANCHORED until a SYN (stream starts at
 * ISN+1) or its first payload (stream starts at that seq). Positions are kept
 * as unbounded stream offsets (`nextAbs`); a raw 32-bit seq is placed with the
 * signed 32-bit difference to `nextSeq`, which makes wraparound across 2^32
 * invisible. A segment's bytes are then:
 *   - behind nextAbs: a retransmission, dropped (counted in duplicateBytes);
 *   - at nextAbs: delivered at once, followed by any buffered bytes now contiguous;
 *   - ahead of nextAbs: buffered in `pending` (sorted, non-overlapping; bytes
 *     already buffered win over later copies, so overlaps never duplicate bytes).
 * A hole is given up — reported to the consumer as gap(n), never filled with
 * guessed bytes — when: the peer ACKs past it (the receiver has the bytes, the
 * capture missed them, nobody will resend them), data arrives more than the
 * window (`maxConnectionBufferBytes`) ahead, the
 * connection's buffers pass `maxConnectionBufferBytes` or the piece limit, the
 * shared budget is exhausted, both directions have sent FIN, or on RST, idle
 * expiry and end of capture. A FIN records where its direction ends; the
 * direction ends once every byte before it was delivered or given up.
 *
 * Time is capture time: `now` is the largest segment ts seen so far.
 */
import { ByteBudget } from './tcp-byte-budget.js';
import { countDrop, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type DropCounts, type TcpSegment } from './tcp-segment.js';

export interface TcpEndpoint {
  ip: string;
  port: number;
}

export type RoleSource = 'syn' | 'port' | 'guess';
export type StreamEndReason = 'fin' | 'reset' | 'idle' | 'capture-end' | 'reused';

export interface TcpConnectionInfo {
  /** 0-based, in order of each connection's first segment in the capture. */
  readonly index: number;
  readonly client: TcpEndpoint;
  readonly server: TcpEndpoint;
  readonly roleSource: RoleSource;
  readonly firstTs: number;
  /** A SYN was seen from that side: its stream starts at its first byte. */
  clientSyn: boolean;
  serverSyn: boolean;
}

/**
 * What a consumer hears about one connection. `bytes` may be a view into the
 * caller's buffer and is valid only during the call: copy what you keep.
 * `fromClient` is relative to `info.client` as the reassembler decided it.
 */
export interface TcpStreamHandler {
  data(fromClient: boolean, bytes: Buffer, ts: number): void;
  gap(fromClient: boolean, bytes: number, ts: number): void;
  end(fromClient: boolean, reason: StreamEndReason, ts: number): void;
  close(reason: StreamEndReason, ts: number): void;
}

export interface TcpReassemblerOptions {
  /** Creates the consumer of a new connection. */
  onConnection: (info: TcpConnectionInfo, reassembler: TcpReassembler) => TcpStreamHandler;
  drops?: DropCounts;
  serverPorts?: readonly number[];
  /** Capture-time idle expiry, µs. Default 120 s: longer than common keep-alive timeouts (60–75 s). */
  idleTimeoutUs?: number;
  /** Live connections; a segment that would open one more is dropped ('connection-limit'). */
  maxConnections?: number;
  /** Out-of-order bytes one connection may buffer (also the look-ahead window). Default 4 MiB. */
  maxConnectionBufferBytes?: number;
  /** Shared with the HTTP layer; default a fresh 256 MiB budget. */
  budget?: ByteBudget;
}

export interface TcpReassemblerStats {
  connections: number;
  segments: number;
  payloadBytes: number;
  /** Retransmitted or overlapping bytes that were already delivered or buffered. */
  duplicateBytes: number;
  gaps: number;
  gapBytes: number;
  /** Holes given up early because of a memory bound or the look-ahead window. */
  forcedGaps: number;
}

export const DEFAULT_SERVER_PORTS: readonly number[] = [80, 8000, 8008, 8080, 8081, 8888, 3000, 5000, 9000];
const MIB = 1024 * 1024;
/** A 4 MiB window of 1,448-byte segments is ~2,900 pieces; beyond 8,192 tiny pieces cost more than they hold. */
const MAX_PIECES = 8192;

interface Piece {
  abs: number;
  data: Buffer;
  ts: number;
}

class Direction {
  anchored = false;
  synSeq = -1;
  nextSeq = 0;
  nextAbs = 0;
  pending: Piece[] = [];
  pendingBytes = 0;
  finAbs: number | null = null;
  ended = false;
}

class Connection {
  readonly c = new Direction();
  readonly s = new Direction();
  lastTs: number;
  constructor(
    readonly key: string,
    readonly info: TcpConnectionInfo,
    public handler: TcpStreamHandler,
  ) {
    this.lastTs = info.firstTs;
  }
  get pendingBytes(): number {
    return this.c.pendingBytes + this.s.pendingBytes;
  }
}

/**
 * @example
 * const r = new TcpReassembler({
 *   onConnection: (info) => ({
 *     data: (fromClient, bytes, ts) => {}, gap: (fromClient, n, ts) => {},
 *     end: (fromClient, reason, ts) => {}, close: (reason, ts) => {},
 *   }),
 * });
 * for (const seg of segments) r.push(seg);
 * r.end();
 */
export class TcpReassembler {
  readonly stats: TcpReassemblerStats = { connections: 0, segments: 0, payloadBytes: 0, duplicateBytes: 0, gaps: 0, gapBytes: 0, forcedGaps: 0 };
  readonly drops: DropCounts;
  readonly budget: ByteBudget;
  private readonly live = new Map<string, Connection>(); // insertion order = least recently active first
  private readonly tombstones = new Map<string, number>(); // key → close time
  private readonly serverPorts: ReadonlySet<number>;
  private readonly idleUs: number;
  private readonly maxConnections: number;
  private readonly connCap: number;
  private now = 0;

  constructor(private readonly options: TcpReassemblerOptions) {
    this.drops = options.drops ?? {};
    this.budget = options.budget ?? new ByteBudget(256 * MIB);
    this.serverPorts = new Set(options.serverPorts ?? DEFAULT_SERVER_PORTS);
    this.idleUs = options.idleTimeoutUs ?? 120_000_000;
    this.maxConnections = options.maxConnections ?? 50_000;
    this.connCap = options.maxConnectionBufferBytes ?? 4 * MIB;
  }

  get liveConnections(): number {
    return this.live.size;
  }

  push(seg: TcpSegment): void {
    this.stats.segments++;
    if (seg.ts > this.now) this.now = seg.ts;
    this.expireIdle();
    const key = connectionKey(seg);
    const syn = (seg.flags & TCP_SYN) !== 0;
    const synOnly = syn && (seg.flags & TCP_ACK) === 0;
    let conn = this.live.get(key);
    if (conn && synOnly && this.isNewAttempt(conn, seg)) {
      this.finish(conn, 'reused');
      conn = undefined;
    }
    if (!conn) {
      if (!syn && seg.payload.length === 0) return;
      if (!syn && this.tombstones.has(key)) return;
      if (this.live.size >= this.maxConnections) return countDrop(this.drops, 'connection-limit');
      this.tombstones.delete(key);
      conn = this.open(key, seg);
    } else {
      this.live.delete(key);
      this.live.set(key, conn);
    }
    conn.lastTs = this.now;
    const fromClient = seg.srcPort === conn.info.client.port && seg.srcIp === conn.info.client.ip;
    const dir = fromClient ? conn.c : conn.s;
    if (seg.flags & TCP_RST) return this.finish(conn, 'reset');
    let seq = seg.seq;
    if (syn) {
      if (fromClient) conn.info.clientSyn = true;
      else conn.info.serverSyn = true;
      if (!dir.anchored || (dir.nextAbs === 0 && dir.pending.length === 0)) anchor(dir, (seg.seq + 1) >>> 0);
      dir.synSeq = seg.seq;
      seq = (seq + 1) >>> 0;
    }
    // The ACK first: it says what the sender had received before it sent this payload.
    if (seg.flags & TCP_ACK) {
      const other = fromClient ? conn.s : conn.c;
      if (other.anchored && !other.ended) this.acked(conn, other, !fromClient, seg.ack, seg.ts);
    }
    if (seg.payload.length > 0 && this.live.get(key) === conn) {
      this.stats.payloadBytes += seg.payload.length;
      this.accept(conn, dir, fromClient, seq, seg.payload, seg.ts);
    }
    if (seg.flags & TCP_FIN && this.live.get(key) === conn) {
      if (!dir.anchored) anchor(dir, seq);
      if (dir.finAbs === null) dir.finAbs = dir.nextAbs + ((seq + seg.payload.length - dir.nextSeq) | 0);
      this.settle(conn);
    }
  }

  /** End of capture: give up every hole, end every stream, close every connection. */
  end(): void {
    for (const conn of [...this.live.values()]) this.finish(conn, 'capture-end');
    this.tombstones.clear();
  }

  /**
   * Give up the holes of one direction now, delivering everything buffered
   * (with gaps). The HTTP layer calls this for the client side when a response
   * arrives and the request it answers is stuck behind a hole.
   */
  flush(info: TcpConnectionInfo, fromClient: boolean): void {
    const conn = this.live.get(keyOf(info.client, info.server));
    if (!conn || conn.info !== info) return;
    const dir = fromClient ? conn.c : conn.s;
    // No settle() here: the caller is in the middle of consuming the other direction.
    if (dir.pending.length > 0) this.giveUpAll(conn, dir, fromClient, this.now, false);
  }

  private open(key: string, seg: TcpSegment): Connection {
    const src = { ip: seg.srcIp, port: seg.srcPort };
    const dst = { ip: seg.dstIp, port: seg.dstPort };
    let client = src;
    let server = dst;
    let roleSource: RoleSource = 'syn';
    if (seg.flags & TCP_SYN) {
      if (seg.flags & TCP_ACK) [client, server] = [dst, src];
    } else if (this.serverPorts.has(src.port) !== this.serverPorts.has(dst.port)) {
      roleSource = 'port';
      if (this.serverPorts.has(src.port)) [client, server] = [dst, src];
    } else {
      roleSource = 'guess';
      if (src.port < dst.port) [client, server] = [dst, src];
    }
    const info: TcpConnectionInfo = { index: this.stats.connections++, client, server, roleSource, firstTs: seg.ts, clientSyn: false, serverSyn: false };
    const conn = new Connection(key, info, NO_HANDLER);
    this.live.set(key, conn);
    conn.handler = this.options.onConnection(info, this);
    return conn;
  }

  private isNewAttempt(conn: Connection, seg: TcpSegment): boolean {
    const fromClient = seg.srcPort === conn.info.client.port && seg.srcIp === conn.info.client.ip;
    const dir = fromClient ? conn.c : conn.s;
    if (dir.synSeq === seg.seq) return false; // a retransmitted SYN
    return dir.nextAbs > 0 || dir.pending.length > 0 || conn.s.nextAbs > 0 || !fromClient;
  }

  private accept(conn: Connection, dir: Direction, fromClient: boolean, seq: number, payload: Buffer, ts: number): void {
    if (!dir.anchored) anchor(dir, seq);
    let abs = dir.nextAbs + ((seq - dir.nextSeq) | 0);
    let data = payload;
    if (dir.finAbs !== null && abs + data.length > dir.finAbs) data = data.subarray(0, Math.max(0, dir.finAbs - abs));
    const end = abs + data.length;
    if (dir.ended || end <= dir.nextAbs || data.length === 0) {
      this.stats.duplicateBytes += payload.length;
      return;
    }
    if (abs < dir.nextAbs) {
      this.stats.duplicateBytes += dir.nextAbs - abs;
      data = data.subarray(dir.nextAbs - abs);
      abs = dir.nextAbs;
    }
    if (abs === dir.nextAbs && dir.pending.length === 0) {
      this.deliver(conn, dir, fromClient, data, ts);
      return this.settle(conn);
    }
    if (end - dir.nextAbs > this.connCap) {
      // Too far ahead to be the rest of a window we could still buffer: the hole is lost.
      countDrop(this.drops, 'stream-memory');
      this.stats.forcedGaps++;
      this.giveUpAll(conn, dir, fromClient, ts, false);
      if (abs > dir.nextAbs) this.reportGap(conn, dir, fromClient, abs - dir.nextAbs, ts);
      if (!dir.ended && end > dir.nextAbs) this.deliver(conn, dir, fromClient, data.subarray(dir.nextAbs - abs), ts);
      return this.settle(conn);
    }
    this.insert(dir, abs, data, ts);
    this.drain(conn, dir, fromClient);
    this.shed(conn, dir, fromClient, ts);
    this.settle(conn);
  }

  /**
   * The peer acknowledged bytes of `dir` that were never captured: a receiver
   * acknowledges only what it has, so those bytes will not be sent again.
   * Give them up now rather than waiting for a bound or the close.
   */
  private acked(conn: Connection, dir: Direction, fromClient: boolean, ack: number, ts: number): void {
    let ackAbs = dir.nextAbs + ((ack - dir.nextSeq) | 0);
    if (dir.finAbs !== null && ackAbs > dir.finAbs) ackAbs = dir.finAbs;
    if (ackAbs <= dir.nextAbs || ackAbs - dir.nextAbs > this.connCap) return;
    while (dir.nextAbs < ackAbs && !dir.ended) {
      const first = dir.pending[0];
      if (first && first.abs <= ackAbs) {
        this.giveUpHole(conn, dir, fromClient, ts);
      } else {
        this.reportGap(conn, dir, fromClient, ackAbs - dir.nextAbs, ts);
        this.drain(conn, dir, fromClient);
      }
    }
    this.settle(conn);
  }

  /** Buffer [abs, abs+len) minus the ranges already buffered (first data wins). */
  private insert(dir: Direction, abs: number, data: Buffer, ts: number): void {
    const p = dir.pending;
    let lo = 0;
    let hi = p.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = p[mid]!;
      if (m.abs + m.data.length <= abs) lo = mid + 1;
      else hi = mid;
    }
    const end = abs + data.length;
    const add = (at: number, from: number, to: number): void => {
      const bytes = Buffer.from(data.subarray(from - abs, to - abs)); // copy: the segment's buffer is not ours
      p.splice(at, 0, { abs: from, data: bytes, ts });
      dir.pendingBytes += bytes.length;
      this.budget.take(bytes.length);
    };
    let cur = abs;
    let i = lo;
    while (cur < end) {
      const next = p[i];
      if (!next || next.abs >= end) {
        add(i, cur, end);
        break;
      }
      if (next.abs > cur) add(i++, cur, next.abs);
      const nextEnd = next.abs + next.data.length;
      this.stats.duplicateBytes += Math.min(end, nextEnd) - Math.max(cur, next.abs);
      cur = Math.max(cur, nextEnd);
      i++;
    }
  }

  /** Deliver buffered pieces that became contiguous. */
  private drain(conn: Connection, dir: Direction, fromClient: boolean): void {
    while (!dir.ended) {
      const piece = dir.pending[0];
      if (!piece || piece.abs > dir.nextAbs) return;
      dir.pending.shift();
      dir.pendingBytes -= piece.data.length;
      this.budget.release(piece.data.length);
      const skip = dir.nextAbs - piece.abs;
      if (skip < piece.data.length) this.deliver(conn, dir, fromClient, piece.data.subarray(skip), piece.ts);
    }
  }

  /** Keep one connection and the whole budget inside their bounds by giving up holes. */
  private shed(conn: Connection, dir: Direction, fromClient: boolean, ts: number): void {
    const other = fromClient ? conn.s : conn.c;
    while (conn.pendingBytes > this.connCap || dir.pending.length > MAX_PIECES) {
      countDrop(this.drops, 'stream-memory');
      this.stats.forcedGaps++;
      const progressed = dir.pending.length > 0
        ? this.giveUpHole(conn, dir, fromClient, ts)
        : this.giveUpHole(conn, other, !fromClient, ts);
      if (!progressed) break;
    }
    if (!this.budget.over) return;
    countDrop(this.drops, 'stream-memory');
    this.stats.forcedGaps++;
    this.giveUpAll(conn, dir, fromClient, ts, false);
    for (const victim of [...this.live.values()]) {
      if (!this.budget.over) break;
      if (victim.c.pending.length > 0) this.giveUpAll(victim, victim.c, true, ts, false);
      if (victim.s.pending.length > 0) this.giveUpAll(victim, victim.s, false, ts, false);
      this.settle(victim);
    }
  }

  /** Report the first hole as a gap and deliver what follows it; false when there was nothing to do. */
  private giveUpHole(conn: Connection, dir: Direction, fromClient: boolean, ts: number): boolean {
    const first = dir.pending[0];
    if (!first || dir.ended) return false;
    if (first.abs > dir.nextAbs) this.reportGap(conn, dir, fromClient, first.abs - dir.nextAbs, ts);
    this.drain(conn, dir, fromClient);
    return true;
  }

  /** Give up every hole; with `toFin`, also the bytes missing before a FIN already seen. */
  private giveUpAll(conn: Connection, dir: Direction, fromClient: boolean, ts: number, toFin: boolean): void {
    while (this.giveUpHole(conn, dir, fromClient, ts));
    if (toFin && !dir.ended && dir.finAbs !== null && dir.finAbs > dir.nextAbs) {
      this.reportGap(conn, dir, fromClient, dir.finAbs - dir.nextAbs, ts);
    }
    for (const piece of dir.pending) this.budget.release(piece.data.length);
    dir.pending = [];
    dir.pendingBytes = 0;
  }

  private deliver(conn: Connection, dir: Direction, fromClient: boolean, data: Buffer, ts: number): void {
    dir.nextAbs += data.length;
    dir.nextSeq = (dir.nextSeq + data.length) >>> 0;
    conn.handler.data(fromClient, data, ts);
  }

  private reportGap(conn: Connection, dir: Direction, fromClient: boolean, n: number, ts: number): void {
    dir.nextAbs += n;
    dir.nextSeq = (dir.nextSeq + n) >>> 0;
    this.stats.gaps++;
    this.stats.gapBytes += n;
    conn.handler.gap(fromClient, n, ts);
  }

  /** End directions whose FIN was reached; give up holes once both sides sent FIN; close when both ended. */
  private settle(conn: Connection): void {
    if (this.live.get(conn.key) !== conn) return;
    const both = conn.c.finAbs !== null && conn.s.finAbs !== null;
    for (const fromClient of [true, false]) {
      const dir = fromClient ? conn.c : conn.s;
      if (dir.ended || dir.finAbs === null) continue;
      if (both && dir.nextAbs < dir.finAbs) this.giveUpAll(conn, dir, fromClient, this.now, true);
      if (dir.nextAbs >= dir.finAbs && !dir.ended) {
        dir.ended = true;
        conn.handler.end(fromClient, 'fin', this.now);
      }
    }
    if (conn.c.ended && conn.s.ended) this.close(conn, 'fin');
  }

  /** Close for any reason other than a clean FIN exchange. */
  private finish(conn: Connection, reason: StreamEndReason): void {
    if (this.live.get(conn.key) !== conn) return;
    for (const fromClient of [true, false]) {
      const dir = fromClient ? conn.c : conn.s;
      if (dir.ended) continue;
      this.giveUpAll(conn, dir, fromClient, this.now, true);
      dir.ended = true;
      conn.handler.end(fromClient, reason, this.now);
    }
    this.close(conn, reason);
  }

  private close(conn: Connection, reason: StreamEndReason): void {
    for (const dir of [conn.c, conn.s]) {
      for (const piece of dir.pending) this.budget.release(piece.data.length);
      dir.pending = [];
      dir.pendingBytes = 0;
    }
    this.live.delete(conn.key);
    // Tombstones absorb the late ACKs and retransmissions of a connection that really closed; an
    // idle-expired connection that speaks again is reopened as a new (mid-connection) one.
    if (reason === 'fin' || reason === 'reset' || reason === 'reused') {
      this.tombstones.delete(conn.key);
      this.tombstones.set(conn.key, this.now);
      // Keep at most as many tombstones as live connections.
      if (this.tombstones.size > this.maxConnections) this.tombstones.delete(this.tombstones.keys().next().value!);
    }
    conn.handler.close(reason, this.now);
  }

  private expireIdle(): void {
    const limit = this.now - this.idleUs;
    for (const conn of this.live.values()) {
      if (conn.lastTs > limit) break;
      this.finish(conn, 'idle');
    }
    for (const [key, closedAt] of this.tombstones) {
      if (closedAt > limit) break;
      this.tombstones.delete(key);
    }
  }
}

const NO_HANDLER: TcpStreamHandler = { data() {}, gap() {}, end() {}, close() {} };

function anchor(dir: Direction, seq: number): void {
  dir.anchored = true;
  dir.nextSeq = seq >>> 0;
  dir.nextAbs = 0;
}

/** 'ip:port', with IPv6 addresses in brackets ('[::1]:8080'). */
export function endpointText(e: TcpEndpoint): string {
  return e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

function keyOf(a: TcpEndpoint, b: TcpEndpoint): string {
  const x = endpointText(a);
  const y = endpointText(b);
  return x < y ? `${x}|${y}` : `${y}|${x}`;
}

function connectionKey(seg: TcpSegment): string {
  return keyOf({ ip: seg.srcIp, port: seg.srcPort }, { ip: seg.dstIp, port: seg.dstPort });
}
