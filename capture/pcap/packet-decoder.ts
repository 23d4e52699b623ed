/**
 * One captured frame → at most one TcpSegment: link layer → IP (reassembling
 * fragments) → TCP, or → UDP → VXLAN → an inner Ethernet frame → the same again.
 * Every frame that does not become a segment is either held (a fragment
 * waiting for the rest of its datagram) or counted in `stats.drops` under the
 * reason it was given up on; nothing is thrown for packet contents.
 *
 * TCP header: src port(2) dst port(2) seq(4) ack(4) data offset(4 bits, in
 * 32-bit words) flags(12 bits, the low 8 in byte 13) window(2) checksum(2)
 * urgent(2) options, then payload. Options are stepped over via the data offset.
 */
import { FragmentReassembler, type FragmentLimits } from './ip-fragments.js';
import { isIPv6Extension, parseIPv4, parseIPv6, walkIPv6Extensions, type IpPacket } from './ip-header.js';
import { LINKTYPE_ETHERNET, locateNetworkLayer } from './link-layer.js';
import type { PacketStats } from './packet-stats.js';
import { countDrop, type DropReason, type TcpSegment } from './tcp-segment.js';
import { decapsulateVxlan, DEFAULT_VXLAN_PORTS } from './vxlan.js';

export interface PacketDecoderOptions {
  /** UDP destination ports that carry VXLAN (default [4789]). */
  vxlanPorts?: readonly number[];
  fragments?: Partial<FragmentLimits>;
}

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
/** VXLAN in VXLAN happens (a mirror of a tunnel); deeper nesting is a loop or an attack. */
const MAX_ENCAPSULATION_DEPTH = 3;

export class PacketDecoder {
  private readonly fragments: FragmentReassembler;
  private readonly vxlanPorts: ReadonlySet<number>;

  constructor(
    private readonly stats: PacketStats,
    options: PacketDecoderOptions = {},
  ) {
    this.fragments = new FragmentReassembler(stats.drops, options.fragments);
    this.vxlanPorts = new Set(options.vxlanPorts ?? DEFAULT_VXLAN_PORTS);
  }

  /** A captured frame of the given LINKTYPE_*; undefined when it was dropped (and counted) or held. */
  decodeFrame(linkType: number, frame: Buffer, ts: number): TcpSegment | undefined {
    return this.fromLink(linkType, frame, ts, frame.length, 0);
  }

  /** The payload of one UDP datagram received on a VXLAN port (the live listener's input). */
  decodeVxlanPayload(udpPayload: Buffer, ts: number): TcpSegment | undefined {
    return this.fromVxlan(udpPayload, ts, udpPayload.length, 0);
  }

  /** End of input: fragments still waiting for their datagram are dropped and counted. */
  flush(): void {
    this.fragments.flush();
  }

  private fromLink(linkType: number, frame: Buffer, ts: number, frameBytes: number, depth: number): TcpSegment | undefined {
    const network = locateNetworkLayer(linkType, frame);
    if (typeof network === 'string') {
      if (network === 'unsupported-linktype' && !this.stats.unsupportedLinkTypes.includes(linkType)) {
        this.stats.unsupportedLinkTypes.push(linkType);
      }
      return this.drop(network);
    }
    const packet = network.end === undefined ? frame : frame.subarray(0, network.end);
    const ip = network.version === 4 ? parseIPv4(packet, network.offset) : parseIPv6(packet, network.offset);
    if (typeof ip === 'string') return this.drop(ip);
    if (!ip.fragment) return this.fromTransport(ip, ip.protocol, ip.payload, ts, frameBytes, depth);

    const { fragment } = ip;
    // Every fragment names the protocol (IPv6: the first header of the fragmentable part), so
    // fragments we would never use are not held.
    const wanted = ip.protocol === IPPROTO_TCP || ip.protocol === IPPROTO_UDP || (ip.version === 6 && isIPv6Extension(ip.protocol));
    if (!wanted) return this.drop('not-tcp');
    this.stats.fragments++;
    const key = ip.version === 4 ? `4 ${ip.src} ${ip.dst} ${fragment.id} ${ip.protocol}` : `6 ${ip.src} ${ip.dst} ${fragment.id}`;
    const datagram = this.fragments.add(key, { ts, offset: fragment.offset, more: fragment.more, data: ip.payload, protocol: ip.protocol, frameBytes });
    if (!datagram) return undefined;
    this.stats.fragmentsReassembled++;
    const whole: IpPacket = { ...ip, cut: false, payload: datagram.payload, protocol: datagram.protocol };
    if (ip.version === 4) return this.fromTransport(whole, whole.protocol, whole.payload, ts, datagram.frameBytes, depth);
    // The reassembled IPv6 payload may start with more extension headers (destination options).
    const chain = walkIPv6Extensions(datagram.payload, 0, datagram.protocol);
    if (typeof chain === 'string') return this.drop(chain);
    if (chain.fragment) return this.drop('bad-ip-header');
    return this.fromTransport(whole, chain.protocol, datagram.payload.subarray(chain.offset), ts, datagram.frameBytes, depth);
  }

  private fromTransport(ip: IpPacket, protocol: number, payload: Buffer, ts: number, frameBytes: number, depth: number): TcpSegment | undefined {
    if (protocol === IPPROTO_TCP) return this.fromTcp(ip, payload, ts, frameBytes);
    if (protocol !== IPPROTO_UDP) return this.drop('not-tcp');
    if (payload.length < 8) return this.drop(ip.cut ? 'truncated-frame' : 'not-tcp');
    if (!this.vxlanPorts.has(payload.readUInt16BE(2))) return this.drop('not-tcp');
    const udpLength = payload.readUInt16BE(4);
    const end = udpLength >= 8 && udpLength < payload.length ? udpLength : payload.length;
    return this.fromVxlan(payload.subarray(8, end), ts, frameBytes, depth);
  }

  private fromVxlan(udpPayload: Buffer, ts: number, frameBytes: number, depth: number): TcpSegment | undefined {
    if (depth >= MAX_ENCAPSULATION_DEPTH) return this.drop('not-tcp');
    const inner = decapsulateVxlan(udpPayload);
    if (typeof inner === 'string') return this.drop(inner);
    this.stats.vxlanFrames++;
    return this.fromLink(LINKTYPE_ETHERNET, inner, ts, frameBytes, depth + 1);
  }

  private fromTcp(ip: IpPacket, tcp: Buffer, ts: number, frameBytes: number): TcpSegment | undefined {
    if (tcp.length < 20) return this.drop(ip.cut ? 'truncated-frame' : 'bad-tcp-header');
    const dataOffset = (tcp.readUInt8(12) >> 4) * 4;
    if (dataOffset < 20) return this.drop('bad-tcp-header');
    if (dataOffset > tcp.length) return this.drop(ip.cut ? 'truncated-frame' : 'bad-tcp-header');
    if (ip.cut) this.stats.payloadCut++;
    return {
      ts,
      srcIp: ip.src,
      dstIp: ip.dst,
      srcPort: tcp.readUInt16BE(0),
      dstPort: tcp.readUInt16BE(2),
      seq: tcp.readUInt32BE(4),
      ack: tcp.readUInt32BE(8),
      flags: tcp.readUInt8(13),
      payload: tcp.subarray(dataOffset),
      frameBytes,
    };
  }

  private drop(reason: DropReason): undefined {
    countDrop(this.stats.drops, reason);
    return undefined;
  }
}
