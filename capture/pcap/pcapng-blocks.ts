/**
 * pcapng block reader.
 *
 * Structure: a sequence of blocks, each
 *
 *     0 block type   4 total length   8 body …   (length − 4) total length again
 *
 * with the length a multiple of 4 and at least 12. Blocks belong to sections:
 *
 *   SHB 0x0A0D0D0A  section header. The type reads the same in both byte orders;
 *                   the byte-order magic 0x1A2B3C4D at offset 8 tells the order of
 *                   everything up to the next SHB. Version must be 1.x. A new SHB
 *                   starts a new section, and interface numbering starts again.
 *   IDB 1           interface description: link type(2) reserved(2) snaplen(4) options.
 *                   The n-th IDB of a section is interface n. Options read:
 *                   if_tsresol (9; 10^-v, or 2^-(v&0x7f) with the high bit set;
 *                   default µs) and if_tsoffset (14; seconds added to timestamps).
 *   EPB 6           enhanced packet: interface(4) ts high(4) ts low(4) caplen(4)
 *                   origlen(4) data, padded to 4, options.
 *   OPB 2           obsolete packet: interface(2) drops(2) ts high ts low caplen origlen data.
 *   SPB 3           simple packet: origlen(4) data. Interface 0; captured length is
 *                   min(origlen, IDB 0's snaplen, room in the block). It has no
 *                   timestamp: it gets the timestamp of the packet before it.
 *   anything else   (name resolution, statistics, secrets, custom) is skipped by length
 *                   without being buffered.
 *
 * The reader's states: at a block boundary it needs 12 bytes (type, length and,
 * for an SHB, the byte-order magic); then it needs the whole block. Running out
 * of input with bytes left over in either state is a truncated final block.
 */
import type { RawPacket, ReaderContext } from './capture-reader.js';
import { MAX_RECORD_BYTES } from './capture-reader.js';

const SHB = 0x0a0d0d0a;
const IDB = 1;
const OPB = 2;
const SPB = 3;
const EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_TSRESOL = 9;
const OPT_TSOFFSET = 14;

/** Smallest legal total length per block type: header, fixed fields, trailer. */
const MIN_LENGTH: Record<number, number> = { [SHB]: 28, [IDB]: 20, [OPB]: 32, [SPB]: 16, [EPB]: 32 };

interface Interface {
  linkType: number;
  snapLen: number;
  /** Timestamp units per second (10^6 unless if_tsresol says otherwise). */
  unitsPerSecond: bigint;
  /** if_tsoffset in µs. */
  offsetMicros: number;
}

