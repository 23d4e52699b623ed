import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { newPacketStats } from '../../../capture/pcap/packet-stats.js';
import { readTcpSegments } from '../../../capture/pcap/read-tcp-segments.js';
import { TCP_ACK, TCP_SYN, type TcpSegment } from '../../../capture/pcap/tcp-segment.js';

/**
 * Real tcpdump on loopback, read while it is still writing: the pipe a user
 * sets up with `tcpdump -w - | reprise import -`. Skipped, with the reason
 * printed, where tcpdump is missing or may not capture (no CAP_NET_RAW).
 * --immediate-mode: without it libpcap hands packets to tcpdump in blocks, up
 * to a second late, and the test would wait for that instead of for our reader.
 */

const TCPDUMP = '/usr/bin/tcpdump';
let server: Server | undefined;
let dump: ChildProcessByStdio<null, Readable, Readable> | undefined;

afterEach(async () => {
  if (dump && dump.exitCode === null && dump.signalCode === null) {
    dump.kill('SIGKILL');
    await once(dump, 'close');
  }
  dump = undefined;
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  server = undefined;
});

/** Resolves once tcpdump says it is listening; or with the reason it will not. */
function whenListening(child: ChildProcessByStdio<null, Readable, Readable>): Promise<string | undefined> {
  return new Promise((resolve) => {
    let stderr = '';
    const timer = setTimeout(() => resolve(`tcpdump did not start listening within 10 s: ${stderr.trim()}`), 10_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/listening on/.test(stderr)) {
        clearTimeout(timer);
        resolve(undefined);
      }
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve(`cannot run tcpdump: ${err.message}`);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(`tcpdump exited with ${code}: ${stderr.trim()}`);
    });
  });
}

describe('live capture', () => {
  it('reads segments from a running `tcpdump -U -w -` as they are written', async (ctx) => {
    if (!existsSync(TCPDUMP)) {
      console.warn(`skipping live tcpdump test: ${TCPDUMP} not found`);
      ctx.skip(`${TCPDUMP} not found`);
    }
    server = createServer((req, res) => res.end(`hello ${req.url}`));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;

    dump = spawn(TCPDUMP, ['-i', 'lo', '-s0', '-U', '--immediate-mode', '-w', '-', 'tcp', 'port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const problem = await whenListening(dump);
    if (problem !== undefined) {
      console.warn(`skipping live tcpdump test: ${problem}`);
      ctx.skip(problem);
    }

    const stats = newPacketStats();
    const seen: TcpSegment[] = [];
    let wake: (() => void) | undefined;
    const reading = (async () => {
      for await (const s of readTcpSegments(dump!.stdout, { name: 'tcpdump', ports: [port] }, stats)) {
        seen.push({ ...s, payload: Buffer.from(s.payload) });
        wake?.();
      }
    })();
    const until = async (what: string, test: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!test()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; saw ${seen.length} segments`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
    };
    const payloads = () => seen.map((s) => s.payload.toString('latin1')).join('');

    for (const path of ['/a', '/b', '/c']) {
      // A fresh agent per request: one connection (one SYN) each, closed right after.
      const agent = new Agent({ keepAliveTimeout: 10 });
      const res = await request(`http://127.0.0.1:${port}${path}`, { dispatcher: agent });
      expect(await res.body.text()).toBe(`hello ${path}`);
      await agent.close();
      // tcpdump is still running: the request must already have come through the pipe.
      await until(`GET ${path}`, () => payloads().includes(`GET ${path} HTTP/1.1`));
    }
    await until('the last response', () => payloads().includes('hello /c'));

    dump.kill('SIGINT');
    await reading;
    const syns = seen.filter((s) => s.flags & TCP_SYN && !(s.flags & TCP_ACK) && s.dstPort === port);
    expect(syns).toHaveLength(3);
    expect(new Set(syns.map((s) => s.srcIp))).toEqual(new Set(['127.0.0.1']));
    expect(seen.filter((s) => s.flags & TCP_SYN && s.flags & TCP_ACK && s.srcPort === port)).toHaveLength(3);
    for (const path of ['/a', '/b', '/c']) expect(payloads()).toContain(`hello ${path}`);
    expect(stats.linkTypes).toEqual({ 1: stats.packets });
    expect(stats.drops).toEqual({});
    expect(stats.truncatedAt).toBeUndefined();
  });
});
