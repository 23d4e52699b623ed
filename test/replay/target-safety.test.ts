import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RepriseError } from '../../errors.js';
import type { Exchange } from '../../store/exchange.js';
import { readExchanges } from '../../store/segment-reader.js';
import { runReplay } from '../../replay/run-replay.js';
import { checkRecordedHost, checkRecordedHosts, checkTarget, methodAllowed, parseExcludeMethods } from '../../replay/safety/target-policy.js';
import { makeTempDir } from '../support/temp-dir.js';
import { fixtureExchange, startTarget, writeFixtureStore } from './replay-fixture.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

/** A two-exchange store and a target that counts the requests it gets (all cleaned up after the test). */
async function storeAndCountingTarget() {
  const tmp = await makeTempDir('reprise-opts-');
  cleanups.push(tmp.cleanup);
  const store = await writeFixtureStore(tmp.dir, 2, 1_000);
  const target = await startTarget();
  cleanups.push(() => target.close());
  let count = 0;
  target.server.on('request', () => count++);
  return { tmp, store, target, requests: () => count };
}

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    return `${(err as RepriseError).code}: ${(err as Error).message}`;
  }
  return 'no error';
};

describe('target policy', () => {
  it('takes an http(s) origin only', () => {
    expect(checkTarget('http://127.0.0.1:8080')).toMatchObject({ origin: 'http://127.0.0.1:8080', authority: '127.0.0.1:8080', host: '127.0.0.1' });
    expect(codeOf(() => checkTarget('staging:8080'))).toMatch(/^REPLAY_TARGET_NOT_ALLOWED: .*only http and https/);
    expect(codeOf(() => checkTarget('not a url'))).toMatch(/^REPLAY_TARGET_NOT_ALLOWED: target "not a url" is not a URL/);
    expect(codeOf(() => checkTarget('ftp://x'))).toMatch(/only http and https/);
    expect(codeOf(() => checkTarget('http://x/api'))).toMatch(/origin only/);
    expect(codeOf(() => checkTarget('http://u:p@x'))).toMatch(/origin only/);
  });

  it('a refused target is echoed without its credentials or secret query values (errors land in CI logs)', () => {
    for (const target of ['http://ci:hunter2@staging:8080', 'http://ghp_hunter2@staging', 'http://:hunter2@staging', 'ftp://ci:hunter2@x', 'http://ci:hunter2@staging:99999', 'http://staging/?token=hunter2']) {
      const message = codeOf(() => checkTarget(target));
      expect(message).toMatch(/^REPLAY_TARGET_NOT_ALLOWED: /);
      expect(message).not.toContain('hunter2');
    }
    expect(codeOf(() => checkTarget('http://ci:hunter2@staging:8080'))).toBe(
      'REPLAY_TARGET_NOT_ALLOWED: target "http://[credentials]@staging:8080/": give an origin only (scheme://host[:port]), no path, query or credentials',
    );
  });

  it('with an allowlist, only listed hosts', () => {
    expect(checkTarget('https://staging.internal', { allowHosts: ['STAGING.internal'] }).host).toBe('staging.internal');
    expect(codeOf(() => checkTarget('https://prod.example.com', { allowHosts: ['staging.internal'] }))).toBe(
      'REPLAY_TARGET_NOT_ALLOWED: target host prod.example.com is not in the allowlist (staging.internal)',
    );
  });

  it('refuses the recorded host unless explicitly allowed', () => {
    const ex = fixtureExchange(0, 0); // recorded from api.recorded.test:8443
    const prod = checkTarget('http://api.recorded.test:9999');
    expect(codeOf(() => checkRecordedHost(ex, prod))).toMatch(/^REPLAY_RECORDED_HOST: target host api\.recorded\.test is the host this traffic was recorded from/);
    expect(() => checkRecordedHost(ex, prod, { allowRecordedHost: true })).not.toThrow();
    expect(() => checkRecordedHost(ex, checkTarget('http://127.0.0.1:1'))).not.toThrow();
  });

  it('a trailing dot or capitals (the same name to DNS) do not get past the recorded-host refusal or the allowlist', () => {
    const ex = fixtureExchange(0, 0); // recorded from api.recorded.test:8443
    expect(codeOf(() => checkRecordedHost(ex, checkTarget('https://API.recorded.test.:8443')))).toMatch(/^REPLAY_RECORDED_HOST: target host api\.recorded\.test is/);
    expect(codeOf(() => checkRecordedHosts(['api.recorded.test.:8443'], checkTarget('https://api.recorded.test')))).toMatch(/^REPLAY_RECORDED_HOST/);
    expect(checkTarget('https://staging.internal.', { allowHosts: ['staging.internal'] }).host).toBe('staging.internal');
    expect(checkTarget('https://staging.internal', { allowHosts: ['staging.internal.'] }).host).toBe('staging.internal');
  });

  it('excludes side-effecting methods', () => {
    const get = fixtureExchange(0, 0);
    const post = fixtureExchange(3, 0);
    expect(post.request.method).toBe('POST');
    expect(methodAllowed(post, parseExcludeMethods('unsafe'))).toBe(false);
    expect(methodAllowed(get, parseExcludeMethods('unsafe'))).toBe(true);
    expect(methodAllowed(post, parseExcludeMethods('put, delete'))).toBe(true);
    expect(methodAllowed(post, parseExcludeMethods('post'))).toBe(false);
    expect(codeOf(() => parseExcludeMethods(', ,'))).toMatch(/^REPLAY_OPTIONS_INVALID/);
    expect(codeOf(() => parseExcludeMethods('GET;rm -rf'))).toMatch(/^REPLAY_OPTIONS_INVALID/);
  });
});

