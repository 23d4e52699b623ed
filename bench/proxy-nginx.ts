import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The proxy bench's nginx processes, and what the bench reads of any process
 * it started (CPU time, peak RSS) from /proc. Each nginx runs from a config
 * generated in its own directory — `master_process off` and one worker, so
 * the process spawned is the one serving, pinned to a core with taskset —
 * with every temp path inside that directory and no access log.
 */

/** The upstream's one resource: a small JSON document, as an API would answer. */
export const UPSTREAM_PATH = '/api/users.json';
const UPSTREAM_BODY = `${JSON.stringify({ users: Array.from({ length: 3 }, (_, i) => ({ id: i + 1, name: `user-${i + 1}`, email: `u${i + 1}@example.test`, active: true })) })}\n`;

export interface NginxProcess {
  readonly pid: number;
  readonly port: number;
  stop(): Promise<void>;
}

/** nginx serving UPSTREAM_PATH as a static file (cached open), keep-alive without a request limit. */
export function startUpstreamNginx(dir: string, core: number): Promise<NginxProcess> {
  mkdirSync(join(dir, 'html', 'api'), { recursive: true });
  writeFileSync(join(dir, 'html', UPSTREAM_PATH), UPSTREAM_BODY);
  return startNginx(dir, core, (port) => `
  open_file_cache max=16 inactive=600s;
  open_file_cache_valid 600s;
  types { application/json json; }
  server { listen 127.0.0.1:${port}; root ${dir}/html; }`);
}

/**
 * nginx as a reverse proxy to `upstreamPort`: HTTP/1.1 to the upstream with a
 * keep-alive pool of 64 (more than wrk's 32 connections, so it never opens
 * connections during a run), as a production nginx in front of an app is set up.
 */
export function startProxyNginx(dir: string, core: number, upstreamPort: number): Promise<NginxProcess> {
  return startNginx(dir, core, (port) => `
  upstream app {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
    keepalive_requests 100000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }`);
}

async function startNginx(dir: string, core: number, servers: (port: number) => string): Promise<NginxProcess> {
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const port = await freePort();
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/tmp;`).join('\n');
  const errorLog = join(dir, 'error.log');
  writeFileSync(join(dir, 'nginx.conf'), `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${errorLog} warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 65s;
${temp}
  default_type application/octet-stream;
${servers(port)}
}
`);
  // taskset execs nginx: the child's pid is nginx's.
  const child = spawn('taskset', ['-c', String(core), '/usr/sbin/nginx', '-c', join(dir, 'nginx.conf'), '-p', dir, '-e', errorLog], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const why = (): string => `nginx did not start: ${stderr}${existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : ''}`;
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(why());
    return canConnect(port);
  }, 10_000, why);
  return { pid: child.pid!, port, stop: () => stopChild(child) };
}

/** SIGTERM (nginx: fast shutdown; node workers: default exit) and wait for the exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** CPU time a process has used so far, in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name: state is [0], utime [11], stime [12] (clock ticks).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
}

// sysconf(_SC_CLK_TCK): 100 on every Linux the bench runs on (x86-64 and arm64 ABIs fix it).
const CLOCK_TICKS = 100;

/** Peak resident set size of a live process so far (VmHWM), in MB (2^20 bytes). */
export function peakRssMB(pid: number): number {
  const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib) / 1024;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

async function waitFor(done: () => Promise<boolean>, ms: number, why: () => string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(why());
    await sleep(50);
  }
}
