import { describe, expect, it } from 'vitest';
import { normalizeIp } from '../../../capture/pcap/ip-address.js';
import { PacketDecoder } from '../../../capture/pcap/packet-decoder.js';
import { compileSegmentFilter } from '../../../capture/pcap/packet-filter.js';
import { newPacketStats } from '../../../capture/pcap/packet-stats.js';
import { decapsulateVxlan } from '../../../capture/pcap/vxlan.js';
import { RepriseError } from '../../../errors.js';
import { ETH_IPV4, ethernet, ipv4, ipv4Fragments, ipv6, ipv6Bytes, nflog, nflogTlv, tcp, udp, vxlan } from './pcap-builder.js';

/** Frame-level decoding without files: fragments and their bounds, VXLAN, header checks, filters. */

const T = 1_700_000_000_000_000;
const spec = { ts: T, src: '10.0.0.1', dst: '10.0.0.2', sport: 5000, dport: 80, seq: 10, ack: 20, flags: 0x18, payload: Buffer.alloc(200, 'p') };
const segmentIp = ipv4(spec.src, spec.dst, 6, tcp(spec));

function decoder(options: ConstructorParameters<typeof PacketDecoder>[1] = {}) {
  const stats = newPacketStats();
  return { stats, d: new PacketDecoder(stats, options) };
}

