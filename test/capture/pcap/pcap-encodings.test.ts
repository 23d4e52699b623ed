/**
 * Must-show 2 of issue 3: one real capture (node fetch ↔ node:http on
 * loopback, keep-alive, made by tcpdump — scripts/make-pcap-fixtures.ts)
 * re-encoded every way a capture reaches us gives identical Exchanges: pcap
 * and pcapng (by Wireshark's editcap, and by our own writer with ns
 * resolution), Ethernet, Linux SLL and SLL2, 802.1Q and QinQ tags, and
 * wrapped in VXLAN the way AWS VPC Traffic Mirroring delivers it.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { readPackets } from '../../../capture/pcap/capture-reader.js';
import { pcapExchanges } from '../../../capture/pcap/capture-pcap.js';
import type { Exchange } from '../../../store/exchange.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { ETH_IPV4, ethernet, ipv4, pcapFile, pcapngFile, sll, sll2, udp, vxlan } from './pcap-builder.js';

const fixture = fileURLToPath(new URL('../../fixtures/pcap/loopback-node-keepalive.pcap', import.meta.url));

async function exchangesOf(input: Readable): Promise<Exchange[]> {
  const out: Exchange[] = [];
  for await (const ex of pcapExchanges(input, { name: 'x', captureId: 'same' })) out.push(ex);
  // Ids are fresh per import; everything else must match exactly.
  return out.map(({ id: _id, ...rest }) => rest as Exchange);
}

async function ipPackets(): Promise<Array<{ ts: number; ip: Buffer }>> {
  const out: Array<{ ts: number; ip: Buffer }> = [];
  for await (const p of readPackets(createReadStream(fixture), { name: fixture })) {
    expect(p.linkType).toBe(1);
    out.push({ ts: p.ts, ip: Buffer.from(p.data.subarray(14)) }); // strip the Ethernet header
  }
  return out;
}

describe('one capture, every encoding, identical exchanges', () => {
  it('pcap/pcapng × Ethernet/SLL/SLL2 × VLAN/QinQ × VXLAN', async () => {
    const reference = await exchangesOf(createReadStream(fixture));
    expect(reference).toHaveLength(10);
    expect(reference.filter((x) => x.request.method === 'POST').every((x) => x.request.body?.data.startsWith('{"n":'))).toBe(true);

    const packets = await ipPackets();
    const as = (wrap: (ip: Buffer) => Buffer) => packets.map((p) => ({ ts: p.ts, data: wrap(p.ip) }));
    const encodings: Record<string, Buffer> = {
      'pcap ns big-endian': pcapFile(1, as((ip) => ethernet(ETH_IPV4, ip)), { nanos: true, bigEndian: true }),
      'pcap SLL': pcapFile(113, as((ip) => sll(ETH_IPV4, ip))),
      'pcap SLL2': pcapFile(276, as((ip) => sll2(ETH_IPV4, ip))),
      'pcap 802.1Q': pcapFile(1, as((ip) => ethernet(ETH_IPV4, ip, [{ tpid: 0x8100, vid: 42 }]))),
      'pcap QinQ': pcapFile(1, as((ip) => ethernet(ETH_IPV4, ip, [{ tpid: 0x88a8, vid: 7 }, { tpid: 0x8100, vid: 42 }]))),
      'pcap VXLAN (traffic mirroring)': pcapFile(1, as((ip) => ethernet(ETH_IPV4, ipv4('127.0.0.10', '127.0.0.20', 17, udp(50000, 4789, vxlan(ethernet(ETH_IPV4, ip), 4242)))))),
      'pcapng ns, SLL2 + VLAN interface': pcapngFile([{ interfaces: [{ linkType: 276 }, { linkType: 1, tsresol: 9 }], blocks: packets.map((p, i) => (i % 2 === 0
        ? { kind: 'epb' as const, iface: 0, ts: p.ts, data: sll2(ETH_IPV4, p.ip) }
        : { kind: 'epb' as const, iface: 1, ts: p.ts, data: ethernet(ETH_IPV4, p.ip, [{ tpid: 0x8100, vid: 1 }]) })) }]),
    };
    for (const [name, bytes] of Object.entries(encodings)) {
      expect({ name, exchanges: await exchangesOf(Readable.from([bytes])) }).toEqual({ name, exchanges: reference });
    }

    // And pcapng as Wireshark's own editcap writes it.
    const tmp = await makeTempDir();
    try {
      const ng = `${tmp.dir}/x.pcapng`;
      execFileSync('editcap', ['-F', 'pcapng', fixture, ng]);
      expect(readFileSync(ng).readUInt32LE(0)).toBe(0x0a0d0d0a);
      expect(await exchangesOf(createReadStream(ng))).toEqual(reference);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      console.warn('editcap not installed (Debian package wireshark-common); skipped the editcap pcapng variant');
    } finally {
      await tmp.cleanup();
    }
  });
});
