import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/**
 * The pcap bench's input: a real capture of a wrk load test against nginx on
 * loopback, made on demand and cached under bench/out/ by target size.
 *
 * nginx serves a handful of small static files with keep-alive; wrk (one
 * thread, 8 connections) cycles through GET and POST requests on several
 * paths, so the capture holds 200s, 404s and 405s to POSTs with a request
 * body (no HEAD: wrk 4.1 waits for a body after a HEAD and stalls). wrk is
 * stopped once tcpdump's file reaches the target size; a capture with packets
 * dropped by the kernel is refused. The port is one tshark decodes as HTTP by
 * default, so `tshark -Y http.request` needs no `-d` option.
 */

export interface WrkCapture {
  file: string;
  bytes: number;
  /** From tcpdump's closing lines. */
  packets: number;
  droppedByKernel: number;
  wrkSeconds: number;
  createdAt: string;
}

const OUT_DIR = fileURLToPath(new URL('./out/', import.meta.url));
// Ports tshark's HTTP dissector claims by default (tshark -G decodes).
const PORTS = [8080, 8088];
// 64 MiB of kernel buffer (-B is in KiB): loopback at wrk speed fills the default 2 MiB in milliseconds.
const TCPDUMP_BUFFER_KIB = 65536;

const FILES: Record<string, string> = {
  'index.html': `<!doctype html><title>bench</title><p>${'lorem ipsum dolor sit amet '.repeat(20)}</p>\n`,
  'api/users.json': `${JSON.stringify({ users: Array.from({ length: 4 }, (_, i) => ({ id: i + 1, name: `user-${i + 1}`, email: `u${i + 1}@example.test` })) })}\n`,
  'api/items.json': `${JSON.stringify({ items: Array.from({ length: 8 }, (_, i) => ({ id: i, price: i * 3.5 })) })}\n`,
  'static/app.js': `// bench asset\n${'export const f = (x) => x * 2;\n'.repeat(100)}`,
};

// One request per call, cycling; page=N varies the query string. delay(): 1 ms
// between requests on each connection (~5k requests/s on 8 connections). Flat
// out (~40k/s) tcpdump, sharing 2 vCPUs with wrk and nginx, drops packets.
const LUA = `
delay = function() return 1 end
local reqs = nil
local i = 0
request = function()
  if reqs == nil then
    local json = { ["Accept"] = "application/json" }
    reqs = {
      function(n) return wrk.format("GET", "/") end,
      function(n) return wrk.format("GET", "/api/users.json", json) end,
      function(n) return wrk.format("GET", "/api/items.json?page=" .. (n % 50), json) end,
      function(n) return wrk.format("GET", "/static/app.js") end,
      function(n) return wrk.format("GET", "/missing/" .. (n % 10)) end,
      function(n) return wrk.format("GET", "/api/users.json?id=" .. n, json) end,
      function(n) return wrk.format("POST", "/api/users.json", { ["Content-Type"] = "application/json" }, '{"name":"new","n":' .. n .. '}') end,
    }
  end
  i = i + 1
  return reqs[(i % #reqs) + 1](i)
end
`;

