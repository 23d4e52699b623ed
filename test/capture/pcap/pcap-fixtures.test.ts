import { execFile } from 'node:child_process';
import { existsSync, createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { newCaptureFileInfo, readPackets, type RawPacket } from '../../../capture/pcap/capture-reader.js';
import type { TcpSegment } from '../../../capture/pcap/tcp-segment.js';
import { readAll } from './pcap-builder.js';
import { sharedFixturesMissing, skipBecause } from '../../support/skip-reason.js';

/**
 * The public captures in ../shared/fixtures/pcaps (origin in its README.md).
 * The numbers below were checked against tshark 4.0.17 and tcpdump 4.99:
 * records = `tshark -r F -T fields -e frame.number | wc -l`; segments and
 * payload = the rows and the sum of tcp.len of `tshark -r F -Y tcp`. Where
 * tshark is installed, every segment is also compared field by field.
 */

const dir = fileURLToPath(new URL('../../../../shared/fixtures/pcaps/', import.meta.url));
const path = (name: string) => dir + name;

interface Expectation {
  file: string;
  format: 'pcap' | 'pcapng';
  linkType: number;
  records: number;
  segments: number;
  payload: number;
  drops?: Record<string, number>;
}

// prettier-ignore
const fixtures: Expectation[] = [
  { file: 'tcpdump/802.1ad_QinQ.pcap', format: 'pcap', linkType: 1, records: 2, segments: 0, payload: 0, drops: { 'not-ip': 2 } }, // ARP inside the tags
  { file: 'tcpdump/LINKTYPE_RAW_ipv4.pcap', format: 'pcap', linkType: 101, records: 1, segments: 0, payload: 0, drops: { 'not-tcp': 1 } }, // one DNS query
  { file: 'tcpdump/ipv4_tcp_http_xml_tso.pcap', format: 'pcap', linkType: 1, records: 1, segments: 1, payload: 1976 },
  { file: 'tcpdump/pptp.pcap', format: 'pcap', linkType: 1, records: 23, segments: 22, payload: 724, drops: { 'not-tcp': 1 } }, // one GRE packet
  { file: 'tcpdump/print-flags.pcap', format: 'pcap', linkType: 1, records: 10, segments: 10, payload: 5761 },
  { file: 'tcpdump/tcp-handshake-nano.pcap', format: 'pcap', linkType: 113, records: 3, segments: 3, payload: 0 },
  { file: 'zeek/http-qinq-0.pcap', format: 'pcap', linkType: 1, records: 14, segments: 14, payload: 5143 },
  { file: 'zeek/http-vlan-0.pcap', format: 'pcap', linkType: 1, records: 14, segments: 14, payload: 5143 },
  { file: 'zeek/http_100-continue.pcap', format: 'pcap', linkType: 1, records: 66, segments: 66, payload: 63324 },
  { file: 'zeek/http_261_variant-04-te_cl_desync.pcap', format: 'pcap', linkType: 228, records: 8, segments: 8, payload: 132 },
  { file: 'zeek/http_261_variant-07-expect_100_cl0.pcap', format: 'pcap', linkType: 228, records: 8, segments: 8, payload: 125 },
  { file: 'zeek/http_connect-with-header.pcap', format: 'pcap', linkType: 0, records: 58, segments: 58, payload: 59143 },
  { file: 'zeek/http_docker-http-upgrade.pcap', format: 'pcap', linkType: 1, records: 200, segments: 200, payload: 4749 },
  { file: 'zeek/http_entity_gap.pcap', format: 'pcap', linkType: 1, records: 13, segments: 13, payload: 3695 },
  { file: 'zeek/http_get-gzip.pcap', format: 'pcap', linkType: 1, records: 14, segments: 14, payload: 421 },
  { file: 'zeek/http_get-without-fins.pcap', format: 'pcap', linkType: 1, records: 11, segments: 11, payload: 5143 },
  { file: 'zeek/http_get.pcap', format: 'pcap', linkType: 1, records: 14, segments: 14, payload: 5143 },
  { file: 'zeek/http_get_nosyn.pcap', format: 'pcap', linkType: 1, records: 11, segments: 11, payload: 5143 },
  { file: 'zeek/http_http-large-gap.pcap', format: 'pcap', linkType: 1, records: 10, segments: 10, payload: 479 },
  { file: 'zeek/http_http-post-large.pcap', format: 'pcap', linkType: 1, records: 38, segments: 38, payload: 244780 },
  { file: 'zeek/http_methods.pcap', format: 'pcap', linkType: 1, records: 655, segments: 655, payload: 184311 },
  { file: 'zeek/http_missing-zlib-header.pcap', format: 'pcap', linkType: 1, records: 28, segments: 28, payload: 12760 },
  { file: 'zeek/http_pipelined-requests.pcap', format: 'pcap', linkType: 1, records: 49, segments: 49, payload: 42362 },
  { file: 'zeek/http_websocket.pcap', format: 'pcap', linkType: 1, records: 27, segments: 27, payload: 1966 },
  { file: 'zeek/http_x-gzip.pcap', format: 'pcap', linkType: 1, records: 7, segments: 7, payload: 420 },
  { file: 'zeek/http_zeek-image-1080-80-x.pcapng', format: 'pcapng', linkType: 1, records: 17, segments: 17, payload: 6137 },
  { file: 'zeek/http_zero-length-bodies-with-drops.pcap', format: 'pcap', linkType: 1, records: 44, segments: 44, payload: 16437 },
  // Fragments of one UDP datagram that contradict each other (a later offset-0 fragment reaches past the end the last fragment set).
  { file: 'zeek/ipv4_fragmented-1.pcap', format: 'pcap', linkType: 1, records: 3, segments: 0, payload: 0, drops: { 'bad-ip-header': 3 } },
  { file: 'zeek/ipv6-http-atomic-frag.pcap', format: 'pcap', linkType: 1, records: 38, segments: 36, payload: 412, drops: { 'not-tcp': 2 } }, // 2 ICMPv6 ND
  { file: 'zeek/nflog-http.pcap', format: 'pcap', linkType: 239, records: 13, segments: 13, payload: 1682 },
  { file: 'zeek/pcapng-multi-interface.pcapng', format: 'pcapng', linkType: 1, records: 6, segments: 0, payload: 0, drops: { 'not-tcp': 6 } }, // DNS
  { file: 'zeek/tunnels_vxlan-encapsulated-http.pcap', format: 'pcap', linkType: 1, records: 12, segments: 12, payload: 9299 },
];

async function packetsOf(file: string): Promise<RawPacket[]> {
  const out: RawPacket[] = [];
  for await (const p of readPackets(createReadStream(path(file)), { name: file })) out.push(p);
  return out;
}

describe.skipIf(skipBecause(sharedFixturesMissing(dir)))('public capture fixtures', () => {
  for (const f of fixtures) {
    it(`${f.file}: ${f.records} records, ${f.segments} segments`, async () => {
      const info = newCaptureFileInfo();
      const packets: RawPacket[] = [];
      for await (const p of readPackets(createReadStream(path(f.file)), { name: f.file, info })) packets.push(p);
      expect(packets).toHaveLength(f.records);
      expect(new Set(packets.map((p) => p.linkType))).toEqual(new Set([f.linkType]));
      expect(info).toEqual({ format: f.format, truncatedAt: undefined });

      const { segments, stats } = await readAll(createReadStream(path(f.file)), { name: f.file });
      expect(segments).toHaveLength(f.segments);
      expect(segments.reduce((n, s) => n + s.payload.length, 0)).toBe(f.payload);
      expect(stats.drops).toEqual(f.drops ?? {});
      expect(stats.packets).toBe(f.records);
      expect(stats.linkTypes).toEqual({ [f.linkType]: f.records });
    });
  }

  it('pcapng-multi-interface: per-interface if_tsresol (ns on interface 0, µs on 1)', async () => {
    const packets = await packetsOf('zeek/pcapng-multi-interface.pcapng');
    expect(packets.map((p) => [p.interfaceId, p.ts, p.data.length])).toEqual([
      [0, 1767663089500330, 96], // tshark: 1767663089.500330493
      [0, 1767663089514291, 214],
      [1, 1767663437111897, 70],
      [1, 1767663437126460, 166],
      [1, 1767663437128303, 70],
      [1, 1767663437140942, 182],
    ]);
  });

  it('tcp-handshake-nano: nanosecond pcap timestamps are cut to µs', async () => {
    const packets = await packetsOf('tcpdump/tcp-handshake-nano.pcap');
    expect(packets[0]?.ts).toBe(1_418_145_369_924_505); // tcpdump -tt --nano: 1418145369.924505488
  });

  it('TSO frame with IP total length 0: the whole frame is the packet', async () => {
    const { segments } = await readAll(createReadStream(path('tcpdump/ipv4_tcp_http_xml_tso.pcap')));
    expect(segments[0]?.payload.subarray(0, 20).toString()).toBe('POST http://gwm-ml-a');
    expect(segments[0]?.frameBytes).toBe(2030);
  });

  it('VXLAN: segments are the inner conversation', async () => {
    const { segments, stats } = await readAll(createReadStream(path('zeek/tunnels_vxlan-encapsulated-http.pcap')));
    expect(segments[0]).toMatchObject({ srcIp: '172.16.11.201', dstIp: '54.86.237.188', srcPort: 40354, dstPort: 80, seq: 1521476008, flags: 2 });
    expect(stats.vxlanFrames).toBe(12);
    // Not VXLAN on another port.
    const other = await readAll(createReadStream(path('zeek/tunnels_vxlan-encapsulated-http.pcap')), { vxlanPorts: [8472] });
    expect(other.segments).toHaveLength(0);
    expect(other.stats.drops).toEqual({ 'not-tcp': 12 });
  });

  it('NFLOG: the IP packet is the NFULA_PAYLOAD TLV', async () => {
    const { segments, stats } = await readAll(createReadStream(path('zeek/nflog-http.pcap')));
    expect(stats.unsupportedLinkTypes).toEqual([]);
    expect(segments.find((s) => s.payload.length > 0)?.payload.subarray(0, 16).toString()).toBe('GET / HTTP/1.1\r\n');
  });

  it('IPv6 extension headers and atomic fragments carry the GET requests', async () => {
    const { segments } = await readAll(createReadStream(path('zeek/ipv6-http-atomic-frag.pcap')));
    const gets = segments.filter((s) => s.payload.toString().startsWith('GET /bad.html'));
    // One connection each behind destination options, an atomic fragment header, hop-by-hop and a routing header.
    expect(gets.length).toBe(4);
    expect(segments.filter((s) => s.dstPort === 80 && s.flags === 2).map((s) => s.srcPort)).toEqual([36951, 59694, 27393, 45805]);
  });

  it('filters: ports, hosts and a time window, each counted', async () => {
    const file = 'zeek/http_methods.pcap';
    const all = await readAll(createReadStream(path(file)));
    const first = all.segments[0]!;
    const byHost = await readAll(createReadStream(path(file)), { hosts: [first.srcIp] });
    expect(byHost.segments.length + (byHost.stats.drops.filtered ?? 0)).toBe(655);
    expect(byHost.segments.every((s) => s.srcIp === first.srcIp || s.dstIp === first.srcIp)).toBe(true);
    const byPort = await readAll(createReadStream(path(file)), { ports: [first.srcPort] });
    expect(byPort.segments.length).toBeGreaterThan(0);
    expect(byPort.segments.every((s) => s.srcPort === first.srcPort || s.dstPort === first.srcPort)).toBe(true);
    const none = await readAll(createReadStream(path(file)), { ports: [1] });
    expect(none.stats.drops).toEqual({ filtered: 655 });
    const from = all.segments[100]!.ts;
    const to = all.segments[200]!.ts;
    const windowed = await readAll(createReadStream(path(file)), { from, to });
    expect(windowed.segments).toEqual(all.segments.filter((s) => s.ts >= from && s.ts < to));
    expect(windowed.stats.drops['outside-time-window']).toBe(655 - windowed.segments.length);
  });
});

const run = promisify(execFile);
const tshark = ['/usr/bin/tshark', '/usr/local/bin/tshark'].find((p) => existsSync(p));
const compared = [
  'tcpdump/ipv4_tcp_http_xml_tso.pcap',
  'tcpdump/pptp.pcap',
  'tcpdump/tcp-handshake-nano.pcap',
  'zeek/http-qinq-0.pcap',
  'zeek/http_261_variant-04-te_cl_desync.pcap',
  'zeek/http_connect-with-header.pcap',
  'zeek/http_zeek-image-1080-80-x.pcapng',
  'zeek/ipv6-http-atomic-frag.pcap',
  'zeek/nflog-http.pcap',
  'zeek/tunnels_vxlan-encapsulated-http.pcap',
];

describe.skipIf(skipBecause(sharedFixturesMissing(dir) ?? (tshark ? null : 'tshark not installed (Debian package tshark; .ci/run installs it): field-by-field comparison')))('segments agree with tshark field by field', () => {
  const fields = ['frame.time_epoch', 'ip.src', 'ipv6.src', 'ip.dst', 'ipv6.dst', 'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.flags', 'tcp.len'];
  it.each(compared)('%s', async (file) => {
    const args = ['-r', path(file), '-Y', 'tcp', '-T', 'fields', ...fields.flatMap((f) => ['-e', f])];
    const { stdout } = await run(tshark!, args, { maxBuffer: 64 * 1024 * 1024 });
    const last = (v: string) => v.split(',').at(-1) ?? '';
    const theirs = stdout
      .trim()
      .split('\n')
      .map((line) => {
        const [time = '', ip4s, ip6s, ip4d, ip6d, sport, dport, seq, ack, flags, len] = line.split('\t');
        const [sec = '0', frac = '0'] = time.split('.');
        return {
          ts: Number(sec) * 1e6 + Math.floor(Number(frac.padEnd(9, '0')) / 1000),
          src: last(ip6s || ip4s || ''),
          dst: last(ip6d || ip4d || ''),
          ports: [Number(sport), Number(dport)],
          seq: Number(seq),
          ack: Number(flags) & 0x10 ? Number(ack) : null,
          flags: Number(flags) & 0xff,
          len: Number(len),
        };
      });
    const { segments } = await readAll(createReadStream(path(file)));
    const ours = segments.map((s: TcpSegment) => ({
      ts: s.ts,
      src: s.srcIp,
      dst: s.dstIp,
      ports: [s.srcPort, s.dstPort],
      seq: s.seq,
      ack: s.flags & 0x10 ? s.ack : null,
      flags: s.flags,
      len: s.payload.length,
    }));
    expect(ours).toEqual(theirs);
  });
});
