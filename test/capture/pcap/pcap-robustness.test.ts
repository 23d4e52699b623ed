import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readPackets } from '../../../capture/pcap/capture-reader.js';
import { RepriseError } from '../../../errors.js';
import { ETH_IPV4, ETH_IPV6, ethernet, ipv4, ipv4Fragments, ipv6, ipv6FragmentHeader, pcapFile, pcapngFile, readAll, sll, tcp, udp, view, vxlan } from './pcap-builder.js';
import { sharedFixturesMissing, skipBecause } from '../../support/skip-reason.js';

/**
 * Hostile and damaged input: every possible truncation point, random bytes,
 * a fuzz loop over mutated captures, and streams that deliver a few bytes at a
 * time. The only acceptable failure is a RepriseError; nothing may hang or
 * allocate from a corrupt length.
 */

const dir = fileURLToPath(new URL('../../../../shared/fixtures/pcaps/', import.meta.url));
const haveFixtures = !skipBecause(sharedFixturesMissing(dir));

/** mulberry32: a small seeded PRNG, so a failing iteration can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const T = 1_650_000_000_000_000;
const spec = (i: number) => ({ ts: T + i * 10, src: '10.9.0.1', dst: '10.9.0.2', sport: 4000 + i, dport: 80, seq: i * 1000, ack: 1, flags: 0x18, payload: Buffer.from(`segment number ${i} `.repeat(i + 1)) });

/** A small capture with a bit of everything: VLAN, SLL, VXLAN, IPv4 and IPv6 fragments. */
function mixedPcapng(): Buffer {
  const ip = (i: number) => ipv4(spec(i).src, spec(i).dst, 6, tcp(spec(i)));
  const frags = ipv4Fragments('10.9.0.1', '10.9.0.2', 6, ip(3).subarray(20), 24, 77);
  const t6 = tcp(spec(4));
  const f6 = [0, 32].map((at) => ipv6('2001:db8::1', '2001:db8::2', 44, Buffer.concat([ipv6FragmentHeader(6, at, at === 0, 5), t6.subarray(at, at === 0 ? 32 : undefined)])));
  const blocks = [
    ethernet(ETH_IPV4, ip(0), [{ tpid: 0x8100, vid: 3 }]),
    ethernet(ETH_IPV4, ipv4('172.16.0.1', '172.16.0.2', 17, udp(999, 4789, vxlan(ethernet(ETH_IPV4, ip(1)))))),
    ...frags.map((f) => ethernet(ETH_IPV4, f)),
    ...f6.map((f) => ethernet(ETH_IPV6, f)),
  ].map((data, i) => ({ kind: 'epb' as const, iface: 0, ts: T + i, data }));
  return pcapngFile([
    { interfaces: [{ linkType: 1 }, { linkType: 113, tsresol: 9 }], blocks: [...blocks, { kind: 'epb', iface: 1, ts: T + 99, data: sll(ETH_IPV4, ip(2)) }] },
  ]);
}

function simplePcap(): Buffer {
  return pcapFile(1, [0, 1, 2, 3, 4].map((i) => ({ ts: spec(i).ts, data: ethernet(ETH_IPV4, ipv4(spec(i).src, spec(i).dst, 6, tcp(spec(i)))) })));
}

/** Reads a capture; returns the outcome, or rethrows anything that is not a RepriseError. */
async function outcome(buf: Buffer): Promise<{ segments: number; error?: string; truncatedAt?: number }> {
  try {
    const { segments, stats } = await readAll(buf);
    // Every packet is accounted for exactly once: a segment or a drop (fragments: several packets, one result).
    const dropped = Object.values(stats.drops).reduce((a, b) => a + b, 0);
    if (stats.fragments === 0 && stats.segments + dropped !== stats.packets) throw new Error(`accounting: ${JSON.stringify(stats)}`);
    if (stats.segments + dropped > stats.packets) throw new Error(`accounting: ${JSON.stringify(stats)}`);
    return { segments: segments.length, ...(stats.truncatedAt !== undefined && { truncatedAt: stats.truncatedAt }) };
  } catch (err) {
    if (err instanceof RepriseError) return { segments: -1, error: err.code };
    throw err;
  }
}

async function recordEnds(buf: Buffer): Promise<number[]> {
  const offsets: number[] = [];
  for await (const p of readPackets(Readable.from([buf]), { name: 'x' })) offsets.push(p.offset);
  return [...offsets.slice(1), buf.length];
}

/** Offsets where a record (pcap) or block (pcapng) ends, the file header included. */
function boundaries(buf: Buffer): number[] {
  const out: number[] = [];
  if (buf.readUInt32BE(0) !== 0x0a0d0d0a) {
    for (let at = 24; at <= buf.length; at += 16 + buf.readUInt32LE(at + 8)) {
      out.push(at);
      if (at + 16 > buf.length) break;
    }
    return out;
  }
  for (let at = 0; at + 8 <= buf.length; ) {
    at += buf.readUInt32LE(at + 4);
    out.push(at);
  }
  return out;
}

