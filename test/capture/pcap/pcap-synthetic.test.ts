import { describe, expect, it } from 'vitest';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN } from '../../../capture/pcap/tcp-segment.js';
import {
  ETH_IPV4,
  ETH_IPV6,
  ethernet,
  ipv4,
  ipv4Fragments,
  ipv6,
  ipv6Extension,
  ipv6FragmentHeader,
  nflog,
  nflogTlv,
  nullLink,
  pcapFile,
  pcapngFile,
  readAll,
  sll,
  sll2,
  tcp,
  udp,
  view,
  vxlan,
  type SegmentSpec,
} from './pcap-builder.js';

/**
 * One TCP conversation written every way the reader supports must come out as
 * the same TcpSegment sequence (frameBytes aside, which is link-specific).
 */

const A = '10.0.0.1';
const B = '192.168.7.20';
const A6 = '2001:db8::a';
const B6 = '2001:db8:0:1::b';
const T0 = 1_700_000_000_123_456;

const request = Buffer.from('GET /hello HTTP/1.1\r\nHost: b\r\n\r\n');
const response = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2600\r\n\r\n'), Buffer.alloc(2600, 'x')]);

function flow(): SegmentSpec[] {
  const seg = (i: number, fromA: boolean, seq: number, ack: number, flags: number, payload = Buffer.alloc(0)): SegmentSpec => ({
    ts: T0 + i * 1001,
    src: fromA ? A : B,
    dst: fromA ? B : A,
    sport: fromA ? 51000 : 80,
    dport: fromA ? 80 : 51000,
    seq: seq >>> 0,
    ack: ack >>> 0,
    flags,
    payload,
  });
  const a = 0xfffffff0; // wraps during the conversation: must stay unsigned
  const b = 7;
  return [
    seg(0, true, a, 0, TCP_SYN),
    seg(1, false, b, a + 1, TCP_SYN | TCP_ACK),
    seg(2, true, a + 1, b + 1, TCP_ACK),
    seg(3, true, a + 1, b + 1, TCP_PSH | TCP_ACK, request),
    seg(4, false, b + 1, a + 1 + request.length, TCP_PSH | TCP_ACK, response),
    seg(5, true, a + 1 + request.length, b + 1 + response.length, TCP_FIN | TCP_ACK),
    seg(6, false, b + 1 + response.length, a + 2 + request.length, TCP_FIN | TCP_ACK),
    seg(7, true, a + 2 + request.length, b + 2 + response.length, TCP_ACK),
  ];
}

const expected = flow().map((s) => ({
  ts: s.ts,
  srcIp: s.src,
  dstIp: s.dst,
  srcPort: s.sport,
  dstPort: s.dport,
  seq: s.seq,
  ack: s.ack,
  flags: s.flags,
  payload: s.payload.toString('hex'),
}));

const ip4 = (s: SegmentSpec, i: number) => ipv4(s.src, s.dst, 6, tcp(s, { withOptions: i % 2 === 0 }));
const to6 = (ip: string) => (ip === A ? A6 : B6);
const from6 = (ip: string) => (ip === A6 ? A : ip === B6 ? B : ip);
const ip6 = (s: SegmentSpec) => ipv6(to6(s.src), to6(s.dst), 6, tcp(s));
const records = (frames: Buffer[]) => flow().map((s, i) => ({ ts: s.ts, data: frames[i]! }));
const frames = (wrap: (ip: Buffer, s: SegmentSpec, i: number) => Buffer) => flow().map((s, i) => wrap(ip4(s, i), s, i));

