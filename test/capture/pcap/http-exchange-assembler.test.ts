import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { orderByStart } from '../../../capture/pcap/http-exchange-order.js';
import { RepriseError } from '../../../errors.js';
import { bodyToBuffer } from '../../../store/body.js';
import type { Exchange } from '../../../store/exchange.js';
import { exchangeProblems } from '../../../store/validate-exchange.js';
import { HttpExchangeAssembler } from '../../../capture/pcap/http-exchange-assembler.js';
import type { PairedMessages } from '../../../capture/pcap/http-exchange-builder.js';
import { ExchangeQueue } from '../../../capture/pcap/http-exchange-queue.js';
import type { MessageHead } from '../../../capture/pcap/http-head.js';
import { BodyStore } from '../../../capture/pcap/http-body-store.js';
import type { ParsedMessage } from '../../../capture/pcap/http-parser.js';
import { ByteBudget } from '../../../capture/pcap/tcp-byte-budget.js';
import { assemble, bodyText, conversation, dataOf, http, rng, shuffle, slice, T0 } from '../../support/tcp-conversation.js';

const GET = (path: string, extra: string[] = []) => http([`GET ${path} HTTP/1.1`, 'Host: api.test', ...extra]);
const OK = (body: string | Buffer, extra: string[] = []) =>
  http(['HTTP/1.1 200 OK', `Content-Length: ${Buffer.byteLength(body)}`, ...extra], body);

function valid(exchanges: Exchange[]): void {
  for (const ex of exchanges) expect(exchangeProblems(JSON.parse(JSON.stringify(ex)))).toEqual([]);
}