export async function* readPcapngBlocks(ctx: ReaderContext): AsyncGenerator<RawPacket> {
  const { queue, info } = ctx;
  let le = true;
  let interfaces: Interface[] = [];
  let lastTs = 0;

  for (;;) {
    const offset = queue.offset;
    if (!(await queue.fill(12))) {
      if (offset === 0) throw ctx.invalid(`capture file ends inside its first section header (${queue.length} bytes)`, 0);
      if (queue.length > 0) info.truncatedAt = offset;
      return;
    }
    const head = queue.peek(12);
    const isSection = head.readUInt32BE(0) === SHB;
    if (isSection) {
      if (head.readUInt32LE(8) === BYTE_ORDER_MAGIC) le = true;
      else if (head.readUInt32BE(8) === BYTE_ORDER_MAGIC) le = false;
      else throw ctx.invalid(`pcapng section header has a bad byte-order magic 0x${head.toString('hex', 8, 12)}`, offset);
      interfaces = [];
    }
    const u32 = le ? (b: Buffer, at: number) => b.readUInt32LE(at) : (b: Buffer, at: number) => b.readUInt32BE(at);
    const u16 = le ? (b: Buffer, at: number) => b.readUInt16LE(at) : (b: Buffer, at: number) => b.readUInt16BE(at);
    const type = u32(head, 0);
    const length = u32(head, 4);
    const min = MIN_LENGTH[type] ?? 12;
    if (length < min || length % 4 !== 0 || length > MAX_RECORD_BYTES) {
      throw ctx.invalid(`pcapng block of type 0x${type.toString(16)} has an impossible length ${length}`, offset);
    }
    if (min === 12 && type !== SHB) {
      // Not a block we read: let it stream past instead of buffering it.
      if (!(await queue.skip(length))) {
        info.truncatedAt = offset;
        return;
      }
      continue;
    }
    if (!(await queue.fill(length))) {
      if (offset === 0) throw ctx.invalid(`capture file ends inside its first section header (${queue.length} of ${length} bytes)`, 0);
      info.truncatedAt = offset;
      return;
    }
    const block = queue.take(length);
    if (u32(block, length - 4) !== length) {
      throw ctx.invalid(`pcapng block length ${length} does not match its trailer ${u32(block, length - 4)}`, offset);
    }

    if (type === SHB) {
      const major = u16(block, 12);
      if (major !== 1) throw ctx.unsupported(`pcapng version ${major}.${u16(block, 14)} is not supported (only 1.x)`, offset);
      continue;
    }
    if (type === IDB) {
      const iface: Interface = { linkType: u16(block, 8), snapLen: u32(block, 12), unitsPerSecond: 1_000_000n, offsetMicros: 0 };
      forEachOption(block, 16, length - 4, u16, (code, value) => {
        if (code === OPT_TSRESOL && value.length >= 1) {
          const v = value.readUInt8(0);
          iface.unitsPerSecond = v & 0x80 ? 2n ** BigInt(v & 0x7f) : 10n ** BigInt(v);
        } else if (code === OPT_TSOFFSET && value.length >= 8) {
          const seconds = le ? value.readBigInt64LE(0) : value.readBigInt64BE(0);
          iface.offsetMicros = Number(seconds) * 1_000_000;
        }
      });
      interfaces.push(iface);
      continue;
    }

    // A packet block: EPB, OPB or SPB.
    let interfaceId: number;
    let capLength: number;
    let origLength: number;
    let dataAt: number;
    let ts: number | undefined;
    if (type === SPB) {
      interfaceId = 0;
      origLength = u32(block, 8);
      dataAt = 12;
      const snap = interfaces[0]?.snapLen ?? 0;
      capLength = Math.min(origLength, length - 16, snap === 0 ? Infinity : snap);
    } else {
      interfaceId = type === EPB ? u32(block, 8) : u16(block, 8);
      capLength = u32(block, 20);
      origLength = u32(block, 24);
      dataAt = 28;
      if (capLength > length - 32) {
        throw ctx.invalid(`pcapng packet block of ${length} bytes claims ${capLength} captured bytes`, offset);
      }
    }
    const iface = interfaces[interfaceId];
    if (iface === undefined) {
      throw ctx.invalid(`pcapng packet refers to interface ${interfaceId}, but the section describes ${interfaces.length}`, offset);
    }
    if (type !== SPB) ts = toMicros(u32(block, 12), u32(block, 16), iface);
    lastTs = ts ?? lastTs;
    yield {
      ts: lastTs,
      linkType: iface.linkType,
      data: block.subarray(dataAt, dataAt + capLength),
      origLength,
      interfaceId,
      offset,
    };
  }
}

/** Calls `fn` for each option in block[start, end); malformed trailing options are ignored. */
function forEachOption(
  block: Buffer,
  start: number,
  end: number,
  u16: (b: Buffer, at: number) => number,
  fn: (code: number, value: Buffer) => void,
): void {
  let at = start;
  while (at + 4 <= end) {
    const code = u16(block, at);
    const length = u16(block, at + 2);
    if (code === 0 || at + 4 + length > end) return; // opt_endofopt, or an option running past the block
    fn(code, block.subarray(at + 4, at + 4 + length));
    at += 4 + Math.ceil(length / 4) * 4;
  }
}

/** A 64-bit timestamp in the interface's units → integer µs since the epoch. */
function toMicros(high: number, low: number, iface: Interface): number {
  // Fast path: µs resolution and a value that fits a double exactly (until year 2255).
  if (iface.unitsPerSecond === 1_000_000n && high < 0x200000) return high * 0x1_0000_0000 + low + iface.offsetMicros;
  const units = (BigInt(high) << 32n) | BigInt(low);
  return Number((units * 1_000_000n) / iface.unitsPerSecond) + iface.offsetMicros;
}