describe('PacketDecoder', () => {
  it('reassembles IPv4 fragments arriving in any order', () => {
    const { d, stats } = decoder();
    const frags = ipv4Fragments(spec.src, spec.dst, 6, segmentIp.subarray(20), 48);
    const order = [3, 0, 4, 2, 1];
    const out = order.map((i) => d.decodeFrame(1, ethernet(ETH_IPV4, frags[i]!), T + i));
    expect(out.slice(0, -1).every((s) => s === undefined)).toBe(true);
    expect(out.at(-1)).toMatchObject({ srcPort: 5000, seq: 10, payload: spec.payload });
    expect(stats.fragments).toBe(5);
    expect(stats.fragmentsReassembled).toBe(1);
  });

  it('drops fragments that time out (capture time), and incomplete ones at the end', () => {
    const { d, stats } = decoder({ fragments: { timeoutUs: 1_000_000 } });
    const frags = ipv4Fragments(spec.src, spec.dst, 6, segmentIp.subarray(20), 48, 7);
    d.decodeFrame(1, ethernet(ETH_IPV4, frags[0]!), T);
    d.decodeFrame(1, ethernet(ETH_IPV4, frags[1]!), T + 10);
    // 2 s later the rest arrives: the first two were given up on, so this cannot complete.
    for (const f of frags.slice(2)) expect(d.decodeFrame(1, ethernet(ETH_IPV4, f), T + 2_000_000)).toBeUndefined();
    expect(stats.drops['fragment-timeout']).toBe(2);
    d.flush();
    expect(stats.drops['fragment-timeout']).toBe(5);
  });

  it('bounds fragment memory and the number of datagrams in progress', () => {
    const { d, stats } = decoder({ fragments: { maxBytes: 4096, maxDatagrams: 8 } });
    // 100 datagrams that never complete (only their first fragment arrives).
    for (let id = 0; id < 100; id++) {
      const first = ipv4Fragments(spec.src, spec.dst, 6, Buffer.alloc(3000), 1480, id)[0]!;
      d.decodeFrame(1, ethernet(ETH_IPV4, first), T + id);
    }
    expect(stats.drops['fragment-memory']).toBeGreaterThanOrEqual(97);
    d.flush();
    expect((stats.drops['fragment-memory'] ?? 0) + (stats.drops['fragment-timeout'] ?? 0)).toBe(100);
  });

  it('drops a datagram whose fragments disagree about its length, or pass 64 KiB', () => {
    const { d, stats } = decoder();
    const last = ipv4(spec.src, spec.dst, 6, Buffer.alloc(16), { id: 1, offset: 64, more: false });
    const beyond = ipv4(spec.src, spec.dst, 6, Buffer.alloc(16), { id: 1, offset: 80, more: true });
    d.decodeFrame(1, ethernet(ETH_IPV4, last), T);
    d.decodeFrame(1, ethernet(ETH_IPV4, beyond), T);
    expect(stats.drops['bad-ip-header']).toBe(2);
    const huge = ipv4(spec.src, spec.dst, 6, Buffer.alloc(16), { id: 2, offset: 65528, more: false });
    d.decodeFrame(1, ethernet(ETH_IPV4, huge), T);
    expect(stats.drops['bad-ip-header']).toBe(3);
  });

  it('counts bad and truncated headers instead of throwing', () => {
    const { d, stats } = decoder();
    const badIhl = Buffer.from(segmentIp);
    badIhl.writeUInt8(0x44, 0);
    const shortTotal = Buffer.from(segmentIp);
    shortTotal.writeUInt16BE(10, 2);
    const badOffset = Buffer.from(segmentIp);
    badOffset.writeUInt8(0x30, 20 + 12);
    const v6Claim = Buffer.from(segmentIp);
    for (const [frame, linkType] of [
      [badIhl, 101],
      [shortTotal, 101],
      [badOffset, 101],
      [v6Claim, 229],
      [segmentIp.subarray(0, 30), 101],
      [Buffer.from([0x08]), 0],
      [ethernet(0x0806, Buffer.alloc(28)), 1],
      [ipv4(spec.src, spec.dst, 1, Buffer.alloc(8)), 101],
      [Buffer.alloc(10), 147],
      [Buffer.alloc(10), 147],
    ] as const) {
      expect(d.decodeFrame(linkType, frame, T)).toBeUndefined();
    }
    expect(stats.drops).toEqual({ 'bad-ip-header': 3, 'bad-tcp-header': 1, 'truncated-frame': 2, 'not-ip': 1, 'not-tcp': 1, 'unsupported-linktype': 2 });
    expect(stats.unsupportedLinkTypes).toEqual([147]);
  });

  it('trusts the IP length over Ethernet padding, and over a short TSO length of 0', () => {
    const { d } = decoder();
    const small = ipv4(spec.src, spec.dst, 6, tcp({ ...spec, payload: Buffer.from('hi') }));
    expect(d.decodeFrame(1, ethernet(ETH_IPV4, small), T)?.payload.toString()).toBe('hi');
    const tso = Buffer.from(segmentIp);
    tso.writeUInt16BE(0, 2);
    expect(d.decodeFrame(101, tso, T)?.payload.length).toBe(200);
  });

  it('NFLOG: the packet is the payload TLV; every TLV length is checked against the frame', () => {
    const { d, stats } = decoder();
    const v6 = ipv6('2001:db8::1', '2001:db8::2', 6, tcp(spec));
    expect(d.decodeFrame(239, nflog(2, segmentIp), T)).toMatchObject({ srcIp: '10.0.0.1', dstPort: 80, payload: spec.payload });
    expect(d.decodeFrame(239, nflog(10, v6), T)).toMatchObject({ srcIp: '2001:db8::1', payload: spec.payload });
    // IP length 0 (a TSO frame) runs to the end of the payload TLV, not into the TLV after it.
    const tso = Buffer.from(segmentIp);
    tso.writeUInt16BE(0, 2);
    expect(d.decodeFrame(239, nflog(2, tso, [nflogTlv(11, Buffer.alloc(4, 0xee))]), T)?.payload).toEqual(spec.payload);
    expect(stats.drops).toEqual({});
    expect(stats.payloadCut).toBe(0);

    // Cut by the snap length inside the payload: the segment keeps what was captured, like any link type.
    const full = nflog(2, segmentIp);
    expect(d.decodeFrame(239, full.subarray(0, full.length - 50), T)?.payload).toEqual(spec.payload.subarray(0, 150));
    expect(stats.payloadCut).toBe(1);

    const header = Buffer.from([2, 0, 0, 0]);
    const zeroLength = Buffer.concat([header, Buffer.from([0, 0, 9, 0])]);
    const cutBeforePayload = full.subarray(0, 20);
    const noPayload = Buffer.concat([header, nflogTlv(10, Buffer.from('only a prefix'))]);
    const emptyPayload = Buffer.concat([header, nflogTlv(9, Buffer.alloc(0))]);
    for (const frame of [Buffer.from([2, 0]), cutBeforePayload, noPayload, emptyPayload]) expect(d.decodeFrame(239, frame, T)).toBeUndefined();
    for (const frame of [zeroLength, nflog(7, segmentIp)]) expect(d.decodeFrame(239, frame, T)).toBeUndefined();
    expect(stats.drops).toEqual({ 'truncated-frame': 4, 'not-ip': 2 });
    expect(stats.unsupportedLinkTypes).toEqual([]);
  });

  it('VXLAN: the UDP-payload entry point, custom ports, and a nesting bound', () => {
    const inner = ethernet(ETH_IPV4, segmentIp);
    const { d, stats } = decoder({ vxlanPorts: [8472] });
    expect(d.decodeVxlanPayload(vxlan(inner), T)).toMatchObject({ srcIp: '10.0.0.1', dstPort: 80, frameBytes: inner.length + 8 });
    const outer = (frame: Buffer) => ethernet(ETH_IPV4, ipv4('1.1.1.1', '2.2.2.2', 17, udp(1, 8472, vxlan(frame))));
    expect(d.decodeFrame(1, outer(inner), T)?.seq).toBe(10);
    expect(d.decodeFrame(1, outer(outer(outer(inner))), T)?.seq).toBe(10);
    expect(d.decodeFrame(1, outer(outer(outer(outer(inner)))), T)).toBeUndefined();
    expect(stats.drops).toEqual({ 'not-tcp': 1 });
    expect(decapsulateVxlan(Buffer.alloc(7))).toBe('truncated-frame');
    expect(decapsulateVxlan(Buffer.alloc(16))).toBe('not-tcp'); // I flag not set
  });

  it('formats IPv6 addresses the RFC 5952 way', () => {
    const { d } = decoder();
    const cases = ['::1', '2001:db8::1', '2001:db8:0:1:0:0:0:1', '2001:0:0:1::1', 'fe80::1:0:0:0', '1:2:3:4:5:6:7:8', '::ffff:a00:1'];
    for (const text of cases) {
      const packet = ipv6(text, '::', 6, tcp(spec));
      const seg = d.decodeFrame(229, packet, T);
      expect(seg?.srcIp).toBe(normalizeIp(text));
      expect(ipv6Bytes(seg!.srcIp).equals(packet.subarray(8, 24))).toBe(true);
    }
    expect(normalizeIp('2001:0DB8:0000:0000:0001:0000:0000:0001')).toBe('2001:db8::1:0:0:1');
    expect(normalizeIp('::ffff:10.0.0.1')).toBe('::ffff:a00:1');
    expect(normalizeIp('fe80::1%eth0')).toBe('fe80::1');
    expect(normalizeIp('10.0.0.256')).toBeUndefined();
  });
});

describe('compileSegmentFilter', () => {
  it('reports every problem at once', () => {
    try {
      compileSegmentFilter({ ports: [80, 70000], hosts: ['example.com', '10.0.0.1'], from: 10, to: 5 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RepriseError);
      expect((err as RepriseError).code).toBe('FILTER_INVALID');
      expect((err as RepriseError).message).toMatch(/70000.*example\.com.*from \(10\) is after to \(5\)/);
    }
  });

  it('matches either endpoint; hosts and ports together must both match', () => {
    const f = compileSegmentFilter({ hosts: ['2001:DB8::1'], ports: [443] });
    const s = { ts: 0, srcIp: '10.0.0.9', dstIp: '2001:db8::1', srcPort: 443, dstPort: 1, seq: 0, ack: 0, flags: 0, payload: Buffer.alloc(0), frameBytes: 0 };
    expect(f.matches(s)).toBe(true);
    expect(f.matches({ ...s, srcPort: 80 })).toBe(false);
    expect(f.matches({ ...s, dstIp: '10.0.0.8' })).toBe(false);
    const w = compileSegmentFilter({ from: 100, to: 200 });
    expect([99, 100, 199, 200].map((t) => w.inTimeWindow(t))).toEqual([false, true, true, false]);
  });
});
