import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Exchange } from '../../store/exchange.js';
import type { RequestResult } from '../../replay/replay-result.js';
import { runReplay } from '../../replay/run-replay.js';
import { makeTempDir } from '../support/temp-dir.js';
import { fixtureExchange, startTarget, writeFixtureStore } from './replay-fixture.js';

/**
 * A correlated store replayed on the open model, without --connection-fidelity:
 * sends that need a `${corr.token}` wait for the login that provides it
 * (dispatch/correlation-gate.ts); unrelated sends are not held back.
 * Real node:http target on loopback, real undici; nothing mocked.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

const USERS = 3;
const LOGIN_DELAY_MS = 200;

/**
 * Recorded (before speed 10): user u logs in at u·500 ms on connection `user-u`, calls GET /me
 * 100 ms and 300 ms later with the token; GET /health every 100 ms on a connection of its own.
 */
function recording(): Exchange[] {
  const out: Array<{ at: number; ex: Exchange }> = [];
  const base = fixtureExchange(0, 0);
  const make = (atMs: number, conn: string, method: string, path: string, headers: Exchange['request']['headers'], meta?: Exchange['meta']): Exchange => ({
    ...base,
    id: `${conn}-${path}-${atMs}`.replace(/[^A-Za-z0-9-]/g, '_'),
    start: base.start + atMs * 1000,
    source: { kind: 'synthetic', captureId: 'corr-wait', connection: conn },
    request: { ...base.request, method, path, query: '', body: null, headers: [['Accept', 'application/json'], ...headers] },
    ...(meta && { meta }),
  });
  for (let u = 0; u < USERS; u++) {
    const t = u * 500;
    out.push({ at: t, ex: make(t, `user-${u}`, 'POST', '/login', [['X-User', `u${u}`]], { replay: { extract: [{ var: 'token', from: 'json', path: '$.token' }] } }) });
    for (const d of [100, 300]) {
      out.push({ at: t + d, ex: make(t + d, `user-${u}`, 'GET', '/me', [['Authorization', 'Bearer ${corr.token}'], ['X-User', `u${u}`]], { replay: { templates: ['request.headers.authorization'] } }) });
    }
  }
  for (let t = 50; t < USERS * 500 + 400; t += 100) out.push({ at: t, ex: make(t, 'monitor', 'GET', '/health', []) });
  return out.sort((a, b) => a.at - b.at).map((e) => e.ex);
}

async function correlatedStore(): Promise<string> {
  const tmp = await makeTempDir('reprise-corr-wait-');
  cleanups.push(tmp.cleanup);
  const exchanges = recording();
  return writeFixtureStore(tmp.dir, exchanges.length, 0, 'recorded', (i) => exchanges[i]!);
}

/** A login that takes LOGIN_DELAY_MS and issues a fresh token each time (or fails with `loginStatus`). */
async function authServer(loginStatus = 200): Promise<{ url: string; issued: Map<string, string> }> {
  const issued = new Map<string, string>(); // token → the user it was issued to
  const target = await startTarget((req, res) => {
    if (req.url === '/login') {
      setTimeout(() => {
        res.statusCode = loginStatus;
        res.setHeader('content-type', 'application/json');
        if (loginStatus !== 200) return res.end(JSON.stringify({ error: 'login unavailable' }));
        const token = randomUUID();
        issued.set(token, String(req.headers['x-user']));
        res.end(JSON.stringify({ token }));
      }, LOGIN_DELAY_MS);
      return;
    }
    if (req.url === '/me') {
      const token = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
      // Another user's token is refused: each session must carry its own login's token.
      res.statusCode = issued.get(token) === req.headers['x-user'] ? 200 : 401;
      return res.end(res.statusCode === 200 ? 'me' : 'not your token');
    }
    res.end('ok');
  });
  cleanups.push(() => target.close());
  return { url: target.url, issued };
}

const lagMs = (r: RequestResult): number => (r.sentUs! - r.intendedUs) / 1000;

