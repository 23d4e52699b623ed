/**
 * Builds packets in code for the pcap tests: TCP segments wrapped in IPv4/IPv6
 * (with fragments and extension headers), any of the supported link layers,
 * VLAN tags and VXLAN. Checksums are left at zero: the reader does not verify
 * them. The capture-file writers and read helpers are in pcap-files.ts and
 * re-exported here, so tests import one module.
 */
export * from './pcap-files.js';

export interface SegmentSpec {
  ts: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  payload: Buffer;
}

export function tcp(s: SegmentSpec, options: { withOptions?: boolean } = {}): Buffer {
  // With options: MSS(4) + NOP NOP + SACK-permitted... kept to 12 bytes so the data offset is 8 words.
  const opts = options.withOptions ? Buffer.from([2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 1, 1, 0]) : Buffer.alloc(0);
  const h = Buffer.alloc(20 + opts.length);
  h.writeUInt16BE(s.sport, 0);
  h.writeUInt16BE(s.dport, 2);
  h.writeUInt32BE(s.seq >>> 0, 4);
  h.writeUInt32BE(s.ack >>> 0, 8);
  h.writeUInt8(((20 + opts.length) / 4) << 4, 12);
  h.writeUInt8(s.flags, 13);
  h.writeUInt16BE(65535, 14);
  opts.copy(h, 20);
  return Buffer.concat([h, s.payload]);
}

export function udp(sport: number, dport: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

export function ipv4Bytes(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}

export function ipv6Bytes(text: string): Buffer {
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

export function ipv4(
  src: string,
  dst: string,
  protocol: number,
  payload: Buffer,
  o: { id?: number; offset?: number; more?: boolean; totalLength?: number } = {},
): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt8(0x45, 0);
  h.writeUInt16BE(o.totalLength ?? 20 + payload.length, 2);
  h.writeUInt16BE(o.id ?? 0x1234, 4);
  h.writeUInt16BE(((o.more ? 0x2000 : 0) | ((o.offset ?? 0) / 8)) & 0xffff, 6);
  h.writeUInt8(64, 8);
  h.writeUInt8(protocol, 9);
  ipv4Bytes(src).copy(h, 12);
  ipv4Bytes(dst).copy(h, 16);
  return Buffer.concat([h, payload]);
}

/** IPv4 fragments of one datagram, `size` payload bytes each (a multiple of 8). */
export function ipv4Fragments(src: string, dst: string, protocol: number, payload: Buffer, size: number, id = 0x4242): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < payload.length; at += size) {
    const more = at + size < payload.length;
    out.push(ipv4(src, dst, protocol, payload.subarray(at, at + size), { id, offset: at, more }));
  }
  return out;
}

/** An IPv6 extension header (hop-by-hop, routing, destination options shape) whose next header is `next`. */
export function ipv6Extension(next: number, bytes = 8): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUInt8(next, 0);
  b.writeUInt8(bytes / 8 - 1, 1);
  if (bytes > 2) b.writeUInt8(1, 2); // PadN
  if (bytes > 3) b.writeUInt8(bytes - 4, 3);
  return b;
}

export function ipv6FragmentHeader(next: number, offset: number, more: boolean, id: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(next, 0);
  b.writeUInt16BE(offset | (more ? 1 : 0), 2);
  b.writeUInt32BE(id, 4);
  return b;
}

/** `next` names the first header of `rest` (extension headers then the upper layer). */
export function ipv6(src: string, dst: string, next: number, rest: Buffer, o: { payloadLength?: number } = {}): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(o.payloadLength ?? rest.length, 4);
  h.writeUInt8(next, 6);
  h.writeUInt8(64, 7);
  ipv6Bytes(src).copy(h, 8);
  ipv6Bytes(dst).copy(h, 24);
  return Buffer.concat([h, rest]);
}

export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;

export function ethernet(type: number, payload: Buffer, tags: { tpid: number; vid: number }[] = []): Buffer {
  const h = Buffer.alloc(12 + tags.length * 4 + 2);
  Buffer.from('020000000002020000000001', 'hex').copy(h, 0);
  let at = 12;
  for (const tag of tags) {
    h.writeUInt16BE(tag.tpid, at);
    h.writeUInt16BE(tag.vid, at + 2);
    at += 4;
  }
  h.writeUInt16BE(type, at);
  const frame = Buffer.concat([h, payload]);
  // Pad to the 60-byte Ethernet minimum, as a real NIC does: the reader must trust the IP length.
  return frame.length < 60 ? Buffer.concat([frame, Buffer.alloc(60 - frame.length, 0xee)]) : frame;
}

export function sll(type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0, 0); // to us
  h.writeUInt16BE(1, 2); // ARPHRD_ETHER
  h.writeUInt16BE(6, 4);
  Buffer.from('020000000001', 'hex').copy(h, 6);
  h.writeUInt16BE(type, 14);
  return Buffer.concat([h, payload]);
}

export function sll2(type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(type, 0);
  h.writeUInt32BE(3, 4); // ifindex
  h.writeUInt16BE(1, 8);
  h.writeUInt8(0, 10);
  h.writeUInt8(6, 11);
  Buffer.from('020000000001', 'hex').copy(h, 12);
  return Buffer.concat([h, payload]);
}

export function nullLink(family: number, payload: Buffer, littleEndian = true): Buffer {
  const h = Buffer.alloc(4);
  if (littleEndian) h.writeUInt32LE(family, 0);
  else h.writeUInt32BE(family, 0);
  return Buffer.concat([h, payload]);
}

/** One NFLOG TLV: length(2) and type(2) little-endian, the value, padding to 4 bytes. */
export function nflogTlv(type: number, value: Buffer): Buffer {
  const t = Buffer.alloc(4 + value.length + ((4 - (value.length % 4)) % 4));
  t.writeUInt16LE(4 + value.length, 0);
  t.writeUInt16LE(type, 2);
  value.copy(t, 4);
  return t;
}

/** LINKTYPE_NFLOG (239): family, version 0, resource id (BE), the packet header and prefix TLVs, the payload TLV (9), then `after`. */
export function nflog(family: number, payload: Buffer, after: Buffer[] = []): Buffer {
  const h = Buffer.from([family, 0, 0, 5]);
  const packetHdr = nflogTlv(1, Buffer.from([0x08, 0x00, 3, 0])); // hw protocol (BE) 0x0800, hook 3
  const prefix = nflogTlv(10, Buffer.from('http-in\0')); // 8 bytes: no padding
  const oddPrefix = nflogTlv(10, Buffer.from('x\0')); // 2 bytes: padded to 4
  return Buffer.concat([h, packetHdr, prefix, oddPrefix, nflogTlv(9, payload), ...after]);
}

export function vxlan(innerFrame: Buffer, vni = 1): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt8(0x08, 0);
  h.writeUIntBE(vni, 4, 3);
  return Buffer.concat([h, innerFrame]);
}
