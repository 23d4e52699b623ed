/**
 * Live capture without pcap: a UDP socket that receives VXLAN-mirrored traffic
 * (AWS VPC Traffic Mirroring, or any switch mirroring into VXLAN) and turns
 * each datagram into a TcpSegment, timestamped on arrival.
 *
 * UDP has no backpressure: the mirror sends whether or not we keep up. So the
 * segments wait in a bounded queue for the consumer, and when it is full new
 * segments are dropped and counted as 'stream-memory' rather than growing the
 * heap without limit. The socket's kernel receive buffer is raised so bursts
 * are absorbed there first; what the kernel drops is invisible to us (see
 * `netstat -su`, "receive buffer errors").
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { RepriseError } from '../../errors.js';
import type { FragmentLimits } from './ip-fragments.js';
import { PacketDecoder } from './packet-decoder.js';
import { compileSegmentFilter, type SegmentFilterOptions } from './packet-filter.js';
import { newPacketStats, type PacketStats } from './packet-stats.js';
import { countDrop, type TcpSegment } from './tcp-segment.js';

export interface VxlanListenerOptions extends Omit<SegmentFilterOptions, 'from' | 'to'> {
  /** Address to bind ('0.0.0.0', '::', or one interface's address). */
  host: string;
  /** UDP port; 4789 for Traffic Mirroring, 0 for any free port (tests). */
  port: number;
  /** Segments waiting for the consumer before new ones are dropped (default 10,000 ≈ 15 MB of full-size segments). */
  queueLimit?: number;
  fragments?: Partial<FragmentLimits>;
}

export interface VxlanListener {
  /** Segments in arrival order; ends after close(). Iterate it once. */
  segments: AsyncIterable<TcpSegment>;
  /** The bound address (the real port when `port` was 0). */
  address: { address: string; port: number };
  stats: PacketStats;
  close(): Promise<void>;
}

const DEFAULT_QUEUE_LIMIT = 10_000;
/** 8 MiB: a few hundred ms of a busy mirror session; Linux caps it at net.core.rmem_max without error. */
const RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024;

/**
 * Binds a UDP socket and decodes the VXLAN traffic sent to it.
 * Rejects with RepriseError CAPTURE_LISTEN when the socket cannot be bound.
 *
 * @example
 * const listener = await listenVxlan({ host: '0.0.0.0', port: 4789, ports: [80] });
 * for await (const seg of listener.segments) reassembler.push(seg);
 */
export async function listenVxlan(options: VxlanListenerOptions): Promise<VxlanListener> {
  const filter = compileSegmentFilter(options);
  const stats = newPacketStats();
  const decoder = new PacketDecoder(stats, options.fragments ? { fragments: options.fragments } : {});
  const queue = new SegmentQueue(options.queueLimit ?? DEFAULT_QUEUE_LIMIT);
  const socket = createSocket({ type: isIP(options.host) === 6 ? 'udp6' : 'udp4', recvBufferSize: RECEIVE_BUFFER_BYTES });

  socket.on('message', (message: Buffer) => {
    stats.packets++;
    stats.bytes += message.length;
    const segment = decoder.decodeVxlanPayload(message, nowMicros());
    if (segment === undefined) return;
    if (!filter.matches(segment)) return countDrop(stats.drops, 'filtered');
    if (!queue.push(segment)) return countDrop(stats.drops, 'stream-memory');
    stats.segments++;
  });

  try {
    socket.bind(options.port, options.host);
    await once(socket, 'listening');
  } catch (err) {
    socket.close();
    const message = err instanceof Error ? err.message : String(err);
    throw new RepriseError('CAPTURE_LISTEN', `cannot listen for VXLAN on ${options.host}:${options.port}: ${message}`, { cause: err });
  }
  // Errors after binding (rare for UDP) end the stream rather than crash the process.
  socket.on('error', () => queue.end());

  const { address, port } = socket.address();
  let closed: Promise<void> | undefined;
  return {
    segments: queue,
    address: { address, port },
    stats,
    close: () => (closed ??= closeSocket(socket).then(() => queue.end())),
  };
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed after an error
    }
  });
}

function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** A bounded single-consumer queue that is also the async iterable handed out. */
class SegmentQueue implements AsyncIterable<TcpSegment> {
  private readonly items: TcpSegment[] = [];
  private waiting: ((result: IteratorResult<TcpSegment>) => void) | undefined;
  private ended = false;

  constructor(private readonly limit: number) {}

  push(segment: TcpSegment): boolean {
    if (this.ended) return false;
    if (this.waiting) {
      const wake = this.waiting;
      this.waiting = undefined;
      wake({ value: segment, done: false });
      return true;
    }
    if (this.items.length >= this.limit) return false;
    this.items.push(segment);
    return true;
  }

  end(): void {
    this.ended = true;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = undefined;
  }

  [Symbol.asyncIterator](): AsyncIterator<TcpSegment> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiting = resolve));
      },
      return: () => {
        this.end();
        this.items.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