describe('runReplay enforces the policy before anything is sent', () => {
  async function storeRecordedFrom(authority: string): Promise<string> {
    const tmp = await makeTempDir('reprise-safety-');
    cleanups.push(tmp.cleanup);
    return writeFixtureStore(tmp.dir, 20, 1_000, 'recorded', (i, gap): Exchange => {
      const ex = fixtureExchange(i, gap);
      return { ...ex, request: { ...ex.request, authority, headers: ex.request.headers.map(([n, v]) => [n, n === 'Host' ? authority : v]) } };
    });
  }

  it('a target on the recorded host gets no request at all (manifest check), unless allowed', async () => {
    let hits = 0;
    const target = await startTarget((_q, res) => {
      hits++;
      res.end('ok');
    });
    cleanups.push(() => target.close());
    const store = await storeRecordedFrom(new URL(target.url).host);
    await expect(runReplay({ warmUp: false, store, target: target.url })).rejects.toMatchObject({ code: 'REPLAY_RECORDED_HOST' });
    expect(hits).toBe(0);
    const ok = await runReplay({ warmUp: false, store, target: target.url, allowRecordedHost: true, speed: 100 });
    expect(ok.metrics.overall.completed).toBe(20);
    expect(hits).toBe(20);
  });

  /** Replays the 20-exchange store with unsafe methods excluded; returns what the target saw. */
  async function replayExcludingUnsafe(warmUp: boolean): Promise<{ methods: string[]; summary: Awaited<ReturnType<typeof runReplay>> }> {
    const methods: string[] = [];
    const target = await startTarget((req, res) => {
      methods.push(req.method!);
      res.end('ok');
    });
    cleanups.push(() => target.close());
    const store = await storeRecordedFrom('api.recorded.test');
    const summary = await runReplay({ warmUp, store, target: target.url, speed: 100, ...parseExcludeMethods('unsafe') });
    return { methods, summary };
  }

  it('excluded methods are skipped and counted, never sent', async () => {
    const { methods, summary } = await replayExcludingUnsafe(false);
    expect(new Set(methods)).toEqual(new Set(['GET']));
    expect(summary.excludedByMethod).toBe(8); // 20 exchanges: kinds 3 (POST) and 4 (PUT) are 8 of them
    expect(summary.metrics.overall.requests).toBe(12);
  });

  it('the warm-up (a burst, then the start of the plan on its schedule) goes to a loopback sink: the target sees only the run', async () => {
    const { methods, summary } = await replayExcludingUnsafe(true);
    expect(methods).toHaveLength(12);
    expect(new Set(methods)).toEqual(new Set(['GET']));
    expect(summary.excludedByMethod).toBe(8); // counted once, by the run, not again by the warm-up's read of the store
    expect(summary.metrics.overall.requests).toBe(12);
  });

  it('a target not in the allowlist is refused with one clear error', async () => {
    const store = await storeRecordedFrom('api.recorded.test');
    await expect(runReplay({ store, target: 'http://127.0.0.1:9', allowHosts: ['staging.internal'] })).rejects.toMatchObject({ code: 'REPLAY_TARGET_NOT_ALLOWED' });
  });
});

