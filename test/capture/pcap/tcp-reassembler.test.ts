import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../../../capture/pcap/tcp-byte-budget.js';
import { TcpReassembler, type TcpConnectionInfo, type TcpReassemblerOptions } from '../../../capture/pcap/tcp-reassembler.js';
import { TCP_ACK, type TcpSegment } from '../../../capture/pcap/tcp-segment.js';
import { CLIENT, SERVER, conversation, dataOf, rng, shuffle, slice, T0 } from '../../support/tcp-conversation.js';

interface Recorded {
  info: TcpConnectionInfo;
  /** Per side: bytes with gaps written as `<gap n>`. */
  client: Buffer[];
  server: Buffer[];
  ends: string[];
  closed?: string;
}

function record(segs: Iterable<TcpSegment>, options: Partial<TcpReassemblerOptions> = {}, endCapture = true) {
  const conns: Recorded[] = [];
  const r = new TcpReassembler({
    ...options,
    onConnection: (info) => {
      const rec: Recorded = { info, client: [], server: [], ends: [] };
      conns.push(rec);
      return {
        data: (fromClient, bytes) => (fromClient ? rec.client : rec.server).push(Buffer.from(bytes)),
        gap: (fromClient, n) => (fromClient ? rec.client : rec.server).push(Buffer.from(`<gap ${n}>`)),
        end: (fromClient, reason) => rec.ends.push(`${fromClient ? 'client' : 'server'}:${reason}`),
        close: (reason) => (rec.closed = reason),
      };
    },
  });
  for (const s of segs) r.push(s);
  if (endCapture) r.end();
  return { conns, r };
}

const text = (parts: Buffer[]): string => Buffer.concat(parts).toString('latin1');

