// Makes test/fixtures/pcap/*.pcap: real traffic between real clients (curl,
// node fetch) and a real node:http server on 127.0.0.1, captured by tcpdump.
// Run as root on Linux: `npx tsx scripts/make-pcap-fixtures.ts`. Also writes
// <name>.tshark.txt, what tshark decodes from each file, so tests can compare
// against it where tshark is not installed.
import { spawn, execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';

const out = fileURLToPath(new URL('../test/fixtures/pcap/', import.meta.url));

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/gzip') {
      const json = JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item-${i}` })) });
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(json));
    } else if (url.pathname === '/big') {
      const big = Buffer.alloc(1_000_000);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 8)) & 0xff;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': big.length });
      res.end(big);
    } else if (url.pathname === '/chunked') {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
      for (let i = 0; i < 5; i++) res.write(`chunk ${i}\n`);
      res.addTrailers({ 'x-checksum': 'abc123' });
      res.end();
    } else if (url.pathname === '/upload') {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ received: body.length }));
    } else if (url.pathname === '/missing') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    } else if (url.pathname === '/empty') {
      res.writeHead(204);
      res.end();
    } else {
      const id = /^\/users\/(\d+)$/.exec(url.pathname)?.[1];
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1; Path=/', 'b=2; HttpOnly'] });
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ id: Number(id ?? 0), path: url.pathname, q: url.search }));
    }
  });
}

async function capture(name: string, traffic: (port: number) => Promise<void>): Promise<void> {
  const server = createServer(handle);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const file = `${out}${name}.pcap`;
  const dump = spawn('tcpdump', ['-i', 'lo', '-s0', '-U', '--immediate-mode', '-B', '65536', '-w', file, `tcp port ${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let dumpLog = '';
  await new Promise<void>((resolve) => dump.stderr.on('data', (c: Buffer) => { dumpLog += c.toString(); if (dumpLog.includes('listening')) resolve(); }));
  await traffic(port);
  await sleep(1500); // let the last packets reach the file before SIGINT
  dump.kill('SIGINT');
  await new Promise((r) => dump.on('close', r));
  if (!/\b0 packets dropped by kernel/.test(dumpLog)) throw new Error(`tcpdump dropped packets, capture is unusable:\n${dumpLog}`);
  server.close();
  server.closeAllConnections();
  const decoded = execFileSync('tshark', ['-r', file, '-Y', 'http.request || http.response', '-T', 'fields', '-e', 'http.request.method', '-e', 'http.request.uri', '-e', 'http.response.code'], { encoding: 'utf8' });
  writeFileSync(`${out}${name}.tshark.txt`, decoded);
  console.log(`${name}.pcap: ${decoded.trim().split('\n').length} HTTP messages`);
}

// Async: the server under capture runs in this process's event loop.
async function curl(args: string[]): Promise<void> {
  await promisify(execFile)('curl', ['-s', '-o', '/dev/null', ...args]);
}

await capture('loopback-curl', async (port) => {
  const base = `http://127.0.0.1:${port}`;
  // One curl with several URLs reuses one keep-alive connection.
  await curl([`${base}/users/1`, `${base}/users/2?verbose=1&x=%20y`, `${base}/missing`, `${base}/empty`]);
  await curl(['-I', `${base}/users/3`]); // HEAD
  await curl(['--compressed', `${base}/gzip`]);
  await curl([`${base}/chunked`]);
  // Chunked upload with Expect: 100-continue (curl sends it for chunked uploads).
  const upload = '/tmp/reprise-upload.bin';
  writeFileSync(upload, Buffer.alloc(200_000, 0x61));
  await curl(['-H', 'Transfer-Encoding: chunked', '-H', 'Expect: 100-continue', '--data-binary', `@${upload}`, `${base}/upload`]);
  await curl([`${base}/big`]); // a body spanning many segments
});

await capture('loopback-node-keepalive', async (port) => {
  const agent = new Agent({ keepAliveTimeout: 2000, connections: 1 });
  for (let i = 0; i < 10; i++) {
    const method = i % 3 === 2 ? 'POST' : 'GET';
    const res = await request(`http://127.0.0.1:${port}/users/${100 + i}`, {
      method,
      dispatcher: agent,
      headers: { 'content-type': 'application/json', 'x-dup': ['a', 'b'] },
      body: method === 'POST' ? JSON.stringify({ n: i }) : undefined,
    });
    await res.body.text();
  }
  await agent.close();
});
