/**
 * The boundary between the packet layers (file formats, link layers, IP,
 * VXLAN) and the stream layers (TCP reassembly, HTTP parsing). Packet readers
 * produce TcpSegments; the reassembler consumes them.
 */

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export interface TcpSegment {
  /** Capture timestamp, integer microseconds since the Unix epoch. */
  ts: number;
  /** Textual addresses ('127.0.0.1', '::1'). */
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  /** Raw 32-bit sequence and acknowledgement numbers (unsigned). */
  seq: number;
  ack: number;
  /** TCP flag bits (TCP_FIN | TCP_SYN | …). */
  flags: number;
  /** TCP payload; may be a view into a larger buffer — copy before keeping it. */
  payload: Buffer;
  /** Captured bytes of the whole frame, for byte accounting. */
  frameBytes: number;
}

/** Why a packet or stream byte was not used; every drop is counted under one of these. */
export type DropReason =
  | 'truncated-frame'
  | 'unsupported-linktype'
  | 'not-ip'
  | 'not-tcp'
  | 'bad-ip-header'
  | 'bad-tcp-header'
  | 'fragment-timeout'
  | 'fragment-memory'
  | 'filtered'
  | 'outside-time-window'
  | 'stream-memory'
  | 'connection-limit'
  | 'not-http'
  | 'http-parse-error';

export type DropCounts = Partial<Record<DropReason, number>>;

export function countDrop(counts: DropCounts, reason: DropReason, n = 1): void {
  counts[reason] = (counts[reason] ?? 0) + n;
}
