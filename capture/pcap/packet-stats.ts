/**
 * What the packet layers saw and what they threw away, so that an import can
 * say "12,034 packets, 11,890 TCP segments, 144 dropped: 120 not-tcp, 24
 * filtered" instead of leaving the user to guess. One mutable object, filled in
 * while reading and complete once the iteration ends; plain data, so it can be
 * logged or stored as JSON.
 */
import type { CaptureFileInfo } from './capture-reader.js';
import type { DropCounts } from './tcp-segment.js';

export interface PacketStats extends CaptureFileInfo {
  /** Capture records read (outer frames; a VXLAN datagram counts once). */
  packets: number;
  /** Captured bytes of those records. */
  bytes: number;
  /** Records per LINKTYPE_* value. */
  linkTypes: Record<number, number>;
  /** Link types seen that we cannot decode, each listed once; their packets are counted as 'unsupported-linktype'. */
  unsupportedLinkTypes: number[];
  /** TcpSegments handed on. */
  segments: number;
  /** Every packet not handed on, by reason. */
  drops: DropCounts;
  /** Segments handed on with a payload shorter than their IP length says (snaplen or TSO). */
  payloadCut: number;
  /** IP fragments received, and datagrams rebuilt from them. */
  fragments: number;
  fragmentsReassembled: number;
  /** Frames found inside VXLAN. */
  vxlanFrames: number;
}

export function newPacketStats(): PacketStats {
  return {
    format: undefined,
    truncatedAt: undefined,
    packets: 0,
    bytes: 0,
    linkTypes: {},
    unsupportedLinkTypes: [],
    segments: 0,
    drops: {},
    payloadCut: 0,
    fragments: 0,
    fragmentsReassembled: 0,
    vxlanFrames: 0,
  };
}
