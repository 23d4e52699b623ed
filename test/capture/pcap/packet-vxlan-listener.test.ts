import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { listenVxlan, type VxlanListener } from '../../../capture/pcap/vxlan-listener.js';
import type { TcpSegment } from '../../../capture/pcap/tcp-segment.js';
import { RepriseError } from '../../../errors.js';
import { ETH_IPV4, ethernet, ipv4, tcp, vxlan } from './pcap-builder.js';

/** The live VXLAN listener, fed by a UDP socket standing in for AWS Traffic Mirroring. */

const listeners: VxlanListener[] = [];
const senders: Socket[] = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close()));
  for (const s of senders.splice(0)) s.close();
});

const mirrored = (i: number, dport = 80) =>
  vxlan(ethernet(ETH_IPV4, ipv4('10.0.0.1', '10.0.0.2', 6, tcp({ ts: 0, src: '10.0.0.1', dst: '10.0.0.2', sport: 3000 + i, dport, seq: i, ack: 0, flags: 0x18, payload: Buffer.from(`request ${i}`) }))), 7);

async function send(port: number, datagrams: Buffer[]): Promise<void> {
  const s = createSocket('udp4');
  senders.push(s);
  for (const d of datagrams) await new Promise<void>((resolve, reject) => s.send(d, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
}

async function take(iterable: AsyncIterable<TcpSegment>, n: number): Promise<TcpSegment[]> {
  const out: TcpSegment[] = [];
  if (n === 0) return out;
  for await (const s of iterable) {
    out.push(s);
    if (out.length === n) break;
  }
  return out;
}

describe('listenVxlan', () => {
  it('turns mirrored datagrams into segments, filtering and counting what it cannot use', async () => {
    const l = await listenVxlan({ host: '127.0.0.1', port: 0, ports: [80] });
    listeners.push(l);
    expect(l.address.port).toBeGreaterThan(0);
    const before = Date.now() * 1000;
    await send(l.address.port, [mirrored(1), Buffer.from('junk'), mirrored(2, 22), mirrored(3)]);
    const got = await take(l.segments, 2);
    expect(got.map((s) => [s.srcPort, s.payload.toString()])).toEqual([
      [3001, 'request 1'],
      [3003, 'request 3'],
    ]);
    expect(got[0]!.ts).toBeGreaterThanOrEqual(before - 1000);
    expect(l.stats.drops).toEqual({ 'truncated-frame': 1, filtered: 1 });
    expect(l.stats).toMatchObject({ packets: 4, segments: 2, vxlanFrames: 3 });
  });

  it('ends the iteration on close, after the queued segments', async () => {
    const l = await listenVxlan({ host: '127.0.0.1', port: 0 });
    listeners.push(l);
    await send(l.address.port, [mirrored(1)]);
    while (l.stats.packets < 1) await new Promise((r) => setTimeout(r, 5));
    await l.close();
    const rest: TcpSegment[] = [];
    for await (const s of l.segments) rest.push(s);
    expect(rest).toHaveLength(1);
  });

  it('drops and counts segments when the consumer falls behind the queue bound', async () => {
    const l = await listenVxlan({ host: '127.0.0.1', port: 0, queueLimit: 2 });
    listeners.push(l);
    await send(l.address.port, [1, 2, 3, 4, 5].map((i) => mirrored(i)));
    while (l.stats.packets < 5) await new Promise((r) => setTimeout(r, 5));
    expect(l.stats.drops).toEqual({ 'stream-memory': 3 });
    expect((await take(l.segments, 2)).map((s) => s.seq)).toEqual([1, 2]);
  });

  it('reports a port it cannot bind as CAPTURE_LISTEN', async () => {
    const first = await listenVxlan({ host: '127.0.0.1', port: 0 });
    listeners.push(first);
    const err = await listenVxlan({ host: '127.0.0.1', port: first.address.port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RepriseError);
    expect((err as RepriseError).code).toBe('CAPTURE_LISTEN');
    expect((err as RepriseError).message).toMatch(/EADDRINUSE/);
  });
});
