/**
 * The packet half of capture import: a pcap/pcapng byte stream in, TcpSegments
 * out, in capture order, ready for the reassembler. Composes the record reader
 * (capture-reader.ts), the time window, the frame decoder (packet-decoder.ts)
 * and the host/port filter, and keeps the PacketStats that say what was used
 * and what was dropped.
 *
 * Memory: one capture record at a time, plus IP fragments waiting for their
 * datagram (bounded, see ip-fragments.ts). Segments hold views into stream
 * chunks; a consumer that keeps a payload must copy it.
 */
import type { Readable } from 'node:stream';
import { readPackets } from './capture-reader.js';
import type { FragmentLimits } from './ip-fragments.js';
import { PacketDecoder } from './packet-decoder.js';
import { compileSegmentFilter, type SegmentFilterOptions } from './packet-filter.js';
import { newPacketStats, type PacketStats } from './packet-stats.js';
import { countDrop, type TcpSegment } from './tcp-segment.js';

export interface ReadTcpSegmentsOptions extends SegmentFilterOptions {
  /** Shown in error locations: a path, or '-' for stdin. */
  name: string;
  /** UDP destination ports carrying VXLAN (default [4789]). */
  vxlanPorts?: readonly number[];
  /** Bounds for IP fragment reassembly. */
  fragments?: Partial<FragmentLimits>;
}

/**
 * The TCP segments in a capture stream (file, stdin or a live `tcpdump -w -`).
 * Throws RepriseError FILTER_INVALID before reading when the options are
 * wrong, and PCAP_INVALID / PCAP_UNSUPPORTED when the input is not a capture
 * we can read; a capture cut short ends quietly with `stats.truncatedAt` set.
 *
 * @example
 * const stats = newPacketStats();
 * for await (const seg of readTcpSegments(process.stdin, { name: '-', ports: [80] }, stats)) {
 *   reassembler.push(seg);
 * }
 * console.log(stats.segments, stats.drops);
 */
export async function* readTcpSegments(
  input: Readable,
  options: ReadTcpSegmentsOptions,
  stats: PacketStats = newPacketStats(),
): AsyncGenerator<TcpSegment> {
  const filter = compileSegmentFilter(options);
  const decoder = new PacketDecoder(stats, options);
  for await (const packet of readPackets(input, { name: options.name, info: stats })) {
    stats.packets++;
    stats.bytes += packet.data.length;
    stats.linkTypes[packet.linkType] = (stats.linkTypes[packet.linkType] ?? 0) + 1;
    if (!filter.inTimeWindow(packet.ts)) {
      countDrop(stats.drops, 'outside-time-window');
      continue;
    }
    const segment = decoder.decodeFrame(packet.linkType, packet.data, packet.ts);
    if (segment === undefined) continue;
    if (!filter.matches(segment)) {
      countDrop(stats.drops, 'filtered');
      continue;
    }
    stats.segments++;
    yield segment;
  }
  // The input is over: fragments still waiting will never complete.
  decoder.flush();
}