describe('TcpReassembler', () => {
  it('delivers both directions in order, roles from the SYN, FIN closes', () => {
    const segs = conversation([
      { from: 'client', data: 'hello server' },
      { from: 'server', data: 'hello client' },
    ]);
    const { conns } = record(segs, {}, false);
    expect(conns).toHaveLength(1);
    const c = conns[0]!;
    expect(c.info.roleSource).toBe('syn');
    expect(c.info.client).toEqual(CLIENT);
    expect(c.info.clientSyn && c.info.serverSyn).toBe(true);
    expect(text(c.client)).toBe('hello server');
    expect(text(c.server)).toBe('hello client');
    expect(c.ends).toEqual(['client:fin', 'server:fin']);
    expect(c.closed).toBe('fin');
  });

  it('reorders, drops retransmissions and overlaps without duplicating bytes', () => {
    const payload = Buffer.from(Array.from({ length: 20_000 }, (_, i) => i % 251));
    const segs = conversation([{ from: 'client', data: payload, segment: 100 }]);
    const data = dataOf(segs, 'client');
    const random = rng(7);
    const noisy = [...data];
    for (const s of data) {
      if (random() < 0.3) noisy.push(s); // retransmission
      if (random() < 0.3) noisy.push(slice(s, 20, 80)); // partial overlap
    }
    shuffle(noisy, random);
    const { conns, r } = record([...segs.slice(0, 3), ...noisy, ...segs.slice(-2)]);
    expect(Buffer.concat(conns[0]!.client).equals(payload)).toBe(true);
    expect(r.stats.gaps).toBe(0);
    expect(r.stats.duplicateBytes).toBeGreaterThan(0);
    expect(r.budget.used).toBe(0);
  });

  it('keeps the first copy of overlapping bytes (first data wins)', () => {
    const segs = conversation([{ from: 'client', data: 'AAAAAAAAAA' + 'BBBBBBBBBB', segment: 10 }]);
    const [a, b] = dataOf(segs, 'client');
    const evil: TcpSegment = { ...b!, seq: (b!.seq - 5) >>> 0, payload: Buffer.from('xxxxxyyyyyyyyyy') };
    // evil's bytes 5–9 came before a's copy of them; evil's 10–19 came after b's.
    expect(text(record([...segs.slice(0, 3), b!, evil, a!, ...segs.slice(-2)]).conns[0]!.client)).toBe('AAAAAxxxxxBBBBBBBBBB');
    expect(text(record([...segs.slice(0, 3), a!, b!, evil, ...segs.slice(-2)]).conns[0]!.client)).toBe('AAAAAAAAAABBBBBBBBBB');
    expect(text(record([...segs.slice(0, 3), a!, evil, b!, ...segs.slice(-2)]).conns[0]!.client)).toBe('AAAAAAAAAAyyyyyyyyyy');
  });

  it('handles sequence numbers that wrap around 2^32', () => {
    const payload = Buffer.from('0123456789'.repeat(500));
    const segs = conversation([{ from: 'client', data: payload, segment: 333 }, { from: 'server', data: 'ok' }], { isnClient: 2 ** 32 - 1000, isnServer: 2 ** 32 - 1 });
    const data = shuffle(dataOf(segs, 'client'), rng(3));
    const { conns } = record([...segs.slice(0, 3), ...data, ...segs.slice(-3)]);
    expect(Buffer.concat(conns[0]!.client).equals(payload)).toBe(true);
    expect(text(conns[0]!.server)).toBe('ok');
  });

  it('reports a missing segment as a gap of its length and never splices bytes', () => {
    const segs = conversation([{ from: 'client', data: 'aaaaabbbbbccccc', segment: 5 }]);
    const without = segs.filter((s) => s.payload.toString() !== 'bbbbb');
    const { conns, r } = record(without, {}, false);
    expect(text(conns[0]!.client)).toBe('aaaaa<gap 5>ccccc');
    expect(conns[0]!.closed).toBe('fin');
    expect(r.stats.gapBytes).toBe(5);
  });

  it('starts mid-connection at the first seq seen, roles from a server port', () => {
    const segs = conversation([{ from: 'server', data: 'tail of a body' }, { from: 'client', data: 'GET / HTTP/1.1\r\n\r\n' }], { handshake: false });
    const { conns } = record(segs);
    expect(conns[0]!.info.roleSource).toBe('port');
    expect(conns[0]!.info.client).toEqual(CLIENT);
    expect(text(conns[0]!.server)).toBe('tail of a body');
    expect(conns[0]!.info.serverSyn).toBe(false);
  });

  it('guesses the higher port as the client when no port is known', () => {
    const segs = conversation([{ from: 'server', data: 'x' }], { handshake: false, server: { ip: '10.0.0.2', port: 7777 } });
    const { conns } = record(segs);
    expect(conns[0]!.info.roleSource).toBe('guess');
    expect(conns[0]!.info.server.port).toBe(7777);
  });

  it('expires idle connections in capture time and reopens on new data', () => {
    const first = conversation([{ from: 'client', data: 'one' }], { close: 'none' });
    const later = conversation([{ from: 'client', data: 'two' }], { handshake: false, close: 'none', startTs: T0 + 200_000_000, isnClient: 1004 });
    const { conns } = record([...first, ...later], { idleTimeoutUs: 120_000_000 });
    expect(conns).toHaveLength(2);
    expect(conns[0]!.closed).toBe('idle');
    expect(text(conns[1]!.client)).toBe('two');
    expect(conns[1]!.closed).toBe('capture-end');
  });

  it('ignores late packets of a closed connection; a new SYN opens connection #n+1', () => {
    const a = conversation([{ from: 'client', data: 'one' }]);
    const late = { ...a[3]!, ts: a.at(-1)!.ts + 10 };
    const b = conversation([{ from: 'client', data: 'two' }], { startTs: late.ts + 10, isnClient: 90000 });
    const { conns } = record([...a, late, ...b]);
    expect(conns.map((c) => c.info.index)).toEqual([0, 1]);
    expect(text(conns[1]!.client)).toBe('two');
  });

  it('RST gives up the holes and ends both directions', () => {
    const segs = conversation([{ from: 'client', data: 'aaaabbbbcccc', segment: 4 }], { close: 'rst' });
    const without = segs.filter((s) => s.payload.toString() !== 'aaaa');
    const { conns } = record(without, {}, false);
    expect(text(conns[0]!.client)).toBe('<gap 4>bbbbcccc');
    expect(conns[0]!.closed).toBe('reset');
  });

  it('skips ahead when data arrives beyond the window', () => {
    const segs = conversation([{ from: 'client', data: 'start' }], { close: 'none' });
    const last = segs.at(-1)!;
    const far: TcpSegment = { ...last, ts: last.ts + 1, seq: (last.seq + 5 + 10_000) >>> 0, payload: Buffer.from('far') };
    const { conns } = record([...segs, far], { maxConnectionBufferBytes: 4096 });
    expect(text(conns[0]!.client)).toBe('start<gap 10000>far');
  });

  it('bounds one connection: a hole that never fills is given up at the cap', () => {
    const payload = Buffer.alloc(200_000, 0x61);
    const segs = conversation([{ from: 'client', data: payload, segment: 1000 }], { close: 'none' });
    const data = dataOf(segs, 'client').slice(1); // the first segment is never seen
    let peak = 0;
    const budget = new ByteBudget(1 << 30);
    const r = new TcpReassembler({ budget, maxConnectionBufferBytes: 64 * 1024, onConnection: () => ({ data() {}, gap() {}, end() {}, close() {} }) });
    for (const s of [...segs.slice(0, 3), ...data]) {
      r.push(s);
      peak = Math.max(peak, budget.used);
    }
    expect(peak).toBeLessThanOrEqual(64 * 1024 + 1000);
    expect(r.drops['stream-memory']).toBeGreaterThan(0);
    expect(r.stats.gapBytes).toBe(1000);
  });

  it('bounds the total across connections and the number of connections', () => {
    const budget = new ByteBudget(256 * 1024);
    let peak = 0;
    const r = new TcpReassembler({ budget, maxConnections: 50, onConnection: () => ({ data() {}, gap() {}, end() {}, close() {} }) });
    for (let c = 0; c < 80; c++) {
      const client = { ip: '10.1.0.1', port: 20000 + c };
      const segs = conversation([{ from: 'client', data: Buffer.alloc(30_000, 1), segment: 1000 }], { client, close: 'none' });
      for (const s of segs.filter((x) => x.payload.length === 0 || x.seq !== segs[3]!.seq)) {
        r.push(s);
        peak = Math.max(peak, budget.used);
      }
    }
    expect(peak).toBeLessThanOrEqual(256 * 1024 + 1000);
    expect(r.drops['connection-limit']).toBeGreaterThan(0);
    expect(r.drops['stream-memory']).toBeGreaterThan(0);
    expect(r.liveConnections).toBeLessThanOrEqual(50);
    r.end();
    expect(budget.used).toBe(0);
  });

  it('a FIN seen before the last data waits for it', () => {
    const segs = conversation([{ from: 'server', data: 'abcdef', segment: 3 }], { close: 'server-fin' });
    const [d1, d2] = dataOf(segs, 'server');
    const fin = segs.at(-2)!;
    const { conns } = record([...segs.slice(0, 3), d1!, fin, d2!, segs.at(-1)!], {}, false);
    expect(text(conns[0]!.server)).toBe('abcdef');
    expect(conns[0]!.ends[0]).toBe('server:fin');
  });

  it('ignores pure ACKs of unknown connections', () => {
    const ack: TcpSegment = { ts: T0, srcIp: SERVER.ip, dstIp: CLIENT.ip, srcPort: SERVER.port, dstPort: CLIENT.port, seq: 1, ack: 1, flags: TCP_ACK, payload: Buffer.alloc(0), frameBytes: 54 };
    const { conns } = record([ack]);
    expect(conns).toHaveLength(0);
  });
});
