/**
 * Classic pcap (libpcap's savefile format) record reader.
 *
 * Structure — every integer in the writer's byte order, which the magic tells:
 *
 *   file header, 24 bytes
 *     0 magic          a1b2c3d4 (µs timestamps), a1b23c4d (ns), a1b2cd34 (µs, "modified" records)
 *     4 version        2.4 in practice; not checked (libpcap accepts oddities too)
 *     8 thiszone, 12 sigfigs   always 0 in practice; ignored
 *    16 snaplen        informational
 *    20 link type      low 16 bits LINKTYPE_*; bit 26 says an FCS of (bits 28–31)×2 bytes ends each frame
 *   then records until the end of the input:
 *     0 ts seconds, 4 ts µs or ns, 8 captured length, 12 original length
 *    16 (modified variant only) ifindex, protocol, packet type, padding — 8 bytes, skipped
 *     then `captured length` bytes of frame.
 *
 * The reader is a loop of two states: need a record header, then need its
 * frame. Running out of input in either state, with bytes left over, is a
 * truncated final record; running out between records is a clean end.
 */
import type { RawPacket, ReaderContext } from './capture-reader.js';
import { MAX_RECORD_BYTES } from './capture-reader.js';

export interface PcapVariant {
  littleEndian: boolean;
  /** Sub-second field counts nanoseconds instead of microseconds. */
  nanos: boolean;
  /** Kuznetzov's patched format: 24-byte record headers. */
  modified: boolean;
}

const FILE_HEADER_BYTES = 24;
const FCS_PRESENT = 0x04000000;

export async function* readPcapRecords(ctx: ReaderContext, variant: PcapVariant): AsyncGenerator<RawPacket> {
  const { queue, info } = ctx;
  if (!(await queue.fill(FILE_HEADER_BYTES))) {
    throw ctx.invalid(`capture file ends inside its pcap header (${queue.length} of ${FILE_HEADER_BYTES} bytes)`, queue.offset);
  }
  const header = queue.take(FILE_HEADER_BYTES);
  const u32 = variant.littleEndian
    ? (b: Buffer, at: number) => b.readUInt32LE(at)
    : (b: Buffer, at: number) => b.readUInt32BE(at);
  const linkField = u32(header, 20);
  const linkType = linkField & 0xffff;
  const fcsBytes = linkField & FCS_PRESENT ? (linkField >>> 28) * 2 : 0;
  const recordHeaderBytes = variant.modified ? 24 : 16;

  for (;;) {
    const offset = queue.offset;
    if (!(await queue.fill(recordHeaderBytes))) {
      if (queue.length > 0) info.truncatedAt = offset;
      return;
    }
    const rec = queue.peek(recordHeaderBytes);
    const seconds = u32(rec, 0);
    const fraction = u32(rec, 4);
    const capLength = u32(rec, 8);
    const origLength = u32(rec, 12);
    if (capLength > MAX_RECORD_BYTES) {
      throw ctx.invalid(`pcap record claims ${capLength} captured bytes (limit ${MAX_RECORD_BYTES}); the file is corrupt`, offset);
    }
    if (!(await queue.fill(recordHeaderBytes + capLength))) {
      info.truncatedAt = offset;
      return;
    }
    queue.take(recordHeaderBytes);
    let data = queue.take(capLength);
    // The FCS is not part of the packet; drop it when the frame was captured whole.
    if (fcsBytes > 0 && capLength === origLength && capLength >= fcsBytes) data = data.subarray(0, capLength - fcsBytes);
    const micros = variant.nanos ? Math.floor(fraction / 1000) : fraction;
    yield { ts: seconds * 1_000_000 + micros, linkType, data, origLength, interfaceId: 0, offset };
  }
}
