import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { Exchange } from '../../../store/exchange.js';
import { readExchanges } from '../../../store/segment-reader.js';
import { expectOneLineError, runCli } from '../../support/run-cli.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { cleanup, startUpstream } from './reverse-harness.js';

const bin = fileURLToPath(new URL('../../../bin/reprise.js', import.meta.url));
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await cleanup();
});

interface Running {
  proc: ChildProcess;
  /** pino JSON lines from stderr, parsed as they arrive. */
  logs: Array<Record<string, unknown>>;
  stdout: () => string;
  exited: Promise<number | null>;
}

function spawnProxy(args: string[]): Running {
  const proc = spawn(process.execPath, [bin, 'capture', 'proxy', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  children.push(proc);
  const logs: Running['logs'] = [];
  let out = '';
  let errBuf = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => {
    errBuf += c.toString();
    let nl: number;
    while ((nl = errBuf.indexOf('\n')) !== -1) {
      const line = errBuf.slice(0, nl);
      errBuf = errBuf.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  return { proc, logs, stdout: () => out, exited };
}

async function waitForLog(r: Running, msg: string): Promise<Record<string, unknown>> {
  await expect.poll(() => r.logs.find((l) => l.msg === msg), { timeout: 20_000, interval: 50 }).toBeDefined();
  return r.logs.find((l) => l.msg === msg)!;
}

describe('reprise capture proxy (the real executable)', () => {
  it('records traffic, logs stats on SIGUSR1, and on SIGTERM flushes the store, prints the stats and exits 0', async () => {
    const upstream = await startUpstream((req, res) => res.end(`echo ${req.url}`));
    const tmp = await makeTempDir('reprise-proxy-cli-');
    const store = join(tmp.dir, 'store');
    const r = spawnProxy(['--listen', '127.0.0.1:0', '--upstream', upstream.url, '--out', store]);
    try {
      const ready = await waitForLog(r, 'recording reverse proxy listening');
      const client = new Pool(String(ready.listen), { keepAliveTimeout: 100, keepAliveMaxTimeout: 100 });
      for (let i = 0; i < 12; i++) {
        const res = await client.request({ path: `/cli/${i}`, method: 'GET', headers: { authorization: 'Bearer CLI-SECRET' } });
        expect(await res.body.text()).toBe(`echo /cli/${i}`);
      }
      await client.close();
      r.proc.kill('SIGUSR1');
      const usr1 = await waitForLog(r, 'proxy stats');
      expect(usr1.stats).toMatchObject({ requests: 12, inFlight: 0 });
      r.proc.kill('SIGTERM');
      expect(await r.exited).toBe(0);
      expect(r.stdout()).toMatch(/^requests\s+12$/m);
      expect(r.stdout()).toMatch(/^recorded\s+12$/m);
      expect(r.logs.find((l) => l.msg === 'proxy stopped')).toMatchObject({ stats: { recorder: { recorded: 12, dropped: 0 } } });
      const stored: Exchange[] = [];
      for await (const ex of readExchanges(store)) stored.push(ex);
      expect(stored.map((e) => e.request.path).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `/cli/${i}`).sort());
      expect(JSON.stringify(stored)).not.toContain('CLI-SECRET');
    } finally {
      await tmp.cleanup();
    }
  });

  it('bad flags are one-line usage errors; a bad upstream is reported before any store is created', async () => {
    const tmp = await makeTempDir('reprise-proxy-cli-');
    try {
      const store = join(tmp.dir, 'store');
      const forward = await runCli(['capture', 'proxy', '--forward', '--upstream', 'http://127.0.0.1:1', '--listen', '127.0.0.1:0', '--out', store]);
      expect(forward.code).toBe(2);
      expect(expectOneLineError(forward, 'CLI_USAGE')).toContain('do not go together');
      const flags = await runCli(['capture', 'proxy', '--listen', 'nope', '--upstream', 'http://127.0.0.1:1', '--out', store, '--sample', '2', '--queue-limit', '0']);
      expect(flags.code).toBe(2);
      const line = expectOneLineError(flags, 'CLI_USAGE');
      expect(line).toContain('--listen "nope"');
      expect(line).toContain('--sample "2"');
      expect(line).toContain('--queue-limit "0"');
      const upstream = await runCli(['capture', 'proxy', '--listen', '127.0.0.1:0', '--upstream', 'ftp://x/y', '--out', store]);
      expect(upstream.code).toBe(1);
      expect(expectOneLineError(upstream, 'PROXY_OPTIONS_INVALID')).toContain('upstream');
      expect(existsSync(store)).toBe(false);
    } finally {
      await tmp.cleanup();
    }
  });
});