describe('runReplay option checks', () => {
  it('loop without a duration, a bad concurrency, --insecure with --ca-file: REPLAY_OPTIONS_INVALID before any send', async () => {
    const tmp = await makeTempDir('reprise-opts-');
    cleanups.push(tmp.cleanup);
    const store = await writeFixtureStore(tmp.dir, 2, 1_000);
    const t = 'http://127.0.0.1:9';
    await expect(runReplay({ store, target: t, loop: true })).rejects.toThrow(/loop: needs a duration/);
    await expect(runReplay({ store, target: t, concurrency: 0 })).rejects.toMatchObject({ code: 'REPLAY_OPTIONS_INVALID' });
    await expect(runReplay({ store, target: t, insecure: true, caFile: '/x.pem' })).rejects.toMatchObject({ code: 'REPLAY_OPTIONS_INVALID' });
    await expect(runReplay({ store, target: t, caFile: join(tmp.dir, 'missing.pem') })).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND' });
  });

  it('a recording that --speed would stretch past 30 days is refused before any send (manifest span)', async () => {
    const tmp = await makeTempDir('reprise-opts-');
    cleanups.push(tmp.cleanup);
    const store = await writeFixtureStore(tmp.dir, 3, 3_600_000_000); // one an hour: a 2 h recording
    const err = runReplay({ warmUp: false, store, target: 'http://127.0.0.1:9', speed: 0.001 });
    await expect(err).rejects.toMatchObject({ code: 'REPLAY_OPTIONS_INVALID', message: expect.stringMatching(/spans 2\.0 h, which at speed 0\.001 plans 83\.3 days of replay; at most 30 days/) });
  });

  it('--record-out into the replayed store itself is refused before any send (its exchanges would be replayed in turn)', async () => {
    const { store, target, requests } = await storeAndCountingTarget();
    await expect(runReplay({ warmUp: false, store, target: target.url, recordOut: `${store}/` })).rejects.toMatchObject({ code: 'OUTPUT_UNWRITABLE', message: expect.stringMatching(/must not be the replayed store/) });
    expect(requests()).toBe(0);
  });

  it('--record-out into a store that already holds exchanges is refused before any send unless appending (runs would mix)', async () => {
    const { tmp, store, target, requests } = await storeAndCountingTarget();
    const out = join(tmp.dir, 'replayed');
    // A new store, and an empty directory, are fine.
    expect((await runReplay({ warmUp: false, store, target: target.url, recordOut: out })).recordOut?.stats.recorded).toBe(2);
    expect(requests()).toBe(2);
    await expect(runReplay({ warmUp: false, store, target: target.url, recordOut: out })).rejects.toMatchObject({ code: 'STORE_EXISTS', message: expect.stringMatching(/already holds exchanges.*--append/) });
    expect(requests()).toBe(2);
    await runReplay({ warmUp: false, store, target: target.url, recordOut: out, recordOutAppend: true });
    let stored = 0;
    for await (const _ of readExchanges(out)) stored++;
    expect(stored).toBe(4);
  });
});