const variants: [string, () => Buffer][] = [
  ['pcap µs LE, Ethernet', () => pcapFile(1, records(frames((ip) => ethernet(ETH_IPV4, ip))))],
  ['pcap ns BE, Ethernet', () => pcapFile(1, records(frames((ip) => ethernet(ETH_IPV4, ip))), { nanos: true, bigEndian: true })],
  ['pcap, Linux SLL', () => pcapFile(113, records(frames((ip) => sll(ETH_IPV4, ip))))],
  ['pcap, Linux SLL2', () => pcapFile(276, records(frames((ip) => sll2(ETH_IPV4, ip))))],
  ['pcap, NULL little-endian', () => pcapFile(0, records(frames((ip) => nullLink(2, ip))))],
  ['pcap BE, NULL big-endian', () => pcapFile(0, records(frames((ip) => nullLink(2, ip, false))), { bigEndian: true })],
  ['pcap, LOOP', () => pcapFile(108, records(frames((ip) => nullLink(2, ip, false))))],
  // A TLV after the payload (NFULA_UID) is not part of the IP packet.
  ['pcap, NFLOG', () => pcapFile(239, records(frames((ip, _s, i) => nflog(2, ip, i % 2 ? [nflogTlv(11, Buffer.from([0, 0, 3, 232]))] : []))))],
  ['pcap, RAW', () => pcapFile(101, records(frames((ip) => ip)))],
  ['pcap, IPV4', () => pcapFile(228, records(frames((ip) => ip)))],
  ['802.1Q', () => pcapFile(1, records(frames((ip) => ethernet(ETH_IPV4, ip, [{ tpid: 0x8100, vid: 42 }]))))],
  [
    'QinQ (0x88a8 + 0x8100) and a 0x9100 stack',
    () =>
      pcapFile(
        1,
        records(
          frames((ip, _s, i) =>
            ethernet(ETH_IPV4, ip, i % 2 ? [{ tpid: 0x88a8, vid: 200 }, { tpid: 0x8100, vid: 7 }] : [{ tpid: 0x9100, vid: 1 }, { tpid: 0x9100, vid: 2 }, { tpid: 0x8100, vid: 3 }]),
          ),
        ),
      ),
  ],
  [
    'SLL with an 802.1Q tag',
    () => pcapFile(113, records(frames((ip) => sll(0x8100, Buffer.concat([Buffer.from([0, 5, 0x08, 0x00]), ip])))))],
  [
    'VXLAN-wrapped Ethernet',
    () => pcapFile(1, records(frames((ip) => ethernet(ETH_IPV4, ipv4('172.31.0.9', '172.31.0.10', 17, udp(40123, 4789, vxlan(ethernet(ETH_IPV4, ip, [{ tpid: 0x8100, vid: 9 }]))))))))],
  [
    'pcapng, 2 interfaces (Ethernet µs, SLL with if_tsresol 9)',
    () =>
      pcapngFile([
        {
          interfaces: [{ linkType: 1 }, { linkType: 113, tsresol: 9 }],
          blocks: frames((ip, _s, i) => (i % 2 ? sll(ETH_IPV4, ip) : ethernet(ETH_IPV4, ip))).map((data, i) => ({ kind: 'epb', iface: i % 2, ts: flow()[i]!.ts, data })),
        },
      ]),
  ],
  [
    'pcapng, two sections (LE then BE), if_tsresol 2^-30, unknown blocks between',
    () => {
      const f = frames((ip) => ethernet(ETH_IPV4, ip));
      const epb = (i: number) => ({ kind: 'epb' as const, iface: 0, ts: flow()[i]!.ts, data: f[i]! });
      const nrb = { kind: 'other' as const, type: 4, body: Buffer.alloc(4) };
      const custom = { kind: 'other' as const, type: 0x40000bad, body: Buffer.from('private data, 27 bytes long') };
      return pcapngFile([
        { interfaces: [{ linkType: 1 }], blocks: [nrb, epb(0), epb(1), custom, epb(2)] },
        { bigEndian: true, interfaces: [{ linkType: 101 }, { linkType: 1, tsresol: 0x80 | 30 }], blocks: [3, 4, 5, 6, 7].map((i) => ({ ...epb(i), iface: 1 })) },
      ]);
    },
  ],
];

