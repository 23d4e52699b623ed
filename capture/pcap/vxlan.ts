/**
 * VXLAN (RFC 7348) decapsulation: how mirrored traffic reaches reprise from
 * AWS VPC Traffic Mirroring, and from switches that mirror into a tunnel. The
 * mirror sends each original frame to UDP port 4789 of the collector, behind
 * an 8-byte header:
 *
 *     0 flags(1)  0x08 "I": the network identifier is valid; must be set
 *     1 reserved(3)
 *     4 VNI(3)    which mirror session / virtual network; not used here
 *     7 reserved(1)
 *     8 the original Ethernet frame
 *
 * The decoder (packet-decoder.ts) calls this for UDP datagrams to a VXLAN port
 * found in a capture file; the live listener (vxlan-listener.ts) calls it for
 * every datagram it receives.
 */
import type { DropReason } from './tcp-segment.js';

/** IANA's VXLAN port, which AWS Traffic Mirroring uses. */
export const DEFAULT_VXLAN_PORTS: readonly number[] = Object.freeze([4789]);

const VXLAN_HEADER_BYTES = 8;
const FLAG_VNI_VALID = 0x08;

/**
 * The Ethernet frame inside a VXLAN UDP payload, or why there is none.
 *
 * @example
 * const frame = decapsulateVxlan(udpPayload);
 * if (typeof frame !== 'string') decodeEthernet(frame);
 */
export function decapsulateVxlan(udpPayload: Buffer): Buffer | DropReason {
  if (udpPayload.length < VXLAN_HEADER_BYTES) return 'truncated-frame';
  if ((udpPayload.readUInt8(0) & FLAG_VNI_VALID) === 0) return 'not-tcp';
  return udpPayload.subarray(VXLAN_HEADER_BYTES);
}