/** A capture of at least `targetMB` (10^6 bytes), from the cache or made now. */
export async function wrkCapture(targetMB: number, log: (line: string) => void): Promise<WrkCapture> {
  const file = join(OUT_DIR, `pcap-wrk-${targetMB}MB.pcap`);
  const metaFile = `${file}.json`;
  if (existsSync(file) && existsSync(metaFile)) return JSON.parse(readFileSync(metaFile, 'utf8')) as WrkCapture;
  mkdirSync(OUT_DIR, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const meta = await recordCapture(file, targetMB, log);
    if (meta.droppedByKernel === 0) {
      writeFileSync(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
      return meta;
    }
    rmSync(file);
    if (attempt === 3) throw new Error(`tcpdump dropped packets in 3 attempts (last: ${meta.droppedByKernel}); the capture would have gaps`);
    log(`tcpdump dropped ${meta.droppedByKernel} packets; capturing again`);
  }
}

async function recordCapture(file: string, targetMB: number, log: (line: string) => void): Promise<WrkCapture> {
  log(`capturing ~${targetMB} MB of wrk → nginx traffic on 127.0.0.1 into ${file}`);
  const dir = mkdtempSync(join(tmpdir(), 'reprise-bench-nginx-'));
  const children: ChildProcess[] = [];
  const partial = `${file}.partial`;
  try {
    const port = await freePort();
    const nginx = await startNginx(dir, port);
    children.push(nginx);
    const dump = spawn('tcpdump', ['-i', 'lo', '-s0', '-U', '--immediate-mode', '-B', String(TCPDUMP_BUFFER_KIB), '-w', partial, 'tcp', 'port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(dump);
    let dumpErr = '';
    dump.stderr.setEncoding('utf8').on('data', (d: string) => (dumpErr += d));
    const size = (): number => (existsSync(partial) ? statSync(partial).size : 0);
    await waitFor(() => dumpErr.includes('listening on'), 10_000, () => `tcpdump did not start: ${dumpErr}`);

    writeFileSync(join(dir, 'mix.lua'), LUA);
    const started = performance.now();
    const wrk = spawn('wrk', ['-t1', '-c8', '-d600s', '--latency', '-s', join(dir, 'mix.lua'), `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(wrk);
    let wrkOut = '';
    wrk.stdout.setEncoding('utf8').on('data', (d: string) => (wrkOut += d));
    const wrkExit = once(wrk, 'exit');
    let seen = 0;
    let lastGrowth = performance.now();
    await waitFor(() => {
      const bytes = size();
      if (bytes > seen) [seen, lastGrowth] = [bytes, performance.now()];
      else if (performance.now() - lastGrowth > 5000) throw new Error(`the capture stopped growing at ${bytes} bytes: wrk or nginx stalled`);
      return bytes >= targetMB * 1e6 || wrk.exitCode !== null;
    }, 600_000, () => 'wrk ran for 600 s without filling the capture');
    if (wrk.exitCode !== null) throw new Error(`wrk exited (${wrk.exitCode}) before the capture reached ${targetMB} MB: ${wrkOut}`);
    wrk.kill('SIGINT');
    await wrkExit;
    const wrkSeconds = (performance.now() - started) / 1000;
    // Let the last FINs reach tcpdump before it is stopped (--immediate-mode hands each packet over at once).
    await sleep(500);
    const dumpExit = once(dump, 'exit');
    dump.kill('SIGINT');
    await dumpExit;
    const packets = Number(/(\d+) packets captured/.exec(dumpErr)?.[1] ?? NaN);
    const droppedByKernel = Number(/(\d+) packets dropped by kernel/.exec(dumpErr)?.[1] ?? NaN);
    if (!Number.isFinite(droppedByKernel)) throw new Error(`tcpdump did not report its packet counts: ${dumpErr}`);
    log(`wrk: ${wrkOut.split('\n').find((l) => l.includes('requests in'))?.trim() ?? wrkOut}; tcpdump: ${packets} packets, ${droppedByKernel} dropped by kernel`);
    const meta: WrkCapture = { file, bytes: size(), packets, droppedByKernel, wrkSeconds, createdAt: new Date().toISOString() };
    renameSync(partial, file);
    return meta;
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    rmSync(partial, { force: true });
  }
}

async function startNginx(dir: string, port: number): Promise<ChildProcess> {
  for (const [name, text] of Object.entries(FILES)) {
    mkdirSync(join(dir, 'html', name, '..'), { recursive: true });
    writeFileSync(join(dir, 'html', name), text);
  }
  mkdirSync(join(dir, 'tmp'));
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/tmp;`).join('\n');
  writeFileSync(join(dir, 'nginx.conf'), `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 60s;
${temp}
  types { text/html html; application/json json; application/javascript js; }
  default_type application/octet-stream;
  server { listen 127.0.0.1:${port}; root ${dir}/html; }
}
`);
  const nginx = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  nginx.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const why = (): string => `nginx did not start: ${err}${readLog(join(dir, 'error.log'))}`;
  await waitFor(() => {
    if (nginx.exitCode !== null) throw new Error(why());
    return canConnect(port);
  }, 10_000, why);
  return nginx;
}

async function freePort(): Promise<number> {
  for (const port of PORTS) {
    const server = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) {
      await new Promise((r) => server.close(r));
      return port;
    }
  }
  throw new Error(`ports ${PORTS.join(', ')} (tshark's default HTTP ports) are all in use`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

async function waitFor(done: () => boolean | Promise<boolean>, ms: number, why: () => string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(why());
    await sleep(20);
  }
}

function readLog(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

export function toolVersions(): string {
  // wrk --version exits 1; nginx -v prints to stderr.
  const first = (cmd: string, args: string[]): string => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return (r.stdout || r.stderr || String(r.error)).split('\n')[0]!.trim();
  };
  return [first('tshark', ['--version']), first('tcpdump', ['--version']), first('wrk', ['--version']), first('nginx', ['-v'])].join('; ');
}
