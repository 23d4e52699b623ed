import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../support/temp-dir.js';
import { startTarget, writeFixtureStore } from './replay-fixture.js';

const bin = fileURLToPath(new URL('../../bin/reprise.js', import.meta.url));
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

describe('reprise replay: Ctrl-C', () => {
  it('stops sending, lets in-flight requests finish, still prints the summary and exits 0', async () => {
    const tmp = await makeTempDir('reprise-sigint-');
    cleanups.push(tmp.cleanup);
    const store = await writeFixtureStore(tmp.dir, 100, 100_000); // 10 s of recording
    let seen = 0;
    const target = await startTarget((_q, res) => {
      seen++;
      res.end('ok');
    });
    cleanups.push(() => target.close());
    const proc = spawn(process.execPath, [bin, 'replay', store, '--target', target.url, '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    cleanups.push(async () => void proc.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const deadline = Date.now() + 15_000;
    while (seen < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(seen).toBeGreaterThanOrEqual(5);
    proc.kill('SIGINT');
    const [code] = (await once(proc, 'exit')) as [number | null];
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/stopping: no new sends/);
    const summary = JSON.parse(stdout) as { metrics: { overall: { requests: number; completed: number } }; scheduler: { planned: number } };
    // Stopped early: fewer than the 100 recorded, and everything that was sent was answered and counted.
    expect(summary.metrics.overall.requests).toBeLessThan(100);
    expect(summary.metrics.overall.completed).toBe(summary.metrics.overall.requests);
    expect(summary.metrics.overall.requests).toBe(seen);
  }, 20_000);
});
