import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createCa, issueLeaf, openCaSigner } from '../../capture/proxy/ca-create.js';
import { evenlySpaced, MAX_PREBUILT, runMax } from '../../replay/max/run-max.js';
import { runMaxSharded } from '../../replay/max/run-max-sharded.js';
import type { RequestResult } from '../../replay/replay-result.js';
import { makeTempDir } from '../support/temp-dir.js';
import { fixtureExchange, startTarget, writeFixtureStore } from './replay-fixture.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

describe('--max: the recorded mix through autocannon', () => {
  it('drives the mix in a closed loop and converts every response into a RequestResult', async () => {
    const tmp = await makeTempDir('reprise-max-');
    cleanups.push(tmp.cleanup);
    const store = await writeFixtureStore(tmp.dir, 10, 1_000);
    const paths = new Map<string, number>();
    const target = await startTarget((req, res) => {
      const p = req.url!.split('?')[0]!;
      paths.set(p, (paths.get(p) ?? 0) + 1);
      res.statusCode = req.method === 'PUT' ? 503 : 200;
      res.end('answer');
    });
    cleanups.push(() => target.close());
    const results: RequestResult[] = [];
    const s = await runMax({ store, target: target.url, connections: 4, durationMs: 1_000, onResult: (r) => results.push(r) });
    expect(s.mix).toBe(10);
    // Every response autocannon counted arrived as a result, and the metrics saw them all.
    expect(results.length).toBeGreaterThanOrEqual(s.autocannon.requests);
    expect(s.metrics.overall.completed).toBe(results.filter((r) => r.status !== null).length);
    expect(s.metrics.overall.completed).toBeGreaterThan(50);
    // The mix is sent round-robin: every recorded path was hit, PUTs answered 503 and grouped under their endpoint.
    expect([...paths.keys()].sort()).toEqual([...new Set(Array.from({ length: 10 }, (_, i) => fixtureExchange(i, 0).request.path))].sort());
    const put = Object.entries(s.metrics.endpoints).find(([k]) => k.startsWith('PUT '));
    expect(put?.[1].status['5xx']).toBeGreaterThan(0);
    expect(s.metrics.overall.status['5xx']).toBe(results.filter((r) => r.status === 503).length);
    for (const r of results.slice(0, 20)) {
      expect(r.sentUs).toBe(r.intendedUs);
      expect(r.doneUs).toBeGreaterThanOrEqual(r.sentUs!);
    }
  }, 15_000);

  it('--workers: the connections are split over processes, which start together and whose metrics merge', async () => {
    const tmp = await makeTempDir('reprise-max-');
    cleanups.push(tmp.cleanup);
    const store = await writeFixtureStore(tmp.dir, 10, 1_000);
    const sockets = new Set<string>();
    const firstAt: number[] = [];
    let answered = 0;
    const target = await startTarget((req, res) => {
      const peer = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
      if (!sockets.has(peer)) firstAt.push(Date.now());
      sockets.add(peer);
      answered++;
      res.statusCode = req.method === 'PUT' ? 503 : 200;
      res.end('answer');
    });
    cleanups.push(() => target.close());
    const s = await runMaxSharded({ store, target: target.url, connections: 5, durationMs: 1_500 }, 2);
    // 5 connections over 2 processes (3 + 2): five sockets reached the target.
    expect(sockets.size).toBe(5);
    // One agreed start: every connection opened within a moment of the first (not one process, then the other).
    expect(Math.max(...firstAt) - Math.min(...firstAt)).toBeLessThan(500);
    // autocannon's totals from both workers add up, and the merged metrics saw every answer it counted.
    expect(s.autocannon.requests).toBeGreaterThan(50);
    expect(s.metrics.overall.completed).toBeGreaterThanOrEqual(s.autocannon.requests);
    expect(s.metrics.overall.completed).toBeLessThanOrEqual(answered);
    expect(s.metrics.overall.status['5xx']).toBeGreaterThan(0);
    expect(s.autocannon.non2xx).toBe(s.metrics.overall.status['5xx']);
    expect(s.mix).toBe(10);
    // Each worker ran for the duration; neither ran twice as long.
    expect(s.elapsedMs).toBeGreaterThanOrEqual(1_400);
    expect(s.elapsedMs).toBeLessThan(4_000);
  }, 30_000);

  it('--workers needs a connection per worker; a worker error comes back as the same one-line error', async () => {
    const tmp = await makeTempDir('reprise-max-');
    cleanups.push(tmp.cleanup);
    const store = await writeFixtureStore(tmp.dir, 3, 1_000);
    await expect(runMaxSharded({ store, target: 'http://127.0.0.1:1', connections: 2, durationMs: 1_000 }, 3)).rejects.toThrow(/3 workers need at least 3 connections/);
    await expect(runMaxSharded({ store, target: 'http://api.recorded.test:1', durationMs: 1_000 }, 2)).rejects.toMatchObject({ code: 'REPLAY_RECORDED_HOST' });
  }, 20_000);

  it('refuses the recorded host and an empty mix with one clear error each', async () => {
    const tmp = await makeTempDir('reprise-max-');
    cleanups.push(tmp.cleanup);
    const store = await writeFixtureStore(tmp.dir, 3, 1_000);
    await expect(runMax({ store, target: 'http://api.recorded.test:1', durationMs: 1_000 })).rejects.toMatchObject({ code: 'REPLAY_RECORDED_HOST' });
    await expect(runMax({ store, target: 'http://127.0.0.1:1', durationMs: 1_000, excludeMethods: ['GET', 'POST', 'PUT'] })).rejects.toMatchObject({ code: 'REPLAY_OPTIONS_INVALID' });
    await expect(runMax({ store, target: 'http://127.0.0.1:1', connections: 0 })).rejects.toMatchObject({ code: 'REPLAY_OPTIONS_INVALID' });
  });
  it('an https target whose certificate does not verify is refused (autocannon itself never verifies); --ca-file or --insecure let it run', async () => {
    const tmp = await makeTempDir('reprise-max-');
    cleanups.push(tmp.cleanup);
    const store = await writeFixtureStore(tmp.dir, 3, 1_000);
    const ca = await createCa();
    const leaf = await issueLeaf(await openCaSigner(ca), '127.0.0.1');
    let answered = 0;
    const server = https.createServer({ cert: leaf.cert, key: leaf.key }, (req, res) => {
      req.resume();
      answered++;
      res.end('tls ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));
    const target = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

    await expect(runMax({ store, target, connections: 2, durationMs: 1_000 })).rejects.toMatchObject({ code: 'REPLAY_TARGET_UNTRUSTED', message: expect.stringMatching(/the certificate does not verify \([A-Z_]+\)/) });
    expect(answered).toBe(0);
    const trusted = await runMax({ store, target, connections: 2, durationMs: 1_000, ca: Buffer.from(ca.cert) });
    expect(trusted.metrics.overall.status['2xx']).toBeGreaterThan(0);
    const insecure = await runMax({ store, target, connections: 2, durationMs: 1_000, insecure: true });
    expect(insecure.metrics.overall.status['2xx']).toBeGreaterThan(0);
  }, 15_000);

  it('thins a large mix for many connections (autocannon builds every entry in every connection), evenly over what was read', async () => {
    const tmp = await makeTempDir('reprise-max-');
    cleanups.push(tmp.cleanup);
    const store = await writeFixtureStore(tmp.dir, 3_000, 1_000);
    const traces = new Set<string>();
    const target = await startTarget((req, res) => {
      traces.add(String(req.headers['x-trace']));
      res.end('ok');
    });
    cleanups.push(() => target.close());
    const connections = 40; // 250 entries each: 10,000 builds, where 3,000 would have been 120,000
    const s = await runMax({ store, target: target.url, connections, durationMs: 1_000 });
    expect(s).toMatchObject({ mix: MAX_PREBUILT / connections, mixRead: 3_000 });
    // Every 12th exchange of the 3,000 read (each connection starts from the first): t-0, t-12, t-24, …
    expect(traces.has('t-0') && traces.has('t-12')).toBe(true);
    expect([...traces].every((t) => Number(t.slice(2)) % 12 === 0)).toBe(true);
  });
});

describe('evenlySpaced', () => {
  it('keeps everything up to n, else n items evenly spaced in order, from the first', () => {
    expect(evenlySpaced([1, 2, 3], 5)).toEqual([1, 2, 3]);
    expect(evenlySpaced([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 5)).toEqual([0, 2, 4, 6, 8]);
    expect(evenlySpaced(Array.from({ length: 10_000 }, (_, i) => i), 3)).toEqual([0, 3333, 6666]);
  });
});
