import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createCa, issueLeaf, openCaSigner } from '../../capture/proxy/ca-create.js';
import type { Exchange, Header } from '../../store/exchange.js';
import { readExchanges } from '../../store/segment-reader.js';
import type { RequestResult } from '../../replay/replay-result.js';
import { runReplay } from '../../replay/run-replay.js';
import { makeTempDir } from '../support/temp-dir.js';
import { fixtureExchange, startTarget, writeFixtureStore } from './replay-fixture.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

async function tempStore(n: number, gapUs: number, make?: (i: number, gap: number) => Exchange): Promise<{ dir: string; store: string }> {
  const tmp = await makeTempDir('reprise-dispatch-');
  cleanups.push(tmp.cleanup);
  return { dir: tmp.dir, store: await writeFixtureStore(tmp.dir, n, gapUs, 'recorded', make) };
}

describe('dispatch', () => {
  it('per-connection fidelity: each recorded connection on one socket of its own, in recorded order', async () => {
    const { store } = await tempStore(24, 2_000); // 4 recorded connections (c0..c3), 6 requests each
    const socketIds = new WeakMap<Socket, number>();
    let sockets = 0;
    const arrivals: Array<{ socket: number; trace: string }> = [];
    const target = await startTarget((req, res) => {
      if (!socketIds.has(req.socket)) socketIds.set(req.socket, ++sockets);
      arrivals.push({ socket: socketIds.get(req.socket)!, trace: String(req.headers['x-trace']) });
      // Slow enough that a pool would spread a connection's requests over several sockets.
      setTimeout(() => res.end('ok'), 15);
    });
    cleanups.push(() => target.close());
    const s = await runReplay({ warmUp: false, store, target: target.url, connectionFidelity: true, concurrency: 64 });
    expect(s.metrics.overall.completed).toBe(24);
    const byConnection = new Map<string, { sockets: Set<number>; order: number[] }>();
    for (const a of arrivals) {
      const i = Number(a.trace.slice(2));
      const conn = `c${i % 4}`;
      const c = byConnection.get(conn) ?? { sockets: new Set(), order: [] };
      c.sockets.add(a.socket);
      c.order.push(i);
      byConnection.set(conn, c);
    }
    expect(byConnection.size).toBe(4);
    const used = new Set<number>();
    for (const c of byConnection.values()) {
      expect(c.sockets.size).toBe(1);
      expect(c.order).toEqual([...c.order].sort((a, b) => a - b));
      used.add([...c.sockets][0]!);
    }
    expect(used.size).toBe(4);
  });

  it('templates and correlation are filled at send time, per amplified copy', async () => {
    const make = (i: number, gap: number): Exchange => {
      const ex = fixtureExchange(i, gap);
      if (i === 0) {
        return { ...ex, request: { ...ex.request, method: 'POST', path: '/login', query: '', body: null, headers: [['Accept', 'application/json']] }, meta: { replay: { extract: [{ var: 'token', from: 'json', path: '$.token' }] } } };
      }
      return {
        ...ex,
        request: { ...ex.request, method: 'GET', path: '/me', query: 'copy=${REPRISE_COPY}', body: null, headers: [['Authorization', 'Bearer ${corr.token}'], ['X-Api-Key', '${API_KEY}']] },
        meta: { replay: { templates: ['request.headers.authorization', 'request.headers.x-api-key', 'request.query'] } },
      };
    };
    // login, then /me 100 ms later (recorded); amplify 2 puts copy 1 of login 50 ms after copy 0.
    const { store } = await tempStore(2, 100_000, make);
    let logins = 0;
    const me: Array<{ auth: string; key: string; url: string }> = [];
    const target = await startTarget((req, res) => {
      if (req.url === '/login') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ token: `live-${++logins}` }));
        return;
      }
      me.push({ auth: String(req.headers.authorization), key: String(req.headers['x-api-key']), url: req.url! });
      res.end('ok');
    });
    cleanups.push(() => target.close());
    const s = await runReplay({ warmUp: false, store, target: target.url, amplify: 2, vars: { API_KEY: 'k-123' } });
    expect(s.metrics.overall).toMatchObject({ completed: 4, errors: 0 });
    // Copy 0 of login goes first and gets live-1; each copy of /me carries its own copy's token.
    expect(me.map((m) => `${m.url} ${m.auth}`).sort()).toEqual(['/me?copy=0 Bearer live-1', '/me?copy=1 Bearer live-2']);
    expect(me.every((m) => m.key === 'k-123')).toBe(true);
  });

  it('a missing variable fails that send only, as never sent, with the reason', async () => {
    const make = (i: number, gap: number): Exchange => {
      const ex = fixtureExchange(i, gap);
      return { ...ex, request: { ...ex.request, method: 'GET', body: null, headers: [['X-Key', '${NOT_SET_ANYWHERE}']] }, meta: { replay: { templates: ['request.headers.x-key'] } } };
    };
    const { store } = await tempStore(2, 1_000, make);
    const target = await startTarget();
    cleanups.push(() => target.close());
    const results: RequestResult[] = [];
    const logged: string[] = [];
    const log = pino({ base: undefined }, { write: (line: string) => void logged.push((JSON.parse(line) as { msg: string }).msg) });
    await runReplay({ warmUp: false, store, target: target.url, log, onResult: (r) => results.push(r) });
    expect(results).toHaveLength(2);
    for (const r of results) {
      expect(r.sentUs).toBeNull();
      expect(r.error?.message).toMatch(/NOT_SET_ANYWHERE.*has no value/);
    }
    // The summary only counts "other" errors: the reason is said to the user, once, naming the variable.
    expect(logged.filter((m) => m.startsWith('not sent:'))).toEqual([
      'not sent: GET /users/:id: TRANSFORM_VARIABLE: request.headers.x-key: ${NOT_SET_ANYWHERE} has no value (set it in the environment or the secrets file)',
    ]);
  });

  it('--record-out stores what was sent and the live response', async () => {
    const { dir, store } = await tempStore(6, 1_000);
    const target = await startTarget((req, res) => {
      res.setHeader('X-Live', 'yes');
      res.setHeader('Set-Cookie', 'sid=live-session-7');
      res.end(`live ${req.method} ${req.url}`);
    });
    cleanups.push(() => target.close());
    const out = join(dir, 'replayed');
    const headers: Header[] = [['X-Run', 'r1'], ['Authorization', 'Bearer live-staging-token']];
    const s = await runReplay({ warmUp: false, store, target: target.url, amplify: 2, recordOut: out, headers });
    expect(s.recordOut?.stats).toMatchObject({ recorded: 12, dropped: 0 });
    const got: Exchange[] = [];
    for await (const ex of readExchanges(out)) got.push(ex);
    expect(got).toHaveLength(12);
    for (const ex of got) {
      expect(ex.source.kind).toBe('replay');
      expect(ex.meta?.replayOf).toMatch(/^[0-9a-f-]{36}$/);
      expect(ex.request.headers).toContainEqual(['X-Run', 'r1']);
      expect(ex.request.authority).toBe(new URL(target.url).host);
      expect(ex.response?.headers).toContainEqual(['X-Live', 'yes']);
      expect(ex.response?.body?.data).toBe(`live ${ex.request.method} ${ex.request.path}${ex.request.query ? `?${ex.request.query}` : ''}`);
      // Credentials are redacted as at capture: the live token sent and the session the target set.
      expect(ex.request.headers).toContainEqual(['Authorization', 'Bearer [REDACTED]']);
      expect(JSON.stringify(ex)).not.toMatch(/live-staging-token|live-session-7/);
    }
    // Asked for (--no-redact), they are stored as sent.
    const clear = join(dir, 'replayed-clear');
    await runReplay({ warmUp: false, store, target: target.url, recordOut: clear, recordOutRedact: false, headers });
    for await (const ex of readExchanges(clear)) {
      expect(ex.request.headers).toContainEqual(['Authorization', 'Bearer live-staging-token']);
      expect(ex.response?.headers).toContainEqual(['Set-Cookie', 'sid=live-session-7']);
    }
  });

  it('errors are sorted by kind: refused, timeout, tls', async () => {
    const { dir, store } = await tempStore(2, 1_000);
    const kinds = async (target: string, extra: Parameters<typeof runReplay>[0] extends infer O ? Partial<O> : never = {}): Promise<string[]> => {
      const results: RequestResult[] = [];
      await runReplay({ warmUp: false, store, target, onResult: (r) => results.push(r), ...extra });
      return results.map((r) => r.error?.kind ?? String(r.status));
    };
    // A port nothing listens on: take one and close it.
    const closed = await startTarget();
    const closedUrl = closed.url;
    await closed.close();
    expect(await kinds(closedUrl)).toEqual(['refused', 'refused']);
    // Nothing went on the wire to a port that refused the connection: no bytes counted as sent.
    const refused = await runReplay({ warmUp: false, store, target: closedUrl });
    expect(refused.metrics.overall.bytesSent).toBe(0);

    const silent = await startTarget(() => undefined); // never answers
    cleanups.push(() => silent.close());
    expect(await kinds(silent.url, { timeoutMs: 200 })).toEqual(['timeout', 'timeout']);
    // The timeout is kept to the millisecond, not on undici's coarse timer (which let 200 ms run to ~1 s).
    const timedOut: RequestResult[] = [];
    await runReplay({ warmUp: false, store, target: silent.url, timeoutMs: 200, onResult: (r) => timedOut.push(r) });
    for (const r of timedOut) expect((r.doneUs - r.sentUs!) / 1000).toSatisfy((ms: number) => ms >= 199 && ms < 450);

    const ca = await createCa();
    const leaf = await issueLeaf(await openCaSigner(ca), '127.0.0.1');
    const server = https.createServer({ cert: leaf.cert, key: leaf.key }, (_q, res) => res.end('tls ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect(await kinds(url)).toEqual(['tls', 'tls']);
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, ca.cert);
    expect(await kinds(url, { caFile })).toEqual(['200', '200']);
    expect(await kinds(url, { insecure: true })).toEqual(['200', '200']);
    // A failed handshake sent no request; an answered one did.
    expect((await runReplay({ warmUp: false, store, target: url })).metrics.overall.bytesSent).toBe(0);
    expect((await runReplay({ warmUp: false, store, target: url, caFile })).metrics.overall.bytesSent).toBeGreaterThan(0);
  }, 15_000);
});
