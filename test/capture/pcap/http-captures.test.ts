import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HttpExchangeAssembler, type HttpExchangeAssemblerStats } from '../../../capture/pcap/http-exchange-assembler.js';
import { readTcpSegments } from '../../../capture/pcap/read-tcp-segments.js';
import { bodyToBuffer } from '../../../store/body.js';
import type { Exchange } from '../../../store/exchange.js';
import { exchangeProblems } from '../../../store/validate-exchange.js';
import { sharedFixturesMissing, skipBecause } from '../../support/skip-reason.js';

/**
 * Real captures (the public Zeek/tcpdump files in ../shared/fixtures/pcaps,
 * origin in its README.md) through packet reading, reassembly and HTTP
 * parsing. Body hashes are those of `tshark -r F --export-objects http,DIR`
 * (tshark 4.0.17), which also undoes Content-Encoding.
 */

const dir = fileURLToPath(new URL('../../../../shared/fixtures/pcaps/', import.meta.url));

async function exchangesOf(file: string, serverPorts?: number[]): Promise<{ exchanges: Exchange[]; stats: HttpExchangeAssemblerStats }> {
  const exchanges: Exchange[] = [];
  const asm = new HttpExchangeAssembler({ captureId: file, ...(serverPorts ? { serverPorts } : {}) }, (ex) => exchanges.push(ex));
  for await (const seg of readTcpSegments(createReadStream(dir + file), { name: file })) asm.push(seg);
  asm.end();
  for (const ex of exchanges) expect(exchangeProblems(JSON.parse(JSON.stringify(ex)))).toEqual([]);
  return { exchanges, stats: asm.stats };
}

const hashes = (exchanges: Exchange[]): string[] =>
  exchanges.flatMap((ex) => [ex.request.body, ex.response?.body])
    .filter((b) => b != null)
    .map((b) => createHash('sha256').update(bodyToBuffer(b)).digest('hex').slice(0, 16));

const summary = (ex: Exchange): string => `${ex.request.method} ${ex.request.path} → ${ex.response?.status ?? ex.error?.kind}`;

