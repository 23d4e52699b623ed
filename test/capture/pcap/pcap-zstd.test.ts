/**
 * zstd through the whole pcap path: packets → TCP reassembly → HTTP parse →
 * stored Exchange. The response body is real zstd CLI output (see
 * zstd-fixtures.ts) carried in synthetic TCP segments, since Node 20 can
 * neither send nor decode zstd itself.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pcapExchanges } from '../../../capture/pcap/capture-pcap.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN } from '../../../capture/pcap/tcp-segment.js';
import { bodyToBuffer } from '../../../store/body.js';
import type { Exchange } from '../../../store/exchange.js';
import { ETH_IPV4, ethernet, ipv4, pcapFile, tcp } from './pcap-builder.js';
import { orderListJson, zstdFixture } from './zstd-fixtures.js';

const CLIENT = '127.0.0.1';
const SERVER = '127.0.0.2';
const T0 = 1_763_900_000_000_000;

/** One keep-alive-free HTTP/1.1 exchange whose response carries `body` with the given Content-Length. */
function conversation(body: Buffer, contentLength = body.length): Buffer {
  const request = Buffer.from('GET /api/orders HTTP/1.1\r\nHost: shop.test\r\nAccept-Encoding: zstd\r\n\r\n');
  const head = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: zstd\r\nContent-Length: ${contentLength}\r\n\r\n`);
  const response = Buffer.concat([head, body]);
  let c = 1000;
  let s = 5000;
  let n = 0;
  const records: Array<{ ts: number; data: Buffer }> = [];
  const send = (fromClient: boolean, flags: number, payload = Buffer.alloc(0)) => {
    const seg = tcp({ ts: 0, src: fromClient ? CLIENT : SERVER, dst: fromClient ? SERVER : CLIENT, sport: fromClient ? 50123 : 8080, dport: fromClient ? 8080 : 50123,
      seq: fromClient ? c : s, ack: fromClient ? s : c, flags, payload });
    records.push({ ts: T0 + n++ * 100, data: ethernet(ETH_IPV4, ipv4(fromClient ? CLIENT : SERVER, fromClient ? SERVER : CLIENT, 6, seg)) });
    const advance = payload.length + (flags & (TCP_SYN | TCP_FIN) ? 1 : 0);
    if (fromClient) c += advance;
    else s += advance;
  };
  send(true, TCP_SYN);
  send(false, TCP_SYN | TCP_ACK);
  send(true, TCP_ACK);
  send(true, TCP_PSH | TCP_ACK, request);
  for (let i = 0; i < response.length; i += 1448) send(false, TCP_PSH | TCP_ACK, response.subarray(i, i + 1448));
  send(false, TCP_FIN | TCP_ACK);
  send(true, TCP_FIN | TCP_ACK);
  return pcapFile(1, records);
}

async function captureOf(pcap: Buffer): Promise<Exchange> {
  const out: Exchange[] = [];
  for await (const ex of pcapExchanges(Readable.from([pcap]), { name: 'zstd.pcap', serverPorts: [8080] })) out.push(ex);
  expect(out).toHaveLength(1);
  return out[0]!;
}

describe('pcap capture of zstd responses', () => {
  const ORDERS = orderListJson();
  const ORDERS_ZST = zstdFixture('orders.json.zst');

  it('stores the decoded body and records the original encoding', async () => {
    const ex = await captureOf(conversation(ORDERS_ZST));
    const body = ex.response!.body!;
    expect(body).toMatchObject({ encoding: 'utf8', size: ORDERS.length, contentEncoding: 'zstd' });
    expect(body.truncated).toBeFalsy();
    expect(bodyToBuffer(body).equals(ORDERS)).toBe(true);
    expect(JSON.parse(body.data).orders).toHaveLength(2500);
    expect(ex.meta?.notes).toBeUndefined();
  });

  it('a corrupted body is stored as received with the decoding problem noted', async () => {
    const bad = Buffer.from(ORDERS_ZST);
    bad[30_000] = bad[30_000]! ^ 0x40;
    const ex = await captureOf(conversation(bad));
    const body = ex.response!.body!;
    expect(body.contentEncoding).toBeUndefined();
    expect(bodyToBuffer(body).equals(bad)).toBe(true);
    expect(ex.meta?.notes).toEqual(expect.arrayContaining([expect.stringMatching(/zstd decoding failed .*; body stored as received/)]));
  });

  it('a response cut short by the connection keeps the decoded head, marked truncated', async () => {
    // The server promised the whole frame but closed after 35,000 bytes (past the first of
    // three ~16 KB compressed blocks: zstd decodes block by block).
    const ex = await captureOf(conversation(ORDERS_ZST.subarray(0, 35_000), ORDERS_ZST.length));
    const body = ex.response!.body!;
    expect(body).toMatchObject({ truncated: true, contentEncoding: 'zstd' });
    const stored = bodyToBuffer(body);
    expect(stored.length).toBeGreaterThan(0);
    expect(ORDERS.subarray(0, stored.length).equals(stored)).toBe(true);
    expect(ex.incomplete ?? '').not.toBe('');
  });
});