describe('HttpExchangeAssembler: framing', () => {
  it('keep-alive: several exchanges on one connection, with URL pieces, headers and timing', () => {
    const segs = conversation([
      { from: 'client', data: http(['GET /users/1?x=1&y=%20 HTTP/1.1', 'Host: api.test:8080', 'X-Dup: a', 'x-dup: b', 'Accept: */*']) },
      { from: 'server', data: OK('{"id":1}', ['Content-Type: application/json']), pauseUs: 5000 },
      { from: 'client', data: http(['POST /orders HTTP/1.1', 'Host: api.test:8080', 'Content-Length: 11'], '{"item":42}') },
      { from: 'server', data: http(['HTTP/1.1 201 Created', 'Content-Length: 0']) },
      { from: 'client', data: http(['GET /health HTTP/1.0']) },
      { from: 'server', data: http(['HTTP/1.0 200 OK', 'Content-Length: 2'], 'up') },
    ]);
    const { exchanges, stats } = assemble(segs);
    valid(exchanges);
    expect(exchanges).toHaveLength(3);
    const [a, b, c] = exchanges as [Exchange, Exchange, Exchange];
    expect(a.request).toMatchObject({ method: 'GET', scheme: 'http', authority: 'api.test:8080', path: '/users/1', query: 'x=1&y=%20', httpVersion: '1.1' });
    expect(a.request.headers).toEqual([['Host', 'api.test:8080'], ['X-Dup', 'a'], ['x-dup', 'b'], ['Accept', '*/*']]);
    expect(a.response).toMatchObject({ status: 200, statusText: 'OK', httpVersion: '1.1' });
    expect(bodyText(a)).toBe('{"id":1}');
    expect(a.source).toEqual({ kind: 'pcap', captureId: 'test', connection: '10.0.0.1:51000-10.0.0.2:80#0', seq: 0 });
    expect(a.network).toEqual({ client: '10.0.0.1:51000', server: '10.0.0.2:80' });
    expect(a.start).toBe(segs[3]!.ts);
    expect(a.duration).toBe(5100);
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(bodyText(b, 'request')).toBe('{"item":42}');
    expect(b.response?.status).toBe(201);
    expect(b.response?.body).toBeNull();
    expect(c.request.httpVersion).toBe('1.0');
    expect(c.request.authority).toBe('10.0.0.2:80');
    expect(exchanges.map((x) => x.source.seq)).toEqual([0, 1, 2]);
    expect(stats).toMatchObject({ exchanges: 3, incomplete: 0, noResponse: 0, connections: 1, bufferedBytes: 0 });
    expect(stats.drops).toEqual({});
  });

  it('pipelining: five requests, then five responses, paired in order', () => {
    const reqs = [1, 2, 3, 4, 5].map((i) => GET(`/p/${i}`));
    const ress = [1, 2, 3, 4, 5].map((i) => OK(`body ${i}`));
    const segs = conversation([{ from: 'client', data: Buffer.concat(reqs) }, { from: 'server', data: Buffer.concat(ress), segment: 7 }]);
    const { exchanges } = assemble(segs);
    expect(exchanges.map((x) => `${x.request.path}=${bodyText(x)}`)).toEqual(['/p/1=body 1', '/p/2=body 2', '/p/3=body 3', '/p/4=body 4', '/p/5=body 5']);
  });

  it('chunked response with trailers; chunk extensions ignored', () => {
    const body = '5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n';
    const segs = conversation([
      { from: 'client', data: GET('/c') },
      { from: 'server', data: http(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked']) + body, segment: 3 },
    ]);
    const { exchanges } = assemble(segs);
    expect(bodyText(exchanges[0])).toBe('hello, world');
    expect(exchanges[0]!.response!.body!.size).toBe(12);
    expect(exchanges[0]!.meta?.responseTrailers).toEqual([['X-Checksum', 'abc'], ['X-Other', '1']]);
  });

  it('chunked upload with Expect: 100-continue: the interim 100 is noted, the final response kept', () => {
    const segs = conversation([
      { from: 'client', data: http(['PUT /upload HTTP/1.1', 'Host: up.test', 'Transfer-Encoding: chunked', 'Expect: 100-continue']) },
      { from: 'server', data: http(['HTTP/1.1 100 Continue']) },
      { from: 'client', data: '3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n' },
      { from: 'server', data: http(['HTTP/1.1 201 Created', 'Content-Length: 4'], 'done') },
    ]);
    const { exchanges } = assemble(segs);
    expect(exchanges).toHaveLength(1);
    const ex = exchanges[0]!;
    expect(bodyText(ex, 'request')).toBe('abcdef');
    expect(ex.response?.status).toBe(201);
    expect(bodyText(ex)).toBe('done');
    expect(ex.meta?.interimResponses).toEqual([{ status: 100, statusText: 'Continue', headers: [] }]);
    expect(ex.duration).toBe(segs.at(-3)!.ts - segs[3]!.ts);
  });

  it('HEAD responses have no body even with Content-Length; 204 and 304 have none either', () => {
    const segs = conversation([
      { from: 'client', data: http(['HEAD /big HTTP/1.1', 'Host: h']) },
      { from: 'server', data: http(['HTTP/1.1 200 OK', 'Content-Length: 123456']) },
      { from: 'client', data: http(['DELETE /x HTTP/1.1', 'Host: h']) },
      { from: 'server', data: http(['HTTP/1.1 204 No Content']) },
      { from: 'client', data: http(['GET /cached HTTP/1.1', 'Host: h', 'If-None-Match: "v1"']) },
      { from: 'server', data: http(['HTTP/1.1 304 Not Modified', 'Content-Length: 99', 'ETag: "v1"']) },
      { from: 'client', data: GET('/after') },
      { from: 'server', data: OK('still in sync') },
    ]);
    const { exchanges, stats } = assemble(segs);
    expect(exchanges.map((x) => [x.request.method, x.response?.status, x.response?.body ?? null])).toEqual([
      ['HEAD', 200, null], ['DELETE', 204, null], ['GET', 304, null], ['GET', 200, expect.anything()],
    ]);
    expect(bodyText(exchanges[3])).toBe('still in sync');
    expect(stats.incomplete).toBe(0);
  });

  it('101 Switching Protocols: the exchange is kept, the WebSocket frames after it are not parsed', () => {
    const frames = Buffer.from([0x82, 0x05, 1, 2, 3, 4, 5, 0x81, 0x02, 0x47, 0x45]);
    const segs = conversation([
      { from: 'client', data: http(['GET /ws HTTP/1.1', 'Host: ws.test', 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==']) },
      { from: 'server', data: http(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade']) },
      { from: 'client', data: frames },
      { from: 'server', data: Buffer.concat([frames, Buffer.from('HTTP/1.1 200 OK\r\n\r\n')]) },
      { from: 'client', data: 'GET /not-http HTTP/1.1\r\n\r\n' },
    ]);
    const { exchanges, stats } = assemble(segs);
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]!.response?.status).toBe(101);
    expect(exchanges[0]!.meta?.tunnel).toBe(true);
    expect(stats.drops).toEqual({});
  });

  it('client bytes sent right after an Upgrade request wait for the verdict (declined → parsed as HTTP)', () => {
    const segs = conversation([
      { from: 'client', data: Buffer.concat([http(['GET /a HTTP/1.1', 'Host: h', 'Upgrade: h2c', 'Connection: Upgrade, HTTP2-Settings']), GET('/b')]) },
      { from: 'server', data: Buffer.concat([OK('a'), OK('b')]) },
    ]);
    const { exchanges } = assemble(segs);
    expect(exchanges.map((x) => [x.request.path, bodyText(x)])).toEqual([['/a', 'a'], ['/b', 'b']]);
  });

  it('CONNECT 200: the tunnel is recorded, its bytes are not parsed', () => {
    const tls = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]);
    const segs = conversation([
      { from: 'client', data: http(['CONNECT example.com:443 HTTP/1.1', 'Host: example.com:443']) },
      { from: 'server', data: http(['HTTP/1.1 200 Connection Established']) },
      { from: 'client', data: tls },
      { from: 'server', data: tls },
    ], { server: { ip: '10.0.0.9', port: 3128 } });
    const { exchanges, stats } = assemble(segs, { serverPorts: [3128] });
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]!.request).toMatchObject({ method: 'CONNECT', authority: 'example.com:443', path: '' });
    expect(exchanges[0]!.meta?.tunnel).toBe(true);
    expect(stats.drops).toEqual({});
  });

  it('Connection: close without length: the body is read until the server closes', () => {
    const body = 'x'.repeat(5000);
    const segs = conversation([
      { from: 'client', data: GET('/stream', ['Connection: close']) },
      { from: 'server', data: http(['HTTP/1.1 200 OK', 'Connection: close']) + body },
    ], { close: 'server-fin' });
    const { exchanges } = assemble(segs);
    expect(bodyText(exchanges[0])).toBe(body);
    expect(exchanges[0]!.incomplete).toBeUndefined();
    const cut = assemble(segs.slice(0, -2)).exchanges[0]!;
    expect(cut.incomplete).toMatch(/capture ended before the connection closed/);
  });

  it('Transfer-Encoding wins over Content-Length, and says so', () => {
    const segs = conversation([
      { from: 'client', data: GET('/te') },
      { from: 'server', data: http(['HTTP/1.1 200 OK', 'Content-Length: 3', 'Transfer-Encoding: chunked']) + '6\r\nchunky\r\n0\r\n\r\n' },
    ]);
    const ex = assemble(segs).exchanges[0]!;
    expect(bodyText(ex)).toBe('chunky');
    expect(ex.meta?.notes).toEqual(['response has both Transfer-Encoding and Content-Length; Transfer-Encoding wins']);
  });

  it('absolute-form targets give the authority; obs-fold is joined', () => {
    const segs = conversation([
      { from: 'client', data: http(['GET http://proxy.target:81/p/q?z=1 HTTP/1.1', 'Host: other', 'X-Long: part one', '  part two']) },
      { from: 'server', data: OK('') },
    ]);
    const ex = assemble(segs).exchanges[0]!;
    expect(ex.request).toMatchObject({ authority: 'proxy.target:81', path: '/p/q', query: 'z=1' });
    expect(ex.request.headers).toContainEqual(['X-Long', 'part one part two']);
  });
});

describe('HttpExchangeAssembler: content encodings', () => {
  const text = JSON.stringify({ hello: 'world', list: Array.from({ length: 200 }, (_, i) => i) });
  const cases: Array<[string, Buffer, string]> = [
    ['gzip', gzipSync(text), 'gzip'],
    ['x-gzip', gzipSync(text), 'x-gzip'],
    ['deflate', deflateSync(text), 'deflate'],
    ['deflate', deflateRawSync(text), 'deflate'],
    ['br', brotliCompressSync(text), 'br'],
    ['gzip, br', brotliCompressSync(gzipSync(text)), 'gzip, br'],
  ];
  for (const [header, wire, recorded] of cases) {
    it(`decodes ${header} (${wire.length} wire bytes) and keeps the encoding`, () => {
      const segs = conversation([
        { from: 'client', data: GET('/enc', ['Accept-Encoding: gzip, deflate, br']) },
        { from: 'server', data: http(['HTTP/1.1 200 OK', `Content-Encoding: ${header}`, `Content-Length: ${wire.length}`], wire), segment: 100 },
      ]);
      const body = assemble(segs).exchanges[0]!.response!.body!;
      expect(body).toMatchObject({ encoding: 'utf8', data: text, size: text.length, contentEncoding: recorded });
      expect(body.truncated).toBeUndefined();
    });
  }
});

describe('HttpExchangeAssembler: capture damage', () => {
  it('a body over 200 segments delivered out of order, retransmitted and overlapping is byte-identical', () => {
    const random = rng(42);
    const body = Buffer.from(Array.from({ length: 200 * 700 }, () => Math.floor(random() * 256)));
    const segs = conversation([{ from: 'client', data: GET('/bin') }, { from: 'server', data: OK(body, ['Content-Type: application/octet-stream']), segment: 700 }]);
    const server = dataOf(segs, 'server');
    const noisy = [...server];
    for (const s of server) {
      if (random() < 0.25) noisy.push(s);
      if (random() < 0.25) noisy.push(slice(s, 100, 650));
    }
    const firstServer = segs.indexOf(server[0]!);
    const mixed = [...segs.slice(0, firstServer), ...shuffle(noisy, random), ...segs.slice(firstServer + server.length)];
    const { exchanges, stats } = assemble(mixed);
    expect(exchanges).toHaveLength(1);
    expect(bodyToBuffer(exchanges[0]!.response!.body).equals(body)).toBe(true);
    expect(exchanges[0]!.incomplete).toBeUndefined();
    expect(stats.tcp.duplicateBytes).toBeGreaterThan(0);
  });

  it('a missing segment in a body: exchange incomplete, body cut at the gap, framing kept for the next exchange', () => {
    const body = 'A'.repeat(1000) + 'B'.repeat(1000) + 'C'.repeat(1000);
    const segs = conversation([
      { from: 'client', data: GET('/gap') },
      { from: 'server', data: OK(body), segment: 1000 },
      { from: 'client', data: GET('/next') },
      { from: 'server', data: OK('next body') },
    ]);
    const lost = segs.filter((s) => !s.payload.toString().startsWith('AAAA'));
    const { exchanges, stats } = assemble(lost);
    expect(exchanges).toHaveLength(2);
    const ex = exchanges[0]!;
    expect(ex.incomplete).toMatch(/gap of 1000 bytes in the response body/);
    // The second server segment (the last A's, most B's) is lost: only what came before it is stored.
    const headLen = OK(body).length - body.length;
    expect(bodyText(ex)).toBe('A'.repeat(1000 - headLen));
    expect(ex.response!.body).toMatchObject({ size: 3000, truncated: true });
    expect(bodyText(exchanges[1])).toBe('next body');
    expect(exchanges[1]!.incomplete).toBeUndefined();
    expect(stats.incomplete).toBe(1);
  });

  it('a lost response head: the request is kept with no response, the next pair stays right', () => {
    const segs = conversation([
      { from: 'client', data: GET('/one') },
      { from: 'server', data: http(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked']) + '4\r\nlost\r\n0\r\n\r\n' },
      { from: 'client', data: GET('/two') },
      { from: 'server', data: OK('two') },
    ]);
    const lost = segs.filter((s) => !s.payload.toString().startsWith('HTTP/1.1 200 OK\r\nTransfer'));
    const { exchanges } = assemble(lost);
    expect(exchanges.map((x) => [x.request.path, x.response?.status ?? null])).toEqual([['/one', null], ['/two', 200]]);
    expect(exchanges[0]!.incomplete).toMatch(/response lost/);
    expect(bodyText(exchanges[1])).toBe('two');
  });

  it('a lost request head: its response is dropped instead of being paired with the next request', () => {
    const segs = conversation([
      { from: 'client', data: GET('/one') },
      { from: 'server', data: OK('one') },
      { from: 'client', data: GET('/two') },
      { from: 'server', data: OK('two') },
      { from: 'client', data: GET('/three') },
      { from: 'server', data: OK('three') },
    ]);
    const lost = segs.filter((s) => !s.payload.toString().startsWith('GET /two'));
    const { exchanges, stats } = assemble(lost);
    expect(exchanges.map((x) => `${x.request.path}=${bodyText(x)}`)).toEqual(['/one=one', '/three=three']);
    expect(stats.orphanResponses).toBe(1);
  });

  it('a request and its response both lost, the server gap found first: the pairs after them stay right', () => {
    const segs = conversation([
      { from: 'client', data: GET('/one') },
      { from: 'server', data: OK('one') },
      { from: 'client', data: GET('/two') },
      { from: 'server', data: OK('two') },
      { from: 'client', data: GET('/three') },
      { from: 'server', data: OK('three') },
      { from: 'client', data: GET('/four') },
      { from: 'server', data: OK('four') },
    ]);
    // GET /three ACKs past the lost response (server gap: nothing waits), then OK('three') ACKs past the lost request.
    const lost = segs.filter((s) => !s.payload.toString().startsWith('GET /two') && !s.payload.toString().endsWith('two'));
    const { exchanges, stats } = assemble(lost);
    expect(exchanges.map((x) => `${x.request.path}=${bodyText(x)}`)).toEqual(['/one=one', '/three=three', '/four=four']);
    expect(stats.noResponse).toBe(0);
  });

  it('a response that came while nothing waited answers the request found lost just after it', () => {
    const queue = new ExchangeQueue((p) => emitted.push(p), () => dropped++);
    const emitted: PairedMessages[] = [];
    let dropped = 0;
    const msg = (head: MessageHead): ParsedMessage => ({
      head, startTs: 0, endTs: 0, framing: 'none', body: new BodyStore(0, new ByteBudget(1024)), trailers: null, incomplete: null, parseError: null, orphan: false, notes: [],
    });
    const req = (target: string) => msg({ kind: 'request', method: 'GET', target, version: '1.1', headers: [] });
    const res = () => msg({ kind: 'response', status: 200, statusText: 'OK', version: '1.1', headers: [] });
    const answer = (r: ParsedMessage) => (queue.responseStarted(r) ? queue.responseEnded(r) : undefined);
    const one = req('/one');
    queue.addRequest(one);
    queue.requestEnded(one);
    answer(res());
    expect(answer(res())).toBeUndefined(); // an orphan: the answer to a request not seen yet
    queue.requestLost(); // ... which the client's next bytes show was lost
    const three = req('/three');
    queue.addRequest(three);
    queue.requestEnded(three);
    answer(res());
    expect(emitted.map((p) => [(p.request.head as { target: string }).target, p.response !== null])).toEqual([['/one', true], ['/three', true]]);
    // Once a request was seen, older orphans answer nothing that is found lost later.
    queue.requestLost();
    const four = req('/four');
    queue.addRequest(four);
    queue.requestEnded(four);
    answer(res()); // the lost request's
    expect(dropped).toBe(1);
    expect(emitted).toHaveLength(2);
  });

  it('capture starting mid-connection: the tail of an earlier response is skipped, parsing resynchronises', () => {
    const segs = conversation([
      { from: 'server', data: 'rest of an earlier body\r\n{"a":"HTTP/1.1 200"}\r\n' },
      { from: 'client', data: GET('/fresh') },
      { from: 'server', data: OK('fresh') },
    ], { handshake: false });
    const { exchanges, stats } = assemble(segs);
    expect(exchanges.map((x) => [x.request.path, bodyText(x)])).toEqual([['/fresh', 'fresh']]);
    expect(stats.drops).toEqual({});
  });

  it('capture starting inside a request body resynchronises on the next request line', () => {
    const segs = conversation([
      { from: 'client', data: 'ody of a POST":1}' },
      { from: 'server', data: OK('for the POST') },
      { from: 'client', data: GET('/next') },
      { from: 'server', data: OK('next') },
    ], { handshake: false });
    const { exchanges, stats } = assemble(segs);
    // The POST's response has no request to answer: it is an orphan, dropped and counted.
    expect(exchanges.map((x) => [x.request.path, bodyText(x)])).toEqual([['/next', 'next']]);
    expect(stats.orphanResponses).toBe(1);
  });

  it('roles from content when neither SYN nor ports say which side is the server', () => {
    const segs = conversation([
      { from: 'client', data: GET('/who') },
      { from: 'server', data: OK('me') },
    ], { handshake: false, client: { ip: '10.0.0.1', port: 4000 }, server: { ip: '10.0.0.2', port: 45000 } });
    const { exchanges } = assemble(segs, { serverPorts: [] });
    expect(exchanges[0]!.network).toEqual({ client: '10.0.0.1:4000', server: '10.0.0.2:45000' });
    expect(bodyText(exchanges[0])).toBe('me');
  });

  it('a request without a response is stored with response null', () => {
    const segs = conversation([{ from: 'client', data: GET('/void') }], { close: 'none' });
    const { exchanges, stats } = assemble(segs);
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]!.response).toBeNull();
    expect(exchanges[0]!.error).toEqual({ kind: 'no-response', message: 'no response seen before the connection ended (capture-end)' });
    expect(exchanges[0]!.duration).toBeNull();
    expect(stats.noResponse).toBe(1);
    valid(exchanges);
  });

  it('a reset before the response gives error kind reset', () => {
    const segs = conversation([{ from: 'client', data: GET('/rst') }], { close: 'rst' });
    expect(assemble(segs).exchanges[0]!.error?.kind).toBe('reset');
  });

  it('sequence numbers wrapping around 2^32 inside an exchange', () => {
    const body = 'w'.repeat(10_000);
    const segs = conversation([{ from: 'client', data: GET('/wrap') }, { from: 'server', data: OK(body), segment: 1000 }], { isnClient: 2 ** 32 - 20, isnServer: 2 ** 32 - 3000 });
    const ex = assemble(segs).exchanges[0]!;
    expect(bodyText(ex)).toBe(body);
    expect(ex.incomplete).toBeUndefined();
  });

  it('idle expiry ends a connection in capture time', () => {
    const first = conversation([{ from: 'client', data: GET('/idle') }], { close: 'none' });
    const other = conversation([{ from: 'client', data: GET('/other') }, { from: 'server', data: OK('x') }], { client: { ip: '10.0.0.3', port: 5000 }, startTs: T0 + 10_000_000 });
    const exchanges: Exchange[] = [];
    const asm = new HttpExchangeAssembler({ captureId: 't', idleTimeoutUs: 5_000_000 }, (ex) => exchanges.push(ex));
    for (const s of [...first, ...other]) asm.push(s);
    expect(exchanges.map((x) => x.request.path)).toEqual(['/idle', '/other']);
    expect(exchanges[0]!.error?.message).toMatch(/idle/);
    asm.end();
  });

  it('body cap: stored prefix marked truncated, true size kept', () => {
    const body = 'z'.repeat(50_000);
    const segs = conversation([{ from: 'client', data: GET('/big') }, { from: 'server', data: OK(body) }]);
    const res = assemble(segs, { bodyCap: 1000 }).exchanges[0]!.response!;
    expect(res.body).toMatchObject({ size: 50_000, truncated: true });
    expect(res.body!.data).toBe('z'.repeat(1000));
  });

  it('a TLS stream on port 80 is not HTTP: no exchange, counted once', () => {
    const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);
    const segs = conversation([{ from: 'client', data: hello }, { from: 'server', data: hello }]);
    const { exchanges, stats } = assemble(segs);
    expect(exchanges).toHaveLength(0);
    expect(stats.drops).toEqual({ 'not-http': 1 });
  });

  it('rejects bad options with every problem at once', () => {
    expect(() => new HttpExchangeAssembler({ captureId: '', bodyCap: -1, serverPorts: [0] }, () => {})).toThrow(RepriseError);
    try {
      new HttpExchangeAssembler({ captureId: '', bodyCap: -1, serverPorts: [0] }, () => {});
    } catch (err) {
      expect((err as RepriseError).code).toBe('CAPTURE_OPTIONS_INVALID');
      expect((err as Error).message).toMatch(/captureId.*bodyCap.*serverPorts/);
    }
  });
});

