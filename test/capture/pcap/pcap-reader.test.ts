import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_RECORD_BYTES, newCaptureFileInfo, readPackets, type RawPacket } from '../../../capture/pcap/capture-reader.js';
import { RepriseError } from '../../../errors.js';
import { ETH_IPV4, ethernet, ipv4, pcapFile, pcapngFile, readAll, tcp } from './pcap-builder.js';

/** Format-level behaviour of readPackets: what is an error, what is a truncation, the odd block types. */

const seg = { ts: 1_600_000_000_000_001, src: '10.1.1.1', dst: '10.1.1.2', sport: 1234, dport: 80, seq: 1, ack: 0, flags: 2, payload: Buffer.alloc(0) };
const frame = (i: number) => ethernet(ETH_IPV4, ipv4(seg.src, seg.dst, 6, tcp({ ...seg, seq: i, payload: Buffer.from(`payload ${i}`) })));

async function packets(buf: Buffer, info = newCaptureFileInfo()): Promise<RawPacket[]> {
  const out: RawPacket[] = [];
  for await (const p of readPackets(Readable.from([buf]), { name: 'x.pcap', info })) out.push(p);
  return out;
}

async function failure(buf: Buffer): Promise<RepriseError> {
  try {
    await packets(buf);
  } catch (err) {
    if (err instanceof RepriseError) return err;
    throw err;
  }
  throw new Error('expected a RepriseError');
}

describe('readPackets', () => {
  it('rejects a file that is not a capture, naming its magic and location', async () => {
    const err = await failure(Buffer.from('<html><body>not a capture</body></html>'));
    expect(err.code).toBe('PCAP_INVALID');
    expect(err.message).toBe('not a pcap or pcapng file (magic 0x3c68746d)');
    expect(err.location).toEqual({ file: 'x.pcap', offset: 0 });
    expect(err.where).toBe('x.pcap at byte 0');
    expect((await failure(Buffer.alloc(0))).message).toMatch(/only 0 bytes/);
  });

  it('rejects a file cut inside its header, pcap or pcapng', async () => {
    const pcap = pcapFile(1, [{ ts: seg.ts, data: frame(1) }]);
    expect((await failure(pcap.subarray(0, 23))).message).toMatch(/ends inside its pcap header/);
    const ng = pcapngFile([{ interfaces: [{ linkType: 1 }], blocks: [] }]);
    expect((await failure(ng.subarray(0, 20))).message).toMatch(/ends inside its first section header/);
  });

  it('stops quietly at a truncated final record and says where', async () => {
    const records = [1, 2, 3].map((i) => ({ ts: seg.ts + i, data: frame(i) }));
    const whole = pcapFile(1, records);
    const info = newCaptureFileInfo();
    const got = await packets(whole.subarray(0, whole.length - 5), info);
    expect(got).toHaveLength(2);
    expect(info.truncatedAt).toBe(got[1]!.offset + 16 + records[1]!.data.length);
    const clean = newCaptureFileInfo();
    expect(await packets(whole, clean)).toHaveLength(3);
    expect(clean).toEqual({ format: 'pcap', truncatedAt: undefined });
  });

  it('refuses an absurd record length before buffering anything for it', async () => {
    const whole = pcapFile(1, [1, 2].map((i) => ({ ts: seg.ts, data: frame(i) })));
    const secondAt = 24 + 16 + frame(1).length;
    whole.writeUInt32LE(MAX_RECORD_BYTES + 1, secondAt + 8);
    const err = await failure(whole);
    expect(err.code).toBe('PCAP_INVALID');
    expect(err.location?.offset).toBe(secondAt);
    // A large but allowed length in a short file is simply a truncated record.
    whole.writeUInt32LE(100_000_000, secondAt + 8);
    const info = newCaptureFileInfo();
    expect(await packets(whole, info)).toHaveLength(1);
    expect(info.truncatedAt).toBe(secondAt);
  });

  it('pcapng: impossible block lengths, trailer mismatch and unknown interfaces are PCAP_INVALID', async () => {
    const ng = pcapngFile([{ interfaces: [{ linkType: 1 }], blocks: [{ kind: 'epb', iface: 0, ts: seg.ts, data: frame(1) }] }]);
    const epbAt = 28 + 20;
    const odd = Buffer.from(ng);
    odd.writeUInt32LE(37, epbAt + 4);
    expect((await failure(odd)).location?.offset).toBe(epbAt);
    const small = Buffer.from(ng);
    small.writeUInt32LE(8, epbAt + 4);
    expect((await failure(small)).message).toMatch(/impossible length 8/);
    const trailer = Buffer.from(ng);
    trailer.writeUInt32LE(4, trailer.length - 4);
    expect((await failure(trailer)).message).toMatch(/does not match its trailer/);
    const iface = Buffer.from(ng);
    iface.writeUInt32LE(3, epbAt + 8);
    expect((await failure(iface)).message).toMatch(/interface 3, but the section describes 1/);
    const version = Buffer.from(ng);
    version.writeUInt16LE(2, 12);
    expect((await failure(version)).code).toBe('PCAP_UNSUPPORTED');
  });

  it('pcapng: simple packet blocks use interface 0 snaplen and the previous timestamp', async () => {
    const big = frame(9);
    const ng = pcapngFile([
      {
        interfaces: [{ linkType: 1, snapLen: 40 }],
        blocks: [
          { kind: 'epb', iface: 0, ts: seg.ts, data: big.subarray(0, 40), origLength: big.length },
          { kind: 'spb', data: big, origLength: big.length },
        ],
      },
    ]);
    const got = await packets(ng);
    expect(got.map((p) => [p.ts, p.data.length, p.origLength])).toEqual([
      [seg.ts, 40, big.length],
      [seg.ts, 40, big.length],
    ]);
  });

  it('pcapng: obsolete packet blocks, and statistics blocks skipped by length', async () => {
    const isb = { kind: 'other' as const, type: 5, body: Buffer.alloc(20) };
    const ng = pcapngFile([
      {
        interfaces: [{ linkType: 1 }, { linkType: 101, tsresol: 3 }],
        blocks: [isb, { kind: 'opb', iface: 1, ts: 1_600_000_000_123_000, data: Buffer.from([0x45]) }, isb],
      },
    ]);
    const got = await packets(ng);
    expect(got.map((p) => [p.interfaceId, p.linkType, p.ts])).toEqual([[1, 101, 1_600_000_000_123_000]]);
  });

  it('pcap with an FCS-flagged link type strips the FCS', async () => {
    const f = Buffer.concat([frame(1), Buffer.from('fcs!')]);
    const pcap = pcapFile(1 | 0x04000000 | (2 << 28), [{ ts: seg.ts, data: f }]);
    const got = await packets(pcap);
    expect(got[0]!.linkType).toBe(1);
    expect(got[0]!.data.length).toBe(f.length - 4);
  });

  it('snaplen-cut payloads are passed on and counted', async () => {
    const full = frame(7);
    const { segments, stats } = await readAll(pcapFile(1, [{ ts: seg.ts, data: full.subarray(0, full.length - 2), origLength: full.length }]));
    expect(segments[0]!.payload.toString()).toBe('payload');
    expect(stats.payloadCut).toBe(1);
    // Cut inside the TCP header: nothing to pass on.
    const short = await readAll(pcapFile(1, [{ ts: seg.ts, data: full.subarray(0, 14 + 20 + 10), origLength: full.length }]));
    expect(short.stats.drops).toEqual({ 'truncated-frame': 1 });
  });
});