describe.skipIf(skipBecause(sharedFixturesMissing(dir)))('real captures', () => {
  it('pipelined requests: five exchanges in order, gzip undone, bodies as tshark sees them', async () => {
    const { exchanges } = await exchangesOf('zeek/http_pipelined-requests.pcap');
    expect(exchanges.map((x) => x.request.path)).toEqual([
      '/style/enhanced.css', '/script/urchin.js', '/images/template/screen/bullet_utility.png',
      '/images/template/screen/key-point-top.png', '/projects/calendar/images/header-sunbird.png',
    ]);
    expect(exchanges.map((x) => x.source.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(exchanges[0]!.response!.body!.contentEncoding).toBe('gzip');
    expect(hashes(exchanges)).toEqual(['5b037a2c5e36f56e', '6a509fd05aa7c8fa', '6fb22aa9d780ea63', 'e0b4500c1fd1d675', 'eb482bda230a215b']);
  });

  it('100-continue: one POST, the interim response noted', async () => {
    const { exchanges } = await exchangesOf('zeek/http_100-continue.pcap');
    expect(exchanges.map(summary)).toEqual(['POST / → 200']);
    expect(exchanges[0]!.meta?.interimResponses).toEqual([{ status: 100, statusText: 'Continue', headers: [] }]);
    expect(hashes(exchanges)).toEqual(['4cd5e6ce1f3c8b55', '65faf1719a4e8676']);
  });

  it('gzip, x-gzip and raw deflate ("missing zlib header") bodies are decoded', async () => {
    const gzip = await exchangesOf('zeek/http_get-gzip.pcap');
    expect(hashes(gzip.exchanges)).toEqual(['202b775be087f5af']);
    const xgzip = await exchangesOf('zeek/http_x-gzip.pcap');
    expect(xgzip.exchanges[0]!.response!.body!.contentEncoding).toBe('x-gzip');
    expect(hashes(xgzip.exchanges)).toEqual(['e62e2e4e455ae0f6']);
    const raw = await exchangesOf('zeek/http_missing-zlib-header.pcap');
    expect(raw.exchanges.map((x) => x.response?.body?.contentEncoding)).toEqual(['deflate', 'deflate']);
    expect(hashes(raw.exchanges)).toEqual(['21f693252bc94381', '21f693252bc94381']);
  });

  it('large POST bodies on two connections', async () => {
    const { exchanges } = await exchangesOf('zeek/http_http-post-large.pcap', [80, 5000]);
    expect(exchanges.map((x) => x.source.connection)).toEqual(['127.0.0.1:37526-127.0.0.1:80#0', '127.0.0.1:60644-127.0.0.1:5000#1']);
    expect(hashes(exchanges)).toEqual(['58750bf4c0817c46', '5379b6ee9c4a6db0', '58750bf4c0817c46', '5379b6ee9c4a6db0']);
  });

  it('a capture without SYNs, and one without FINs, give the same exchange as the whole one', async () => {
    const whole = (await exchangesOf('zeek/http_get.pcap')).exchanges.map(summary);
    expect(whole).toEqual(['GET /download/CHANGES.bro-aux.txt → 200']);
    expect((await exchangesOf('zeek/http_get_nosyn.pcap')).exchanges.map(summary)).toEqual(whole);
    expect((await exchangesOf('zeek/http_get-without-fins.pcap')).exchanges.map(summary)).toEqual(whole);
  });

  it('a missing segment in a body marks the exchange incomplete, keeps the true size', async () => {
    const { exchanges, stats } = await exchangesOf('zeek/http_entity_gap.pcap');
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]!.incomplete).toBe('capture gap of 1448 bytes in the response body');
    expect(exchanges[0]!.response!.body).toMatchObject({ size: 4705, truncated: true });
    expect(stats.tcp.gapBytes).toBe(1448);
  });

  it('WebSocket upgrade, CONNECT and a Docker attach (101) end HTTP parsing on their connection', async () => {
    const ws = await exchangesOf('zeek/http_websocket.pcap');
    expect(ws.exchanges.map(summary)).toEqual(['GET /echo → 101']);
    expect(ws.stats.drops).toEqual({});
    const connect = await exchangesOf('zeek/http_connect-with-header.pcap');
    expect(connect.exchanges.map(summary)).toEqual(['CONNECT  → 200']);
    expect(connect.exchanges[0]!.request.authority).toBe('secure.newegg.com:443');
    const docker = await exchangesOf('zeek/http_docker-http-upgrade.pcap', [2375]);
    expect(docker.exchanges.map((x) => x.response?.status)).toEqual([200, 201, 101, 204, 200, 200]);
  });

  it('request smuggling probes: Transfer-Encoding wins over Content-Length', async () => {
    const { exchanges } = await exchangesOf('zeek/http_261_variant-04-te_cl_desync.pcap');
    expect(exchanges.map((x) => x.request.path)).toEqual(['/', '/smuggled-te-cl']);
    expect(exchanges[0]!.meta?.notes).toEqual(['request has both Transfer-Encoding and Content-Length; Transfer-Encoding wins']);
  });

  it('malformed request lines that the server answered are kept, noted; the rest counted', async () => {
    const { exchanges, stats } = await exchangesOf('zeek/http_methods.pcap');
    expect(exchanges.length).toBe(27);
    // 22 connections whose first line has no valid method ("GET/ HTTP/1.1", "OPTIONSHTTP/1.1", bytes ≥ 0x80).
    expect(stats.drops['http-parse-error']).toBe(22);
    expect(stats.drops['not-http']).toBeUndefined();
    const line = (x: Exchange) => [x.request.method, x.request.path, x.request.httpVersion, x.response?.status, x.meta?.notes];
    const byConnection = (n: number) => exchanges.find((x) => x.source.connection!.endsWith(`#${n}`))!;
    expect(line(byConnection(1))).toEqual(['OPTIONS', 'HTTP/1.1', '0.9', 400, ['malformed request line: no HTTP version (read as HTTP/0.9)']]);
    expect(line(byConnection(3))).toEqual(['OPTIONS', '', '0.9', 400, ['malformed request line: no request target; no HTTP version (read as HTTP/0.9)']]);
    expect(line(byConnection(5))).toEqual(['GET', '/', '1.0', 200, ['malformed request line: HTTP version "HTTP/1." (read as 1.0)']]);
    expect(line(byConnection(6))).toEqual(['GET', '/HTTP/1.1', '0.9', 403, ['malformed request line: no HTTP version (read as HTTP/0.9)']]);
    expect(line(byConnection(4))).toEqual(['GET', '/', '1.1', 200, undefined]);
  });

  it('a request and its response both dropped: the pairs after them stay right', async () => {
    const { exchanges, stats } = await exchangesOf('zeek/http_zero-length-bodies-with-drops.pcap');
    expect(exchanges.map((x) => x.response?.status)).toEqual([302, 200, 302, 200, 200, 200, 200]);
    // Each response came 0.1–0.2 s after its request; a shifted pairing would span seconds to minutes.
    for (const x of exchanges) expect(x.duration).toBeLessThan(250_000);
    expect(stats.orphanResponses).toBe(1); // the answer to the request lost in the second drop
  });

  it('HTTP inside VXLAN', async () => {
    const { exchanges } = await exchangesOf('zeek/tunnels_vxlan-encapsulated-http.pcap');
    expect(exchanges.map(summary)).toEqual(['GET /image/svg → 200']);
  });
});
