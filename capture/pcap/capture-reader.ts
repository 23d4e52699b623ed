/**
 * Where packets enter reprise: a capture file (or stdin, or a live
 * `tcpdump -w -` pipe) becomes a stream of RawPackets, one per record, without
 * the file ever being held in memory. The first four bytes say which format
 * follows — classic pcap (pcap-records.ts) or pcapng (pcapng-blocks.ts).
 *
 * What counts as an error and what does not:
 * - not a capture file, or a file that ends inside its header: RepriseError
 *   PCAP_INVALID with the byte offset;
 * - a record whose length is impossible (over MAX_RECORD_BYTES, shorter than its
 *   own header, a pcapng trailer that disagrees): PCAP_INVALID with the
 *   record's offset. Everything before it has already been yielded. We stop
 *   rather than resynchronise because a wrong length leaves no trustworthy place
 *   to resume from, and silently skipping an unknown span would hide corruption;
 * - a file that ends in the middle of its last record: not an error. That is
 *   what a killed tcpdump leaves behind. Reading stops, and the record's offset
 *   is stored in `info.truncatedAt`.
 */
import type { Readable } from 'node:stream';
import { RepriseError } from '../../errors.js';
import { ChunkQueue } from './chunk-queue.js';
import { readPcapRecords, type PcapVariant } from './pcap-records.js';
import { readPcapngBlocks } from './pcapng-blocks.js';

export interface RawPacket {
  /** Capture timestamp, integer microseconds since the Unix epoch. */
  ts: number;
  /** LINKTYPE_* value of the interface the packet was captured on. */
  linkType: number;
  /** The captured bytes (at most snaplen); may be a view into a larger buffer. */
  data: Buffer;
  /** Length of the packet on the wire (≥ data.length unless the writer lied). */
  origLength: number;
  /** pcapng interface index within its section; 0 for classic pcap. */
  interfaceId: number;
  /** Byte offset of the record (pcap record header or pcapng block) in the input. */
  offset: number;
}

export type CaptureFormat = 'pcap' | 'pcapng';

/** Facts about the input learned while reading it; inspect after the iteration ends. */
export interface CaptureFileInfo {
  format: CaptureFormat | undefined;
  /** Offset of a final record cut short by the end of the input (a killed or still-running capture). */
  truncatedAt: number | undefined;
}

export interface ReadPacketsOptions {
  /** Shown in error locations: a path, or '-' for stdin. */
  name: string;
  /** Filled in while reading. */
  info?: CaptureFileInfo;
}

/**
 * The largest record we accept. Real snap lengths top out at 256 KiB (libpcap's
 * MAXIMUM_SNAPLEN); 256 MiB leaves room for odd writers and still refuses
 * lengths that can only come from corruption. The bytes must also really
 * arrive before anything is allocated for them.
 */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/** What the format readers share: the byte source, the file name for errors, the info to fill. */
export interface ReaderContext {
  queue: ChunkQueue;
  info: CaptureFileInfo;
  invalid(message: string, offset: number): RepriseError;
  unsupported(message: string, offset: number): RepriseError;
}

export function newCaptureFileInfo(): CaptureFileInfo {
  return { format: undefined, truncatedAt: undefined };
}

/**
 * The packets of a pcap or pcapng capture, read incrementally from any byte stream.
 *
 * @example
 * const info = newCaptureFileInfo();
 * for await (const p of readPackets(createReadStream('dump.pcap'), { name: 'dump.pcap', info })) {
 *   console.log(p.ts, p.linkType, p.data.length);
 * }
 * if (info.truncatedAt !== undefined) console.log(`last record cut at byte ${info.truncatedAt}`);
 */
export async function* readPackets(input: Readable, options: ReadPacketsOptions): AsyncGenerator<RawPacket> {
  const queue = new ChunkQueue(input);
  const info = options.info ?? newCaptureFileInfo();
  const where = (offset: number) => ({ location: { file: options.name, offset } });
  const ctx: ReaderContext = {
    queue,
    info,
    invalid: (message, offset) => new RepriseError('PCAP_INVALID', message, where(offset)),
    unsupported: (message, offset) => new RepriseError('PCAP_UNSUPPORTED', message, where(offset)),
  };
  try {
    await queue.fill(4);
    if (queue.length < 4) {
      throw ctx.invalid(`not a pcap or pcapng file (only ${queue.length} byte${queue.length === 1 ? '' : 's'} of input)`, 0);
    }
    const magic = queue.peek(4);
    if (magic.readUInt32BE(0) === PCAPNG_SHB) {
      info.format = 'pcapng';
      yield* readPcapngBlocks(ctx);
      return;
    }
    const variant = pcapVariant(magic);
    if (variant === undefined) {
      throw ctx.invalid(`not a pcap or pcapng file (magic 0x${magic.toString('hex')})`, 0);
    }
    info.format = 'pcap';
    yield* readPcapRecords(ctx, variant);
  } finally {
    await queue.close();
  }
}

/** Block type of a pcapng Section Header Block; the same bytes in either byte order. */
const PCAPNG_SHB = 0x0a0d0d0a;

const PCAP_MAGICS: ReadonlyMap<number, Omit<PcapVariant, 'littleEndian'>> = new Map([
  [0xa1b2c3d4, { nanos: false, modified: false }],
  [0xa1b23c4d, { nanos: true, modified: false }],
  // Alexey Kuznetzov's patched libpcap: µs, with 8 extra bytes per record header.
  [0xa1b2cd34, { nanos: false, modified: true }],
]);

function pcapVariant(magic: Buffer): PcapVariant | undefined {
  const be = PCAP_MAGICS.get(magic.readUInt32BE(0));
  if (be) return { ...be, littleEndian: false };
  const le = PCAP_MAGICS.get(magic.readUInt32LE(0));
  if (le) return { ...le, littleEndian: true };
  return undefined;
}
