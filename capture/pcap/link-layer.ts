/**
 * Link layers: where in a captured frame the IP packet starts.
 *
 * Frame layouts (offsets in bytes):
 *   ETHERNET (1)     dst(6) src(6) ethertype(2); ethertypes 0x8100 / 0x88a8 / 0x9100 /
 *                    0x9200 are VLAN tags (802.1Q, 802.1ad QinQ and the pre-standard
 *                    TPIDs): 2 bytes of tag control, then the next ethertype. Any stack.
 *   LINUX_SLL (113)  packet type(2) ARPHRD(2) address length(2) address(8) protocol(2)
 *   LINUX_SLL2 (276) protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1)
 *                    address length(1) address(8)
 *   RAW (101)        the IP packet itself, version in the first nibble
 *   IPV4 (228), IPV6 (229)  the IP packet itself
 *   NULL (0)         address family(4) in the capturing host's byte order
 *   LOOP (108)       address family(4), always big-endian (OpenBSD)
 *   NFLOG (239)      Linux netfilter log: family(1) version(1) resource id(2, BE), then
 *                    TLVs, each length(2) type(2) in the capturing host's byte order
 *                    (little-endian on every Linux box that writes these), the length
 *                    counting the 4-byte TLV header but not the padding to 4 bytes;
 *                    type 9 (NFULA_PAYLOAD) holds the IP packet. Family 2 is IPv4,
 *                    10 IPv6 (Linux's AF_INET6).
 * Address families: AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD, OpenBSD),
 * 28 (FreeBSD) or 30 (macOS), and 10 (Linux).
 */
import type { DropReason } from './tcp-segment.js';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_NFLOG = 239;
export const LINKTYPE_LINUX_SLL2 = 276;

const SUPPORTED = new Set([
  LINKTYPE_NULL,
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW,
  LINKTYPE_LOOP,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_NFLOG,
]);

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const VLAN_TPIDS = new Set([0x8100, 0x88a8, 0x9100, 0x9200]);
/** More tags than any real network stacks; a bound so a hostile frame cannot loop. */
const MAX_VLAN_TAGS = 8;
const AF_INET = 2;
const AF_INET6 = new Set([10, 24, 28, 30]);
const AF_INET6_LINUX = 10;
const NFULA_PAYLOAD = 9;

/** Where the IP packet starts, and which version the link layer announced. */
export interface NetworkLayer {
  version: 4 | 6;
  offset: number;
  /** Where the IP packet ends, when the link layer says so (NFLOG's TLV length); else the frame's end. */
  end?: number;
}

export function isSupportedLinkType(linkType: number): boolean {
  return SUPPORTED.has(linkType);
}

/** The IP packet inside a frame, or why there is none. */
export function locateNetworkLayer(linkType: number, frame: Buffer): NetworkLayer | DropReason {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return followEtherType(frame, 12, 14);
    case LINKTYPE_LINUX_SLL:
      return followEtherType(frame, 14, 16);
    case LINKTYPE_LINUX_SLL2:
      return followEtherType(frame, 0, 20);
    case LINKTYPE_RAW: {
      if (frame.length < 1) return 'truncated-frame';
      const version = frame.readUInt8(0) >> 4;
      return version === 4 || version === 6 ? { version, offset: 0 } : 'not-ip';
    }
    case LINKTYPE_IPV4:
      return { version: 4, offset: 0 };
    case LINKTYPE_IPV6:
      return { version: 6, offset: 0 };
    case LINKTYPE_NULL: {
      if (frame.length < 4) return 'truncated-frame';
      // Host byte order of the capturing machine: a family is small, so a value
      // with high bits set was written in the other order.
      const le = frame.readUInt32LE(0);
      return fromFamily(le & 0xffff0000 ? frame.readUInt32BE(0) : le);
    }
    case LINKTYPE_LOOP:
      if (frame.length < 4) return 'truncated-frame';
      return fromFamily(frame.readUInt32BE(0));
    case LINKTYPE_NFLOG:
      return nflogPayload(frame);
    default:
      return 'unsupported-linktype';
  }
}

/**
 * Reads the ethertype at `typeAt`, whose payload starts at `payloadAt`, stepping
 * over any stack of VLAN tags (each: tag control(2), then the next ethertype(2)).
 */
function followEtherType(frame: Buffer, typeAt: number, payloadAt: number): NetworkLayer | DropReason {
  if (frame.length < payloadAt) return 'truncated-frame';
  let type = frame.readUInt16BE(typeAt);
  let at = payloadAt;
  for (let tags = 0; VLAN_TPIDS.has(type); tags++) {
    if (tags === MAX_VLAN_TAGS) return 'not-ip';
    if (frame.length < at + 4) return 'truncated-frame';
    type = frame.readUInt16BE(at + 2);
    at += 4;
  }
  return fromEtherType(type, at);
}

function fromEtherType(type: number, offset: number): NetworkLayer | DropReason {
  if (type === ETHERTYPE_IPV4) return { version: 4, offset };
  if (type === ETHERTYPE_IPV6) return { version: 6, offset };
  return 'not-ip';
}

/**
 * The NFULA_PAYLOAD TLV of an NFLOG frame. Every TLV length is checked
 * against the frame, so a hostile length can neither loop nor read past it; a
 * payload TLV longer than the frame was cut by the snap length, and the IP
 * layer says what is missing, as for any other link type.
 */
function nflogPayload(frame: Buffer): NetworkLayer | DropReason {
  if (frame.length < 4) return 'truncated-frame';
  const family = frame.readUInt8(0);
  const version = family === AF_INET ? 4 : family === AF_INET6_LINUX ? 6 : undefined;
  if (version === undefined) return 'not-ip';
  let at = 4;
  while (at + 4 <= frame.length) {
    const length = frame.readUInt16LE(at);
    const type = frame.readUInt16LE(at + 2);
    if (length < 4) return 'not-ip'; // corrupt: a TLV is at least its header
    if (type === NFULA_PAYLOAD) return length > 4 ? { version, offset: at + 4, end: Math.min(at + length, frame.length) } : 'truncated-frame';
    at += (length + 3) & ~3;
  }
  // No payload TLV: the rule logged the packet without its contents, or the snap length cut it off.
  return 'truncated-frame';
}

function fromFamily(family: number): NetworkLayer | DropReason {
  if (family === AF_INET) return { version: 4, offset: 4 };
  if (AF_INET6.has(family)) return { version: 6, offset: 4 };
  return 'not-ip';
}