describe('orderByStart', () => {
  it('restores start order across connections within the window', () => {
    const slow = conversation([{ from: 'client', data: GET('/slow') }, { from: 'server', data: OK('slow'), pauseUs: 2_000_000 }], { client: { ip: '10.0.0.5', port: 6000 } });
    const fast = conversation([{ from: 'client', data: GET('/fast') }, { from: 'server', data: OK('fast') }], { startTs: T0 + 500_000 });
    const merged = [...slow, ...fast].sort((a, b) => a.ts - b.ts);
    const unordered = assemble(merged).exchanges.map((x) => x.request.path);
    expect(unordered).toEqual(['/fast', '/slow']);
    const out: Exchange[] = [];
    const ordered = orderByStart((ex) => out.push(ex), { windowUs: 10_000_000 });
    const asm = new HttpExchangeAssembler({ captureId: 't' }, (ex) => ordered.push(ex));
    for (const s of merged) asm.push(s);
    asm.end();
    ordered.flush();
    expect(out.map((x) => x.request.path)).toEqual(['/slow', '/fast']);
    expect(ordered.late).toBe(0);
  });

  it('passes late arrivals through and counts them; bounded by maxBuffered', () => {
    const out: number[] = [];
    const ex = (start: number) => ({ start }) as Exchange;
    const o = orderByStart((e) => out.push(e.start), { windowUs: 10, maxBuffered: 3 });
    let most = 0;
    for (const s of [5, 1, 3, 20, 2, 12, 11, 40]) {
      o.push(ex(s));
      most = Math.max(most, o.buffered);
    }
    o.flush();
    expect(most).toBeLessThanOrEqual(3);
    expect(out).toEqual([1, 3, 5, 2, 11, 12, 20, 40]);
    expect(o.late).toBe(1);
  });
});