describe('truncation at every byte offset', () => {
  const cases: [string, () => Buffer][] = [
    ['pcap', simplePcap],
    ['pcapng with fragments, VXLAN and two interfaces', mixedPcapng],
  ];
  if (haveFixtures) cases.push(['tcp-handshake-nano.pcap', () => readFileSync(dir + 'tcpdump/tcp-handshake-nano.pcap')]);
  for (const [name, build] of cases) {
    it(name, async () => {
      const whole = build();
      const full = (await readAll(whole)).segments.map(view);
      const marks = boundaries(whole);
      expect(marks.at(-1)).toBe(whole.length);
      const atMark = new Map<number, number>();
      for (const m of marks) atMark.set(m, (await readAll(whole.subarray(0, m))).segments.length);
      for (let cut = 0; cut <= whole.length; cut++) {
        const got = await outcome(whole.subarray(0, cut));
        if (cut < marks[0]!) {
          expect(got.error, `cut at ${cut}`).toBe('PCAP_INVALID');
          continue;
        }
        const mark = marks.filter((m) => m <= cut).at(-1)!;
        expect(got.error, `cut at ${cut}`).toBeUndefined();
        expect(got.truncatedAt, `cut at ${cut}`).toBe(cut === mark ? undefined : mark);
        // Everything before the cut record is kept, in order.
        expect(got.segments, `cut at ${cut}`).toBe(atMark.get(mark));
      }
      const prefix = await readAll(whole.subarray(0, marks.at(-2)! + 10));
      expect(prefix.segments.map(view)).toEqual(full.slice(0, prefix.segments.length));
    });
  }
});

describe('hostile input', () => {
  it('random bytes, with and without a valid magic, only ever raise RepriseError', async () => {
    const rand = prng(1234);
    const magics = [Buffer.from('d4c3b2a1', 'hex'), Buffer.from('a1b23c4d', 'hex'), Buffer.from('0a0d0d0a', 'hex'), Buffer.alloc(0)];
    for (let i = 0; i < 2000; i++) {
      const body = Buffer.alloc(Math.floor(rand() * 600));
      for (let j = 0; j < body.length; j++) body[j] = Math.floor(rand() * 256);
      const magic = magics[i % magics.length]!;
      if (i % 8 === 2 && body.length >= 8) body.writeUInt32LE(0x1a2b3c4d, 4); // a plausible pcapng section
      await outcome(Buffer.concat([magic, body]));
    }
  });

  it(`fuzz: 12,000 mutated captures, no crash, no hang, bounded memory`, async () => {
    const seeds = [simplePcap(), mixedPcapng()];
    if (haveFixtures) {
      seeds.push(readFileSync(dir + 'tcpdump/tcp-handshake-nano.pcap'), readFileSync(dir + 'zeek/pcapng-multi-interface.pcapng'));
    }
    const seedEnds = await Promise.all(seeds.map(recordEnds));
    const rssBefore = process.memoryUsage().rss;
    const rand = prng(20260101);
    const pick = (n: number) => Math.floor(rand() * n);
    let slowest = 0;
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 12_000; i++) {
      const s = i % seeds.length;
      let buf = Buffer.from(seeds[s]!);
      const mutations = 1 + pick(4);
      for (let m = 0; m < mutations; m++) {
        const kind = pick(5);
        if (kind === 0) buf[pick(buf.length)]! ^= 1 << pick(8);
        else if (kind === 1) {
          const at = pick(buf.length + 1);
          buf = Buffer.concat([buf.subarray(0, at), Buffer.from([pick(256)]), buf.subarray(at)]);
        } else if (kind === 2) {
          const at = pick(buf.length);
          buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1 + pick(8))]);
        } else {
          // A length-like field set to something huge or tiny: at a record start (its length fields) or anywhere aligned.
          const starts = [0, ...seedEnds[s]!];
          const base = kind === 3 ? starts[pick(starts.length)]! : pick(buf.length >> 2) * 4;
          const at = Math.min(base + 4 * pick(4), buf.length - 4);
          if (at >= 0) buf.writeUInt32LE([0xffffffff, 0x7ffffffc, 0x10000000, 0, 4, 12, pick(0xffffffff)][pick(7)]!, at);
        }
      }
      const started = performance.now();
      let got;
      try {
        got = await outcome(buf);
      } catch (err) {
        throw new Error(`fuzz iteration ${i} (seed file ${s}) threw a non-RepriseError: ${String(err)}\n${buf.toString('base64')}`, { cause: err });
      }
      slowest = Math.max(slowest, performance.now() - started);
      const key = got.error ?? (got.truncatedAt !== undefined ? 'truncated' : 'ok');
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    expect(slowest).toBeLessThan(1000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
    // The mutations reach every kind of outcome, i.e. the loop explores more than the first check.
    expect([...outcomes.keys()].sort()).toEqual(['PCAP_INVALID', 'ok', 'truncated'].concat(outcomes.has('PCAP_UNSUPPORTED') ? ['PCAP_UNSUPPORTED'] : []).sort());
  });
});

describe('streams that deliver a few bytes at a time', () => {
  const files = haveFixtures
    ? ['zeek/pcapng-multi-interface.pcapng', 'zeek/tunnels_vxlan-encapsulated-http.pcap', 'tcpdump/print-flags.pcap', 'zeek/http_zeek-image-1080-80-x.pcapng']
    : [];
  it.skipIf(!haveFixtures).each(files)('%s with highWaterMark 1–7', async (file) => {
    const reference = await readAll(readFileSync(dir + file));
    for (let hwm = 1; hwm <= 7; hwm++) {
      const { segments, stats } = await readAll(createReadStream(dir + file, { highWaterMark: hwm }));
      expect(segments.map(view)).toEqual(reference.segments.map(view));
      expect(stats).toEqual(reference.stats);
    }
  });

  it('a synthetic capture in chunks of random sizes', async () => {
    const whole = mixedPcapng();
    const reference = await readAll(whole);
    expect(reference.segments.length).toBe(5);
    const rand = prng(7);
    for (let round = 0; round < 20; round++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < whole.length; ) {
        const n = 1 + Math.floor(rand() * 7);
        chunks.push(whole.subarray(at, at + n));
        at += n;
      }
      const { segments } = await readAll(Readable.from(chunks));
      expect(segments.map(view)).toEqual(reference.segments.map(view));
    }
  });
});
