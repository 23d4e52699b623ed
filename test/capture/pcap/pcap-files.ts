/**
 * Capture files written in code — classic pcap (either byte order, µs or ns)
 * and pcapng (sections, interfaces with their own link type and if_tsresol,
 * EPB/SPB/OPB and unknown blocks) — and helpers that read one back.
 */
import { Readable } from 'node:stream';
import { newPacketStats, type PacketStats } from '../../../capture/pcap/packet-stats.js';
import { readTcpSegments, type ReadTcpSegmentsOptions } from '../../../capture/pcap/read-tcp-segments.js';
import type { TcpSegment } from '../../../capture/pcap/tcp-segment.js';

export interface CaptureRecord {
  ts: number;
  data: Buffer;
  origLength?: number;
}

export function pcapFile(linkType: number, records: CaptureRecord[], o: { nanos?: boolean; bigEndian?: boolean; snapLen?: number } = {}): Buffer {
  const w32 = (b: Buffer, v: number, at: number) => (o.bigEndian ? b.writeUInt32BE(v >>> 0, at) : b.writeUInt32LE(v >>> 0, at));
  const w16 = (b: Buffer, v: number, at: number) => (o.bigEndian ? b.writeUInt16BE(v, at) : b.writeUInt16LE(v, at));
  const header = Buffer.alloc(24);
  w32(header, o.nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(header, 2, 4);
  w16(header, 4, 6);
  w32(header, o.snapLen ?? 262144, 16);
  w32(header, linkType, 20);
  const parts: Buffer[] = [header];
  for (const r of records) {
    const h = Buffer.alloc(16);
    w32(h, Math.floor(r.ts / 1e6), 0);
    w32(h, o.nanos ? (r.ts % 1e6) * 1000 : r.ts % 1e6, 4);
    w32(h, r.data.length, 8);
    w32(h, r.origLength ?? r.data.length, 12);
    parts.push(h, r.data);
  }
  return Buffer.concat(parts);
}

export interface PcapngInterface {
  linkType: number;
  snapLen?: number;
  /** Raw if_tsresol byte; omitted means the default (µs). */
  tsresol?: number;
}

export type PcapngBlock =
  | { kind: 'epb'; iface: number; ts: number; data: Buffer; origLength?: number }
  | { kind: 'opb'; iface: number; ts: number; data: Buffer }
  | { kind: 'spb'; data: Buffer; origLength?: number }
  | { kind: 'other'; type: number; body: Buffer };

export interface PcapngSection {
  bigEndian?: boolean;
  interfaces: PcapngInterface[];
  blocks: PcapngBlock[];
}

export function pcapngFile(sections: PcapngSection[]): Buffer {
  const parts: Buffer[] = [];
  for (const section of sections) {
    const be = section.bigEndian ?? false;
    const w32 = (b: Buffer, v: number, at: number) => (be ? b.writeUInt32BE(v >>> 0, at) : b.writeUInt32LE(v >>> 0, at));
    const w16 = (b: Buffer, v: number, at: number) => (be ? b.writeUInt16BE(v, at) : b.writeUInt16LE(v, at));
    const block = (type: number, body: Buffer) => {
      const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
      const b = Buffer.alloc(12 + padded.length);
      w32(b, type, 0);
      w32(b, b.length, 4);
      padded.copy(b, 8);
      w32(b, b.length, b.length - 4);
      parts.push(b);
    };
    const shb = Buffer.alloc(16);
    w32(shb, 0x1a2b3c4d, 0);
    w16(shb, 1, 4);
    w16(shb, 0, 6);
    shb.writeBigInt64LE(-1n, 8);
    block(0x0a0d0d0a, shb);
    const units: bigint[] = [];
    for (const iface of section.interfaces) {
      const opts: Buffer[] = [];
      if (iface.tsresol !== undefined) {
        const o = Buffer.alloc(8);
        w16(o, 9, 0);
        w16(o, 1, 2);
        o.writeUInt8(iface.tsresol, 4);
        opts.push(o);
      }
      if (opts.length) opts.push(Buffer.alloc(4)); // opt_endofopt
      const body = Buffer.alloc(8);
      w16(body, iface.linkType, 0);
      w32(body, iface.snapLen ?? 262144, 4);
      block(1, Buffer.concat([body, ...opts]));
      const r = iface.tsresol ?? 6;
      units.push(r & 0x80 ? 2n ** BigInt(r & 0x7f) : 10n ** BigInt(r));
    }
    const stamp = (b: Buffer, at: number, iface: number, ts: number) => {
      const v = (BigInt(ts) * units[iface]!) / 1_000_000n;
      w32(b, Number(v >> 32n), at);
      w32(b, Number(v & 0xffffffffn), at + 4);
    };
    for (const blk of section.blocks) {
      if (blk.kind === 'epb' || blk.kind === 'opb') {
        const h = Buffer.alloc(20);
        if (blk.kind === 'epb') w32(h, blk.iface, 0);
        else w16(h, blk.iface, 0);
        stamp(h, 4, blk.iface, blk.ts);
        w32(h, blk.data.length, 12);
        w32(h, (blk.kind === 'epb' ? blk.origLength : undefined) ?? blk.data.length, 16);
        block(blk.kind === 'epb' ? 6 : 2, Buffer.concat([h, blk.data]));
      } else if (blk.kind === 'spb') {
        const h = Buffer.alloc(4);
        w32(h, blk.origLength ?? blk.data.length, 0);
        block(3, Buffer.concat([h, blk.data]));
      } else {
        block(blk.type, blk.body);
      }
    }
  }
  return Buffer.concat(parts);
}

/** Every segment of a capture held in memory (or any stream), and the stats. */
export async function readAll(
  input: Buffer | Readable,
  options: Partial<ReadTcpSegmentsOptions> = {},
): Promise<{ segments: TcpSegment[]; stats: PacketStats }> {
  const stats = newPacketStats();
  const segments: TcpSegment[] = [];
  const stream = Buffer.isBuffer(input) ? Readable.from([input]) : input;
  for await (const s of readTcpSegments(stream, { name: 'test.pcap', ...options }, stats)) segments.push({ ...s, payload: Buffer.from(s.payload) });
  return { segments, stats };
}

/** A segment as comparable plain data: no frameBytes (it differs per link layer), payload as hex. */
export function view(s: TcpSegment): Omit<TcpSegment, 'payload' | 'frameBytes'> & { payload: string } {
  const { frameBytes: _frameBytes, payload, ...rest } = s;
  return { ...rest, payload: payload.toString('hex') };
}
