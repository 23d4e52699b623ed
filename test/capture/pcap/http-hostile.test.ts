import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { exchangeProblems } from '../../../store/validate-exchange.js';
import { TCP_FIN, TCP_RST, TCP_SYN, type TcpSegment } from '../../../capture/pcap/tcp-segment.js';
import { assemble, conversation, http, rng, shuffle, type Turn } from '../../support/tcp-conversation.js';

const OK = (body: string | Buffer, extra: string[] = []) => http(['HTTP/1.1 200 OK', `Content-Length: ${Buffer.byteLength(body)}`, ...extra], body);
const GET = (path: string) => http([`GET ${path} HTTP/1.1`, 'Host: h']);

describe('hostile streams', () => {
  it('random bytes in both directions: no exchange, no throw, nothing left in memory', () => {
    const random = rng(1);
    for (let i = 0; i < 200; i++) {
      const port = random() < 0.5 ? 80 : 7000 + i;
      const segs = conversation([
        { from: 'client', data: noise(random, 1 + Math.floor(random() * 5000)) },
        { from: 'server', data: noise(random, 1 + Math.floor(random() * 5000)) },
      ], { handshake: random() < 0.5, server: { ip: '10.0.0.2', port }, mss: 1 + Math.floor(random() * 1500) });
      const { exchanges, stats } = assemble(segs);
      expect(exchanges).toEqual([]);
      expect(stats.bufferedBytes).toBe(0);
    }
  });

  it('an absurd Content-Length (10^15) is counted, not allocated', () => {
    const segs = conversation([
      { from: 'client', data: http(['POST /up HTTP/1.1', 'Host: h', 'Content-Length: 1000000000000000'], Buffer.alloc(100_000, 0x41)) },
      { from: 'server', data: http(['HTTP/1.1 200 OK', 'Content-Length: 999999999999999']) + 'tiny' },
    ], { close: 'none' });
    const { exchanges, stats } = assemble(segs, { bodyCap: 1024 });
    expect(exchanges).toHaveLength(1);
    const ex = exchanges[0]!;
    expect(ex.request.body).toMatchObject({ size: 1e15, truncated: true });
    expect(ex.response?.body).toMatchObject({ size: 999999999999999, truncated: true });
    expect(ex.incomplete).toMatch(/before the request body ended/);
    expect(stats.peakBufferedBytes).toBeLessThan(10_000);
  });

  it('an absurd chunk size is a parse error on that message only', () => {
    const segs = conversation([
      { from: 'client', data: GET('/a') },
      { from: 'server', data: http(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked']) + 'fffffffffffffffffffffff\r\nxx' },
      { from: 'client', data: GET('/b') },
      { from: 'server', data: OK('fine') },
    ]);
    const { exchanges, stats } = assemble(segs);
    expect(exchanges.map((x) => [x.request.path, x.response?.status])).toEqual([['/a', 200], ['/b', 200]]);
    expect(exchanges[0]!.incomplete).toMatch(/bad chunk size/);
    expect(exchanges[1]!.incomplete).toBeUndefined();
    expect(stats.drops['http-parse-error']).toBe(1);
  });

  it('header floods stop at the head limit, in bounded memory and time', () => {
    const flood = 'GET / HTTP/1.1\r\n' + 'X-Flood: y\r\n'.repeat(200_000);
    const first = assemble(conversation([{ from: 'client', data: flood }]));
    expect(first.exchanges).toEqual([]);
    expect(first.stats.drops).toEqual({ 'not-http': 1 });
    expect(first.stats.peakBufferedBytes).toBeLessThanOrEqual(80 * 1024);
    const later = assemble(conversation([{ from: 'client', data: GET('/ok') }, { from: 'server', data: OK('ok') }, { from: 'client', data: flood, segment: 1 << 16 }]));
    expect(later.exchanges.map((x) => x.request.path)).toEqual(['/ok']);
    expect(later.stats.drops['http-parse-error']).toBe(1);
    // Many header fields that fit in the block are refused by count.
    const many = 'HTTP/1.1 200 OK\r\n' + 'a:\r\n'.repeat(5000) + 'Content-Length: 0\r\n\r\n';
    const counted = assemble(conversation([{ from: 'client', data: GET('/x') }, { from: 'server', data: many }]));
    expect(counted.exchanges[0]!.error?.kind).toBe('protocol');
  });

  it('a head delivered one byte per segment costs linear time', () => {
    const head = http(['GET /slow HTTP/1.1', 'Host: h', `X-Big: ${'v'.repeat(30_000)}`]);
    const t0 = performance.now();
    const { exchanges } = assemble(conversation([{ from: 'client', data: head, segment: 1 }, { from: 'server', data: OK('') }]));
    expect(exchanges).toHaveLength(1);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('many connections with holes that never fill: drops counted, memory bounded', () => {
    const segs: TcpSegment[] = [];
    for (let c = 0; c < 300; c++) {
      const conv = conversation([{ from: 'client', data: GET(`/c${c}`) }, { from: 'server', data: OK(Buffer.alloc(60_000, 0x62)), segment: 1000 }], {
        client: { ip: '10.9.0.1', port: 10_000 + c }, close: 'none', startTs: 1_800_000_000_000_000 + c,
      });
      const firstServerData = conv.findIndex((s) => s.srcPort === 80 && s.payload.length > 0);
      // The response's first segment is missing, and the client says nothing more (no ACK past the hole).
      segs.push(...conv.filter((_, i) => i !== firstServerData));
    }
    const { exchanges, stats } = assemble(segs.sort((a, b) => a.ts - b.ts), { maxBufferedBytes: 1 << 20, maxConnections: 200 });
    expect(stats.peakBufferedBytes).toBeLessThanOrEqual((1 << 20) + 70_000);
    expect(stats.drops['stream-memory']).toBeGreaterThan(0);
    expect(stats.drops['connection-limit']).toBeGreaterThan(0);
    expect(stats.bufferedBytes).toBe(0);
    expect(exchanges.length).toBeGreaterThan(0);
    for (const ex of exchanges) expect(ex.response).toBeNull();
  });

  it('a gzip bomb stores at most the body cap', () => {
    const bomb = gzipSync(Buffer.alloc(16 << 20), { level: 1 });
    const segs = conversation([{ from: 'client', data: GET('/bomb') }, { from: 'server', data: OK(bomb, ['Content-Encoding: gzip']) }]);
    const ex = assemble(segs, { bodyCap: 65_536 }).exchanges[0]!;
    expect(ex.response!.body!.truncated).toBe(true);
    expect(Buffer.from(ex.response!.body!.data, 'base64').length + ex.response!.body!.data.length).toBeGreaterThan(0);
    expect(ex.response!.body!.size).toBeLessThanOrEqual(65_536);
    expect(ex.meta?.notes).toEqual([expect.stringMatching(/lower bound/)]);
  });

  it('a one-sided capture (requests only) does not queue without bound', () => {
    const reqs = Array.from({ length: 1000 }, (_, i) => GET(`/r${i}`));
    const { exchanges, stats } = assemble(conversation([{ from: 'client', data: Buffer.concat(reqs) }], { close: 'none' }));
    expect(exchanges).toHaveLength(1000);
    expect(exchanges.map((x) => x.source.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(stats.noResponse).toBe(1000);
  });
});

// ───────────────────────────── fuzz ─────────────────────────────

const BASES: Turn[][] = [
  [{ from: 'client', data: GET('/a') }, { from: 'server', data: OK('alpha') }, { from: 'client', data: http(['POST /b HTTP/1.1', 'Host: h', 'Content-Length: 3'], 'xyz') }, { from: 'server', data: OK('beta') }],
  [{ from: 'client', data: GET('/c') }, { from: 'server', data: http(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked']) + '4\r\nabcd\r\n2\r\nef\r\n0\r\nX-T: 1\r\n\r\n' }],
  [{ from: 'client', data: http(['PUT /u HTTP/1.1', 'Host: h', 'Expect: 100-continue', 'Transfer-Encoding: chunked']) }, { from: 'server', data: http(['HTTP/1.1 100 Continue']) }, { from: 'client', data: '3\r\nabc\r\n0\r\n\r\n' }, { from: 'server', data: OK('done') }],
  [{ from: 'client', data: Buffer.concat([GET('/1'), GET('/2'), GET('/3')]) }, { from: 'server', data: Buffer.concat([OK('1'), OK('22'), OK('333')]) }],
  [{ from: 'client', data: http(['GET /ws HTTP/1.1', 'Host: h', 'Upgrade: websocket', 'Connection: Upgrade']) }, { from: 'server', data: http(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket']) }, { from: 'client', data: Buffer.from([0x81, 0x02, 0x68, 0x69]) }],
  [{ from: 'client', data: http(['CONNECT x:443 HTTP/1.1', 'Host: x:443']) }, { from: 'server', data: http(['HTTP/1.1 200 OK']) }, { from: 'client', data: Buffer.from([0x16, 3, 1, 0, 1, 0]) }],
  [{ from: 'client', data: GET('/gz') }, { from: 'server', data: OK(gzipSync('compressed body '.repeat(20)), ['Content-Encoding: gzip']) }],
  [{ from: 'client', data: http(['HEAD /h HTTP/1.1', 'Host: h']) }, { from: 'server', data: http(['HTTP/1.1 200 OK', 'Content-Length: 50']) }, { from: 'client', data: GET('/n') }, { from: 'server', data: http(['HTTP/1.1 304 Not Modified']) }],
  [{ from: 'client', data: http(['GET /close HTTP/1.0']) }, { from: 'server', data: 'HTTP/1.0 200 OK\r\n\r\nuntil the end' }],
  [{ from: 'client', data: GET('/big') }, { from: 'server', data: OK(Buffer.alloc(5000, 0x7a)) }],
];

/** Seeded random bytes, so a failing case reproduces. */
function noise(random: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(random() * 256);
  return b;
}

function mutate(segs: TcpSegment[], random: () => number): TcpSegment[] {
  let out = segs.map((s) => ({ ...s }));
  const pick = (): TcpSegment | undefined => out[Math.floor(random() * out.length)];
  const ops = 1 + Math.floor(random() * 4);
  for (let k = 0; k < ops; k++) {
    const s = pick();
    if (!s) break;
    switch (Math.floor(random() * 11)) {
      case 0: // flip bytes
        if (s.payload.length > 0) {
          s.payload = Buffer.from(s.payload);
          for (let n = 0; n < 3; n++) s.payload[Math.floor(random() * s.payload.length)] = Math.floor(random() * 256);
        }
        break;
      case 1: // drop
        out = out.filter((x) => x !== s);
        break;
      case 2: // duplicate later
        out.splice(Math.floor(random() * out.length), 0, { ...s, ts: s.ts + 5 });
        break;
      case 3: { // reorder a window
        const at = Math.floor(random() * out.length);
        const w = out.splice(at, 2 + Math.floor(random() * 6));
        out.splice(at, 0, ...shuffle(w, random));
        break;
      }
      case 4: // wrong sequence number
        s.seq = (s.seq + Math.floor((random() - 0.5) * 4000)) >>> 0;
        break;
      case 5: // truncate
        s.payload = s.payload.subarray(0, Math.floor(random() * s.payload.length));
        break;
      case 6: // random flags
        s.flags |= [TCP_FIN, TCP_RST, TCP_SYN][Math.floor(random() * 3)]!;
        break;
      case 7: // timestamps out of order
        s.ts -= Math.floor(random() * 1_000_000);
        break;
      case 8: // replace with garbage
        s.payload = noise(random, Math.floor(random() * 300));
        break;
      case 9: // insert bytes (everything after shifts)
        if (s.payload.length > 0) {
          const at = Math.floor(random() * s.payload.length);
          s.payload = Buffer.concat([s.payload.subarray(0, at), noise(random, 1 + Math.floor(random() * 20)), s.payload.subarray(at)]);
        }
        break;
      default: // a far-away seq
        s.seq = Math.floor(random() * 2 ** 32);
    }
  }
  return out;
}

/** One fuzz case, reproducible from its number alone. */
export function fuzzCase(i: number): { segs: TcpSegment[]; options: Parameters<typeof assemble>[1] } {
  const random = rng(20261123 + i);
  const base = BASES[i % BASES.length]!;
  const segs = conversation(base, {
    mss: 1 + Math.floor(random() * 300),
    handshake: random() < 0.7,
    isnClient: Math.floor(random() * 2 ** 32),
    isnServer: Math.floor(random() * 2 ** 32),
    close: (['fin', 'server-fin', 'rst', 'none'] as const)[Math.floor(random() * 4)],
    server: { ip: '10.0.0.2', port: random() < 0.8 ? 80 : 6000 },
  });
  const options = { bodyCap: [16, 1024, 1 << 20][i % 3]!, maxBufferedBytes: [4096, 1 << 20][i % 2]!, idleTimeoutUs: 50_000 + Math.floor(random() * 1e6) };
  return { segs: mutate(segs, random), options };
}

describe('fuzz', () => {
  it('5,000 mutated conversations: no throw, no hang, valid records, memory returned', () => {
    let slowest = 0;
    let exchanges = 0;
    const problems: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const { segs, options } = fuzzCase(i);
      const t0 = performance.now();
      const result = assemble(segs, options);
      slowest = Math.max(slowest, performance.now() - t0);
      exchanges += result.exchanges.length;
      if (result.stats.bufferedBytes !== 0) problems.push(`#${i}: ${result.stats.bufferedBytes} bytes still held`);
      for (const ex of result.exchanges) {
        const p = exchangeProblems(JSON.parse(JSON.stringify(ex)));
        if (p.length > 0) problems.push(`#${i}: ${p.join('; ')}`);
      }
    }
    expect(problems).toEqual([]);
    expect(slowest).toBeLessThan(1000);
    expect(exchanges).toBeGreaterThan(2000);
  });
});