describe('the same TCP conversation in every supported container', () => {
  for (const [name, build] of variants) {
    it(name, async () => {
      const { segments, stats } = await readAll(build());
      const got = segments.map(view);
      if (name.includes('2^-30')) {
        // 2^-30 s units cannot express every µs: allow the one-µs rounding.
        got.forEach((g, i) => expect(Math.abs(g.ts - expected[i]!.ts)).toBeLessThanOrEqual(1));
        got.forEach((g, i) => (g.ts = expected[i]!.ts));
      }
      expect(got).toEqual(expected);
      expect(stats.drops).toEqual({});
      expect(stats.segments).toBe(expected.length);
    });
  }

  it('IPv4-fragmented (16-byte fragments, some out of order, interleaved with whole packets)', async () => {
    const recs: { ts: number; data: Buffer }[] = [];
    flow().forEach((s, i) => {
      const whole = ip4(s, i);
      if (i % 3 === 2) return recs.push({ ts: s.ts, data: ethernet(ETH_IPV4, whole) });
      const frags = ipv4Fragments(s.src, s.dst, 6, whole.subarray(20), i === 4 ? 1480 : 16, 100 + i);
      if (i % 2) frags.reverse();
      // All fragments of one datagram share the datagram's final timestamp in this capture.
      for (const f of frags) recs.push({ ts: s.ts, data: ethernet(ETH_IPV4, f) });
    });
    const { segments, stats } = await readAll(pcapFile(1, recs));
    expect(segments.map(view)).toEqual(expected);
    expect(stats.fragmentsReassembled).toBe(6);
    expect(stats.drops).toEqual({});
  });

  it('IPv6, plain and with extension headers, atomic fragments and real fragments', async () => {
    const recs = flow().map((s, i) => {
      const t = tcp(s);
      // Hop-by-hop → routing → destination options → TCP.
      if (i === 0) return [ipv6(to6(s.src), to6(s.dst), 0, Buffer.concat([ipv6Extension(43), ipv6Extension(60, 16), ipv6Extension(6), t]))];
      if (i === 1) return [ipv6(to6(s.src), to6(s.dst), 44, Buffer.concat([ipv6FragmentHeader(6, 0, false, 9), t]))];
      if (i === 3 || i === 4) {
        // Real fragmentation; the fragmentable part starts with a destination-options header.
        const part = Buffer.concat([ipv6Extension(6), t]);
        const size = i === 3 ? 24 : 1232;
        const out: Buffer[] = [];
        for (let at = 0; at < part.length; at += size) {
          const more = at + size < part.length;
          out.push(ipv6(to6(s.src), to6(s.dst), 44, Buffer.concat([ipv6FragmentHeader(60, at, more, 0xabc0 + i), part.subarray(at, at + size)])));
        }
        return i === 4 ? out.reverse() : out;
      }
      return [ip6(s)];
    });
    const flat = recs.flatMap((ips, i) => ips.map((ip) => ({ ts: flow()[i]!.ts, data: ethernet(ETH_IPV6, ip) })));
    const { segments, stats } = await readAll(pcapFile(1, flat));
    expect(segments.map((s) => ({ ...view(s), srcIp: from6(s.srcIp), dstIp: from6(s.dstIp) }))).toEqual(expected);
    expect(segments[0]?.srcIp).toBe(A6);
    expect(segments[1]?.srcIp).toBe('2001:db8:0:1::b');
    expect(stats.fragmentsReassembled).toBe(2);
    expect(stats.drops).toEqual({});
  });

  it('IPv6 on RAW, IPV6 (229), NULL with each BSD AF_INET6 value, and NFLOG', async () => {
    for (const [linkType, wrap] of [
      [101, (ip: Buffer) => ip],
      [229, (ip: Buffer) => ip],
      [0, (ip: Buffer, i: number) => nullLink([24, 28, 30][i % 3]!, ip, i % 2 === 0)],
      [239, (ip: Buffer) => nflog(10, ip)],
    ] as const) {
      const { segments } = await readAll(pcapFile(linkType, flow().map((s, i) => ({ ts: s.ts, data: wrap(ip6(s), i) }))));
      expect(segments.map((s) => ({ ...view(s), srcIp: from6(s.srcIp), dstIp: from6(s.dstIp) }))).toEqual(expected);
    }
  });
});