describe('correlation waits on the open model', () => {
  it('a send needing a token waits for its login, goes late and succeeds; unrelated sends are not delayed', async () => {
    const store = await correlatedStore();
    const server = await authServer();
    const results: RequestResult[] = [];
    const s = await runReplay({ warmUp: false, store, target: server.url, speed: 10, onResult: (r) => results.push(r) });

    const me = results.filter((r) => r.endpoint.startsWith('GET /me'));
    const health = results.filter((r) => r.endpoint.startsWith('GET /health'));
    const logins = results.filter((r) => r.endpoint.startsWith('POST /login'));
    expect(logins).toHaveLength(USERS);
    expect(me).toHaveLength(USERS * 2);
    expect(server.issued.size).toBe(USERS);
    // Every authenticated call carried the live token the server issued to that user.
    for (const r of me) expect({ status: r.status, error: r.error }).toEqual({ status: 200, error: undefined });
    // Recorded 100 ms and 300 ms after login = 10 and 30 ms at speed 10, but the login takes 200 ms:
    // each /me waited, went out late, and its lag and corrected latency say so.
    expect(s.scheduler.heldForValue).toBe(USERS * 2);
    expect(s.scheduler.startedLate).toBeGreaterThanOrEqual(USERS * 2);
    for (const r of me) {
      expect(lagMs(r)).toBeGreaterThan(LOGIN_DELAY_MS - 40 - 5);
      expect(r.doneUs - r.intendedUs).toBeGreaterThanOrEqual(r.sentUs! - r.intendedUs);
    }
    // The open model holds for the rest: /health goes at its time while logins are pending.
    expect(health.length).toBeGreaterThan(10);
    for (const r of health) {
      expect(r.status).toBe(200);
      expect(lagMs(r)).toBeLessThan(LOGIN_DELAY_MS / 2);
    }
    expect(s.metrics.overall.errors).toBe(0);
  });

  it('a failed login: its dependents fail with the reason, never sent; the run completes', async () => {
    const store = await correlatedStore();
    const server = await authServer(500);
    const results: RequestResult[] = [];
    const s = await runReplay({ warmUp: false, store, target: server.url, speed: 10, onResult: (r) => results.push(r) });
    const me = results.filter((r) => r.endpoint.startsWith('GET /me'));
    expect(me).toHaveLength(USERS * 2);
    for (const r of me) {
      expect(r.sentUs).toBeNull();
      expect(r.error?.kind).toBe('other');
      expect(r.error?.message).toMatch(/^correlation: \$\{corr\.token\} has no value after waiting \d+ ms: its provider POST \/login \(exchange .+, copy 0\) answered 500 without \$\{corr\.token\}$/);
    }
    expect(s.scheduler.heldForValue).toBe(USERS * 2);
    expect(results.filter((r) => r.endpoint.startsWith('GET /health')).every((r) => r.status === 200)).toBe(true);
    expect(s.metrics.overall.errors).toBe(USERS * 2);
  });

  it('a login that never answers: dependents give up after the request timeout with a clear reason', async () => {
    const store = await correlatedStore();
    const target = await startTarget((req, res) => {
      if (req.url === '/login') return; // never answers: undici's headers timeout fails it
      res.end('ok');
    });
    cleanups.push(() => target.close());
    const results: RequestResult[] = [];
    await runReplay({ warmUp: false, store, target: target.url, speed: 10, timeoutMs: 300, onResult: (r) => results.push(r) });
    const logins = results.filter((r) => r.endpoint.startsWith('POST /login'));
    for (const r of logins) expect(r.error?.kind).toBe('timeout');
    const me = results.filter((r) => r.endpoint.startsWith('GET /me'));
    expect(me).toHaveLength(USERS * 2);
    for (const r of me) {
      expect(r.sentUs).toBeNull();
      // Either the login's own timeout released it first, or the wait bound did: both say why.
      expect(r.error?.message).toMatch(/^correlation: (\$\{corr\.token\} has no value after waiting \d+ ms: its provider POST \/login .* failed \(timeout: |gave up after \d+ ms \(the request timeout\) waiting for \$\{corr\.token\})/);
    }
  });

  it('waiting sends are capped by --max-queue: beyond it they are dropped and counted', async () => {
    const store = await correlatedStore();
    const server = await authServer();
    const results: RequestResult[] = [];
    const s = await runReplay({ warmUp: false, store, target: server.url, speed: 10, maxQueue: 1, onResult: (r) => results.push(r) });
    const me = results.filter((r) => r.endpoint.startsWith('GET /me'));
    // Logins take 200 ms, so several /me would wait at once; with room for one, the rest are refused.
    expect(s.scheduler.heldForValue).toBeGreaterThanOrEqual(1);
    expect(s.scheduler.droppedGateFull).toBeGreaterThanOrEqual(1);
    expect(s.scheduler.heldForValue + s.scheduler.droppedGateFull).toBe(USERS * 2);
    expect(me.filter((r) => r.status === 200)).toHaveLength(s.scheduler.heldForValue);
    const dropped = me.filter((r) => r.error?.kind === 'dropped');
    expect(dropped).toHaveLength(s.scheduler.droppedGateFull);
    for (const r of dropped) expect(r.error?.message).toMatch(/waiting for a correlation value.*--max-queue/);
  });

  it('--max-late applies to a send that waited for its value: past it, dropped instead of sent', async () => {
    const store = await correlatedStore();
    const server = await authServer();
    const results: RequestResult[] = [];
    const s = await runReplay({ warmUp: false, store, target: server.url, speed: 10, maxLateMs: 100, onResult: (r) => results.push(r) });
    const me = results.filter((r) => r.endpoint.startsWith('GET /me'));
    // Each /me is due 10 or 30 ms after a login that takes 200 ms: more than 100 ms late by the time the token comes.
    expect(me).toHaveLength(USERS * 2);
    for (const r of me) expect(r.error).toEqual({ kind: 'dropped', message: 'too far behind schedule (--max-late)' });
    expect(s.scheduler.droppedTooLate).toBe(USERS * 2);
  });

  it('with --connection-fidelity too: lanes keep each connection in order and the values still arrive', async () => {
    const store = await correlatedStore();
    const server = await authServer();
    const results: RequestResult[] = [];
    await runReplay({ warmUp: false, store, target: server.url, speed: 10, connectionFidelity: true, onResult: (r) => results.push(r) });
    const me = results.filter((r) => r.endpoint.startsWith('GET /me'));
    expect(me).toHaveLength(USERS * 2);
    for (const r of me) expect(r.status).toBe(200);
  });

  it('stopping the run while sends wait for a value discards them as cancelled, and the run ends', async () => {
    const store = await correlatedStore();
    const server = await authServer();
    const ac = new AbortController();
    const results: RequestResult[] = [];
    // At 60 ms user 0's /me calls wait for a login that answers at 200 ms.
    setTimeout(() => ac.abort(), 60);
    const s = await runReplay({ warmUp: false, store, target: server.url, speed: 10, signal: ac.signal, onResult: (r) => results.push(r) });
    expect(s.scheduler.heldForValue).toBeGreaterThanOrEqual(1);
    expect(s.scheduler.cancelled).toBeGreaterThanOrEqual(1);
    // The in-flight login finished; nothing waiting was sent after the stop.
    expect(results.filter((r) => r.endpoint.startsWith('POST /login')).every((r) => r.status === 200)).toBe(true);
    expect(results.filter((r) => r.endpoint.startsWith('GET /me'))).toHaveLength(0);
  });
});
