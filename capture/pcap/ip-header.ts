/**
 * IPv4 and IPv6 headers: addresses, the upper-layer protocol and its bytes.
 *
 * IPv4 (RFC 791): version/IHL(1) tos(1) total length(2) id(2) flags/fragment
 * offset(2) ttl(1) protocol(1) checksum(2) src(4) dst(4) options.
 * IPv6 (RFC 8200): version/class/flow(4) payload length(2) next header(1) hop
 * limit(1) src(16) dst(16), then a chain of extension headers, each naming the
 * next: hop-by-hop (0), routing (43), destination options (60), mobility (135),
 * HIP (139), shim6 (140) — length (n+1)×8 —, AH (51) — length (n+2)×4 —, and
 * fragment (44), 8 bytes: next(1) reserved(1) offset/flags(2) id(4).
 *
 * Lengths: the IP length field is trusted over the frame length, because frames
 * carry link-layer padding (60-byte Ethernet minimum) and FCS bytes after the
 * packet. Two exceptions: a length of 0 — TSO/GSO frames captured before the NIC
 * splits them, and IPv6 jumbograms — means "the rest of the frame"; and a
 * length larger than what was captured (snaplen, or a TSO frame longer than its
 * own header says) is cut to what was captured, with `cut` set.
 *
 * Checksums are not verified: captures taken on the sending host show checksum
 * offload's unfilled fields, and tcpdump/Wireshark do not reject them either.
 */
import { formatIPv4, formatIPv6 } from './ip-address.js';
import type { DropReason } from './tcp-segment.js';

export interface IpFragment {
  id: number;
  /** Byte offset of this fragment's data in the original payload. */
  offset: number;
  more: boolean;
}

export interface IpPacket {
  version: 4 | 6;
  src: string;
  dst: string;
  /** Upper-layer protocol (6 TCP, 17 UDP). For a non-first fragment, what its header says. */
  protocol: number;
  /** Upper-layer bytes (for a fragment: this fragment's share of them). */
  payload: Buffer;
  /** The IP length said more bytes than were captured. */
  cut: boolean;
  fragment?: IpFragment;
}

/** Enough to bound any real chain; a hostile chain of tiny headers stops here. */
const MAX_EXTENSION_HEADERS = 16;
const IPV6_FRAGMENT = 44;
const IPV6_AH = 51;
const IPV6_EXTENSIONS = new Set([0, 43, 60, 135, 139, 140]);

/** Whether an IPv6 next-header value is an extension header we step over. */
export function isIPv6Extension(next: number): boolean {
  return next === IPV6_FRAGMENT || next === IPV6_AH || IPV6_EXTENSIONS.has(next);
}

export function parseIPv4(buf: Buffer, at: number): IpPacket | DropReason {
  const avail = buf.length - at;
  if (avail < 20) return 'truncated-frame';
  const b0 = buf.readUInt8(at);
  if (b0 >> 4 !== 4) return 'bad-ip-header';
  const headerLength = (b0 & 0x0f) * 4;
  if (headerLength < 20) return 'bad-ip-header';
  if (headerLength > avail) return 'truncated-frame';
  const total = buf.readUInt16BE(at + 2);
  if (total !== 0 && total < headerLength) return 'bad-ip-header';
  const end = total === 0 ? avail : Math.min(total, avail);
  const flags = buf.readUInt16BE(at + 6);
  const more = (flags & 0x2000) !== 0;
  const offset = (flags & 0x1fff) * 8;
  const packet: IpPacket = {
    version: 4,
    src: formatIPv4(buf, at + 12),
    dst: formatIPv4(buf, at + 16),
    protocol: buf.readUInt8(at + 9),
    payload: buf.subarray(at + headerLength, at + end),
    cut: total > avail,
  };
  if (more || offset > 0) packet.fragment = { id: buf.readUInt16BE(at + 4), offset, more };
  return packet;
}

export function parseIPv6(buf: Buffer, at: number): IpPacket | DropReason {
  const avail = buf.length - at;
  if (avail < 40) return 'truncated-frame';
  if (buf.readUInt8(at) >> 4 !== 6) return 'bad-ip-header';
  const payloadLength = buf.readUInt16BE(at + 4);
  const end = payloadLength === 0 ? buf.length : Math.min(buf.length, at + 40 + payloadLength);
  const chain = walkIPv6Extensions(buf.subarray(0, end), at + 40, buf.readUInt8(at + 6));
  if (typeof chain === 'string') return chain;
  const packet: IpPacket = {
    version: 6,
    src: formatIPv6(buf, at + 8),
    dst: formatIPv6(buf, at + 24),
    protocol: chain.protocol,
    payload: buf.subarray(chain.offset, end),
    cut: 40 + payloadLength > avail,
  };
  if (chain.fragment) packet.fragment = chain.fragment;
  return packet;
}

export interface ExtensionChain {
  /** The upper-layer protocol, or after a fragment header, the protocol it names. */
  protocol: number;
  /** Where the upper-layer bytes (or the fragment's data) start. */
  offset: number;
  fragment?: IpFragment;
}

/**
 * Walks IPv6 extension headers in buf from `at`, starting with header type
 * `next`. Stops at the first non-extension header, or after a fragment header of
 * a real fragment. An atomic fragment (offset 0, no more fragments, RFC 6946) is
 * stepped over like any other extension header. Also used on a reassembled
 * payload, which may start with more extension headers.
 */
export function walkIPv6Extensions(buf: Buffer, at: number, next: number): ExtensionChain | DropReason {
  for (let count = 0; ; count++) {
    if (!isIPv6Extension(next)) return { protocol: next, offset: at };
    if (count === MAX_EXTENSION_HEADERS) return 'bad-ip-header';
    if (buf.length < at + 8) return 'truncated-frame';
    const following = buf.readUInt8(at);
    if (next === IPV6_FRAGMENT) {
      const field = buf.readUInt16BE(at + 2);
      const offset = field & 0xfff8;
      const more = (field & 1) !== 0;
      at += 8;
      if (offset !== 0 || more) return { protocol: following, offset: at, fragment: { id: buf.readUInt32BE(at - 4), offset, more } };
    } else {
      at += next === IPV6_AH ? (buf.readUInt8(at + 1) + 2) * 4 : (buf.readUInt8(at + 1) + 1) * 8;
      if (at > buf.length) return 'truncated-frame';
    }
    next = following;
  }
}
