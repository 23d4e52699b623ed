import { existsSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { newPcapCaptureSummary, pcapExchanges, type PcapCaptureSummary } from '../../../capture/pcap/capture-pcap.js';
import { readTcpSegments } from '../../../capture/pcap/read-tcp-segments.js';
import { newPacketStats } from '../../../capture/pcap/packet-stats.js';
import { RepriseError } from '../../../errors.js';
import type { Exchange } from '../../../store/exchange.js';
import { exchangeProblems } from '../../../store/validate-exchange.js';
import { ETH_IPV4, ethernet, ipv4, pcapFile, tcp } from './pcap-builder.js';

/**
 * The whole pcap pipeline — records → link/IP → TCP reassembly → HTTP →
 * Exchanges, as `pcapExchanges` runs it — on damaged and hostile captures:
 * every truncation point of a small real capture, random bytes, and a fuzz
 * loop over mutated real captures whose TCP payloads are overwritten with
 * hostile HTTP (absurd Content-Length and chunk sizes, header floods, stray
 * message starts). pcap-robustness.test.ts does the same for the packet layer
 * alone.
 *
 * Every run must end in one of two ways: valid Exchanges and a summary whose
 * counts agree with them, or a RepriseError PCAP_INVALID / PCAP_UNSUPPORTED.
 * Anything else fails with the seed, the iteration and the input (base64) to
 * replay it; FUZZ_SEED=n explores another sequence.
 */

const shared = fileURLToPath(new URL('../../../../shared/fixtures/pcaps/zeek/', import.meta.url));
const ours = fileURLToPath(new URL('../../../test/fixtures/pcap/', import.meta.url));
const haveShared = existsSync(shared);
const SEED = Number(process.env.FUZZ_SEED ?? 20261123);

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

type Outcome = { exchanges: Exchange[]; summary: PcapCaptureSummary } | { error: 'PCAP_INVALID' | 'PCAP_UNSUPPORTED' };

/**
 * One capture through the whole pipeline. Returns what came out, or the
 * expected error; throws on anything else, with `what` in the message.
 */
async function run(buf: Buffer, what: () => string): Promise<Outcome> {
  const summary = newPcapCaptureSummary();
  const exchanges: Exchange[] = [];
  try {
    for await (const ex of pcapExchanges(Readable.from([buf]), { name: 'fuzz.pcap' }, summary)) exchanges.push(ex);
  } catch (err) {
    if (err instanceof RepriseError && (err.code === 'PCAP_INVALID' || err.code === 'PCAP_UNSUPPORTED')) return { error: err.code };
    throw new Error(`${what()}: threw ${err instanceof RepriseError ? `RepriseError ${err.code}` : 'a non-RepriseError'}: ${String(err)}`, { cause: err });
  }
  const problems = consistencyProblems(exchanges, summary, buf.length);
  if (problems.length > 0) throw new Error(`${what()}: ${problems.join('; ')}`);
  return { exchanges, summary };
}

/** Each exchange valid, and the summary's counts those of the exchanges yielded. */
function consistencyProblems(exchanges: Exchange[], s: PcapCaptureSummary, inputBytes: number): string[] {
  const p: string[] = [];
  exchanges.forEach((ex, i) => {
    const bad = exchangeProblems(ex);
    if (bad.length > 0) p.push(`exchange ${i}: ${bad.join(', ')}`);
  });
  const count = (f: (ex: Exchange) => boolean): number => exchanges.filter(f).length;
  if (s.exchanges !== exchanges.length) p.push(`summary.exchanges ${s.exchanges}, yielded ${exchanges.length}`);
  if (s.incomplete !== count((ex) => ex.incomplete !== undefined)) p.push(`summary.incomplete ${s.incomplete} disagrees with the exchanges`);
  if (s.noResponse !== count((ex) => ex.response === null)) p.push(`summary.noResponse ${s.noResponse} disagrees with the exchanges`);
  const dropped = Object.values(s.dropped).reduce((a, b) => a + (b ?? 0), 0);
  if (s.droppedTotal !== dropped) p.push(`summary.droppedTotal ${s.droppedTotal}, drops add up to ${dropped}`);
  if (Object.values(s.dropped).some((n) => !(Number.isInteger(n) && n! > 0))) p.push(`summary.dropped holds a count that is not a positive integer: ${JSON.stringify(s.dropped)}`);
  if (s.tcpSegments > s.packets) p.push(`${s.tcpSegments} TCP segments from ${s.packets} packets`);
  if (s.bytes > inputBytes) p.push(`summary.bytes ${s.bytes} > input ${inputBytes}`);
  if (s.truncatedAt !== undefined && !(s.truncatedAt >= 24 && s.truncatedAt < inputBytes)) p.push(`truncatedAt ${s.truncatedAt} outside the input`);
  if (s.outOfOrder > exchanges.length) p.push(`outOfOrder ${s.outOfOrder} > exchanges`);
  return p;
}

function outcomeKey(o: Outcome): string {
  if ('error' in o) return o.error;
  const partial = o.summary.truncatedAt !== undefined || o.summary.incomplete > 0 || o.summary.noResponse > 0 || o.summary.droppedTotal > 0;
  return o.exchanges.length === 0 ? 'no exchanges' : partial ? 'partial' : 'complete';
}

// --- Inputs -----------------------------------------------------------------

/** A classic little-endian pcap split into its records, with each record's TCP payload span. */
interface Capture {
  name: string;
  header: Buffer;
  records: { bytes: Buffer; payload: [number, number] | undefined }[];
}

async function splitCapture(name: string, whole: Buffer, maxRecords = Infinity): Promise<Capture> {
  if (whole.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${name}: the fuzz seeds must be little-endian µs pcap`);
  const records: Capture['records'] = [];
  for (let at = 24; at + 16 <= whole.length && records.length < maxRecords; ) {
    const end = at + 16 + whole.readUInt32LE(at + 8);
    records.push({ bytes: whole.subarray(at, end), payload: undefined });
    at = end;
  }
  // Where each record's TCP payload is: the decoder hands out views into our buffer.
  const starts = records.map((r) => r.bytes.byteOffset);
  for await (const seg of readTcpSegments(Readable.from([whole]), { name }, newPacketStats())) {
    if (seg.payload.length === 0 || seg.payload.buffer !== whole.buffer) continue;
    let i = starts.length - 1;
    while (i >= 0 && starts[i]! > seg.payload.byteOffset) i--;
    const rec = records[i];
    if (rec) rec.payload = [seg.payload.byteOffset - starts[i]!, seg.payload.byteOffset - starts[i]! + seg.payload.length];
  }
  return { name, header: whole.subarray(0, 24), records };
}

function join(c: Capture): Buffer {
  return Buffer.concat([c.header, ...c.records.map((r) => r.bytes)]);
}

// HTTP that parsers choke on, written over payload bytes (same length, so the packet layer passes it through).
const HOSTILE = [
  'Content-Length: 99999999999999999999\r\n',
  'Content-Length: 1000000000000000\r\n',
  'Content-Length: -1\r\n',
  'Content-Length: 5, 7\r\n',
  'Transfer-Encoding: chunked\r\n',
  'Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n',
  '\r\n7fffffff\r\nabc\r\n',
  '\r\n0\r\nX-Trailer: y\r\n\r\n',
  '\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: h\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n',
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n',
  'CONNECT a:443 HTTP/1.1\r\n\r\n',
  'Content-Encoding: gzip\r\n',
  'Content-Encoding: br, gzip, deflate\r\n',
  ' folded continuation\r\n',
  'X-\u0000: \u00ff\u00fe\r\n',
  ':\r\n',
  '\n\n\n',
  'a:\r\n'.repeat(64),
  `X-Flood: ${'v'.repeat(300)}\r\n`,
].map((s) => Buffer.from(s, 'latin1'));

const LENGTHS = [0xffffffff, 0x7ffffffc, 0x10000000, 262145, 65535, 0, 1, 13, 14, 34, 54];

/** Applies 1–4 random mutations; returns the bytes and a description of what was done. */
function mutate(seed: Capture, rand: () => number): { buf: Buffer; steps: string[] } {
  const pick = (n: number): number => Math.floor(rand() * n);
  const records = seed.records.map((r) => ({ ...r, bytes: Buffer.from(r.bytes) }));
  const withPayload = (): number[] => records.flatMap((r, i) => (r.payload ? [i] : []));
  const steps: string[] = [];
  const n = 1 + pick(4);
  // Record-level mutations first (they need record boundaries), byte-level last.
  const late: (() => void)[] = [];
  let buf: Buffer = Buffer.alloc(0);
  for (let m = 0; m < n; m++) {
    const kind = pick(12);
    const candidates = withPayload();
    if (kind <= 3 && candidates.length > 0) {
      // Hostile HTTP over a payload: the bytes the HTTP parser sees.
      const r = records[candidates[pick(candidates.length)]!]!;
      const [from, to] = r.payload!;
      if (kind === 3) {
        for (let k = 0; k < 1 + pick(8); k++) r.bytes[from + pick(to - from)] = pick(256);
        steps.push('payload bytes');
      } else {
        const h = HOSTILE[pick(HOSTILE.length)]!;
        const at = from + pick(to - from);
        h.copy(r.bytes, at, 0, Math.min(h.length, to - at));
        steps.push(`payload ${JSON.stringify(h.toString('latin1').slice(0, 24))}`);
      }
    } else if (kind === 4 && records.length > 0) {
      // A header byte of one frame (link, IP, TCP: ports, seq, flags, offsets).
      const r = records[pick(records.length)]!;
      const end = Math.min(r.bytes.length, r.payload?.[0] ?? 16 + 54);
      if (end > 16) r.bytes[16 + pick(end - 16)] = pick(256);
      steps.push('frame header byte');
    } else if (kind === 5 && records.length > 0) {
      // A record length field: incl_len or orig_len, huge or tiny.
      const r = records[pick(records.length)]!;
      r.bytes.writeUInt32LE(LENGTHS[pick(LENGTHS.length + 1)] ?? pick(0xffffffff), 8 + 4 * pick(2));
      steps.push('record length');
    } else if (kind === 6 && records.length > 1) {
      const [a, b] = [pick(records.length), pick(records.length)];
      [records[a], records[b]] = [records[b]!, records[a]!];
      steps.push('swap records');
    } else if (kind === 7 && records.length > 0) {
      records.splice(pick(records.length + 1), 0, records[pick(records.length)]!);
      steps.push('duplicate record');
    } else if (kind === 8 && records.length > 0) {
      records.splice(pick(records.length), 1);
      steps.push('drop record');
    } else {
      late.push(() => {
        const k = pick(4);
        if (k === 0 && buf.length > 0) {
          buf[pick(buf.length)]! ^= 1 << pick(8);
          steps.push('bit flip');
        } else if (k === 1) {
          const at = pick(buf.length + 1);
          buf = Buffer.concat([buf.subarray(0, at), Buffer.from(Array.from({ length: 1 + pick(16) }, () => pick(256))), buf.subarray(at)]);
          steps.push('insert');
        } else if (k === 2) {
          const at = pick(buf.length);
          buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1 + pick(16))]);
          steps.push('delete');
        } else {
          buf = buf.subarray(0, pick(buf.length + 1));
          steps.push('truncate');
        }
      });
    }
  }
  buf = join({ ...seed, records });
  for (const f of late) f();
  return { buf, steps };
}

async function seeds(): Promise<Capture[]> {
  const list: Capture[] = [await splitCapture('loopback-node-keepalive.pcap', readFileSync(ours + 'loopback-node-keepalive.pcap'))];
  if (haveShared) {
    // The larger ones are cut to their first records: small inputs keep 10,000 runs quick.
    for (const [file, max] of [['http_get.pcap', Infinity], ['http_pipelined-requests.pcap', 40], ['http_100-continue.pcap', 30], ['http_get-gzip.pcap', Infinity], ['tunnels_vxlan-encapsulated-http.pcap', Infinity]] as const) {
      list.push(await splitCapture(file, readFileSync(shared + file), max));
    }
  }
  return list;
}

/** A base64 copy of the input, for inputs small enough to paste into a test. */
function replay(buf: Buffer): string {
  return buf.length <= 16_384 ? `\ninput (base64): ${buf.toString('base64')}` : `\ninput is ${buf.length} bytes`;
}

// --- Tests ------------------------------------------------------------------

describe('pcap pipeline: truncated captures', () => {
  // The smallest fixture with an exchange in it (1.6 KB); ours (6.3 KB) where shared/ is missing.
  const smallest = haveShared ? shared + 'http_get-gzip.pcap' : ours + 'loopback-node-keepalive.pcap';
  it(`cut at every byte offset of ${smallest.split('/').at(-1)}: a partial result with counts, never a throw past the header`, async () => {
    const whole = readFileSync(smallest);
    const full = await run(whole, () => 'whole file');
    if ('error' in full) throw new Error(`whole file: ${full.error}`);
    expect(full.exchanges.length).toBeGreaterThan(0);
    const ends = new Set<number>([24]);
    for (let at = 24; at + 16 <= whole.length; ) ends.add((at += 16 + whole.readUInt32LE(at + 8)));
    for (let cut = 0; cut <= whole.length; cut++) {
      const got = await run(whole.subarray(0, cut), () => `cut at ${cut}`);
      if (cut < 24) {
        expect(got, `cut at ${cut}`).toEqual({ error: 'PCAP_INVALID' });
        continue;
      }
      if ('error' in got) throw new Error(`cut at ${cut}: ${got.error}`);
      expect(got.summary.truncatedAt === undefined, `cut at ${cut}`).toBe(ends.has(cut));
      expect(got.exchanges.length, `cut at ${cut}`).toBeLessThanOrEqual(full.exchanges.length);
    }
  });
});

describe('pcap pipeline: hostile input', () => {
  it('1,000 random inputs: random files, and valid frames to port 80 carrying random bytes', async () => {
    const rand = prng(SEED);
    const pick = (n: number): number => Math.floor(rand() * n);
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => pick(256)));
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      let buf: Buffer;
      if (i % 2 === 0) {
        // Random bytes, behind a valid pcap magic half the time.
        const magic = i % 4 === 0 ? Buffer.from('d4c3b2a1', 'hex') : Buffer.alloc(0);
        buf = Buffer.concat([magic, bytes(pick(2000))]);
      } else {
        // Well-formed packets whose TCP payloads are noise, both directions of one connection.
        let [cseq, sseq] = [pick(2 ** 32), pick(2 ** 32)];
        const records = Array.from({ length: 1 + pick(12) }, (_, k) => {
          const fromClient = pick(3) > 0;
          const payload = rand() < 0.3 ? Buffer.concat([Buffer.from(fromClient ? 'GET /x HTTP/1.1\r\n' : 'HTTP/1.1 200 OK\r\n'), bytes(pick(600))]) : bytes(pick(1400));
          const seq = fromClient ? cseq : sseq;
          if (fromClient) cseq = (cseq + payload.length) >>> 0;
          else sseq = (sseq + payload.length) >>> 0;
          const [src, dst, sport, dport] = fromClient ? ['10.0.0.1', '10.0.0.2', 40000, 80] : ['10.0.0.2', '10.0.0.1', 80, 40000];
          const data = ethernet(ETH_IPV4, ipv4(src, dst, 6, tcp({ ts: 0, src, dst, sport, dport, seq, ack: fromClient ? sseq : cseq, flags: 0x18 | pick(8), payload })));
          return { ts: 1_700_000_000_000_000 + k * 1000, data };
        });
        buf = pcapFile(1, records);
      }
      const got = await run(buf, () => `random input ${i} (seed ${SEED})${replay(buf)}`);
      const key = outcomeKey(got);
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    expect(outcomes.get('PCAP_INVALID')).toBeGreaterThan(0);
    expect(outcomes.get('no exchanges')).toBeGreaterThan(0);
  });

  it(`fuzz: 10,000 mutated real captures through the whole pipeline, no crash, no hang, bounded memory`, async () => {
    const bases = await seeds();
    const rand = prng(SEED);
    const outcomes = new Map<string, number>();
    const rssBefore = process.memoryUsage().rss;
    let slowest = 0;
    let exchanges = 0;
    const drops = new Map<string, number>();
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) {
      const base = bases[i % bases.length]!;
      const { buf, steps } = mutate(base, rand);
      const t0 = performance.now();
      const got = await run(buf, () => `fuzz seed ${SEED} iteration ${i} (${base.name}; ${steps.join(', ')})${replay(buf)}`);
      const ms = performance.now() - t0;
      if (ms > 2000) throw new Error(`fuzz seed ${SEED} iteration ${i} (${base.name}; ${steps.join(', ')}) took ${ms.toFixed(0)} ms${replay(buf)}`);
      slowest = Math.max(slowest, ms);
      const key = outcomeKey(got);
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      if ('error' in got) continue;
      exchanges += got.exchanges.length;
      for (const [reason, n] of Object.entries(got.summary.dropped)) drops.set(reason, (drops.get(reason) ?? 0) + (n ?? 0));
    }
    const grew = process.memoryUsage().rss - rssBefore;
    console.info(`pipeline fuzz: seed ${SEED}, ${((performance.now() - started) / 1000).toFixed(1)} s, slowest ${slowest.toFixed(0)} ms, RSS +${(grew / 2 ** 20).toFixed(0)} MiB, ${exchanges} exchanges, outcomes ${JSON.stringify(Object.fromEntries(outcomes))}, drops ${JSON.stringify(Object.fromEntries(drops))}`);
    expect(grew).toBeLessThan(200 * 1024 * 1024);
    // The mutations reach every kind of outcome: the loop gets past the first checks.
    for (const key of ['PCAP_INVALID', 'complete', 'partial', 'no exchanges']) expect(outcomes.get(key), key).toBeGreaterThan(0);
  }, 120_000);
});
