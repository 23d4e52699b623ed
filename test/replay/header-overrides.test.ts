import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { expectOneLineError, type CliResult } from '../support/run-cli.js';
import { makeTempDir } from '../support/temp-dir.js';
import { fixtureExchange, startTarget, writeFixtureStore } from './replay-fixture.js';

/**
 * A store captured with the default redaction carries `Authorization: Bearer
 * [REDACTED]`. Replayed as is, staging answers 401 to everything; the user
 * sets the real credential with `--header`, naming a variable so the secret
 * stays off the command line. Real target on loopback, the real CLI in-process.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

async function runMain(args: string[], env: Record<string, string> = {}): Promise<CliResult & { warnings: Array<Record<string, unknown>> }> {
  let stdout = '';
  let stderr = '';
  const warnings: Array<Record<string, unknown>> = [];
  const sink = (into: (s: string) => void): NodeJS.WritableStream => new Writable({ write: (c, _e, cb) => (into(String(c)), cb()) });
  const log = pino({ level: 'warn' }, new Writable({ write: (c, _e, cb) => (warnings.push(JSON.parse(String(c))), cb()) }));
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const code = await main(args, { stdout: sink((x) => (stdout += x)), stderr: sink((x) => (stderr += x)), debug: false, log });
    return { code, stdout, stderr, warnings };
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

async function redactedStore(): Promise<string> {
  const tmp = await makeTempDir('reprise-header-overrides-');
  cleanups.push(tmp.cleanup);
  return writeFixtureStore(tmp.dir, 10, 1_000, 'redacted', (i, gap) => {
    const ex = fixtureExchange(i, gap);
    // As a default capture stores them: the scheme and cookie names kept, the secrets not. Every other one has a cookie.
    ex.request.headers.push(['Authorization', 'Bearer [REDACTED]']);
    if (i % 2 === 0) ex.request.headers.push(['Cookie', 'session=[REDACTED]; theme=dark']);
    return ex;
  });
}

describe('--header overrides and credentials redacted at capture', () => {
  it('warns once per redacted header, before the run, with the flag that fixes it; an override silences it', async () => {
    const store = await redactedStore();
    const seen: string[] = [];
    const target = await startTarget((req, res) => {
      seen.push(String(req.headers.authorization));
      res.end('ok');
    });
    cleanups.push(() => target.close());
    const r = await runMain(['replay', store, '--target', target.url, '--speed', '100', '-q']);
    expect(r.code).toBe(0);
    const msgs = r.warnings.map((w) => String(w.msg));
    expect(msgs.filter((m) => /carry a header Authorization redacted at capture/.test(m))).toHaveLength(1);
    expect(msgs.find((m) => /Authorization/.test(m))).toMatch(/^10 of the first 10 requests carry .*"Bearer \[REDACTED\]".*--header 'Authorization: Bearer \$\{STAGING_TOKEN\}'/);
    expect(msgs.find((m) => /Cookie/.test(m))).toMatch(/^5 of the first 10 requests .*--header 'Cookie: session=\$\{STAGING_TOKEN\}; theme=dark'/);
    expect(seen.every((a) => a === 'Bearer [REDACTED]')).toBe(true);

    // A run refused for its target says only that: no warning about what it would have sent.
    const refused = await runMain(['replay', store, '--target', 'http://api.recorded.test:8443', '-q']);
    expect(expectOneLineError(refused, 'REPLAY_RECORDED_HOST')).toMatch(/api\.recorded\.test/);
    expect(refused.warnings).toEqual([]);

    seen.length = 0;
    const fixed = await runMain(['replay', store, '--target', target.url, '--speed', '100', '-q', '--header', 'Authorization: Bearer ${REPRISE_TEST_STAGING_TOKEN}'], { REPRISE_TEST_STAGING_TOKEN: 'tok-123' });
    expect(fixed.code).toBe(0);
    expect(fixed.warnings.map((w) => String(w.msg)).filter((m) => /Authorization/.test(m))).toEqual([]);
    expect(fixed.stdout).not.toMatch(/refused by both sides/);
    // The variable was filled from the environment: the target saw the real credential on every request.
    expect(seen).toHaveLength(10);
    expect(new Set(seen)).toEqual(new Set(['Bearer tok-123']));
    // And the secret's value is nowhere in what the command printed.
    expect(fixed.stdout + fixed.stderr + JSON.stringify(fixed.warnings)).not.toContain('tok-123');
  }, 30_000);

  it('--max fills the override too', async () => {
    const store = await redactedStore();
    const seen = new Set<string>();
    const target = await startTarget((req, res) => {
      seen.add(String(req.headers.authorization));
      res.end('ok');
    });
    cleanups.push(() => target.close());
    const r = await runMain(['replay', store, '--target', target.url, '--max', '--connections', '2', '--duration', '1s', '-q', '--header', 'Authorization: Bearer ${REPRISE_TEST_STAGING_TOKEN}'], { REPRISE_TEST_STAGING_TOKEN: 'tok-max' });
    expect(r.code).toBe(0);
    expect([...seen]).toEqual(['Bearer tok-max']);
  }, 30_000);

  it('a variable with no value, or a correlation variable, stops the run before any send: one line, no value shown', async () => {
    const store = await redactedStore();
    let sends = 0;
    const target = await startTarget((_req, res) => {
      sends++;
      res.end('ok');
    });
    cleanups.push(() => target.close());
    const missing = await runMain(['replay', store, '--target', target.url, '-q', '--header', 'Authorization: Bearer ${REPRISE_TEST_NEVER_SET}']);
    expect(expectOneLineError(missing, 'TRANSFORM_VARIABLE')).toMatch(/--header Authorization: \$\{REPRISE_TEST_NEVER_SET\} has no value \(set it in the environment or the secrets file\)/);
    const corr = await runMain(['replay', store, '--target', target.url, '-q', '--header', 'X-Session: ${corr.session}']);
    expect(expectOneLineError(corr, 'REPLAY_OPTIONS_INVALID')).toMatch(/--header X-Session: correlation variables/);
    const maxMissing = await runMain(['replay', store, '--target', target.url, '--max', '--duration', '1s', '-q', '--header', 'Authorization: Bearer ${REPRISE_TEST_NEVER_SET}']);
    expectOneLineError(maxMissing, 'TRANSFORM_VARIABLE');
    expect(sends).toBe(0);
  }, 30_000);

  it('a live diff: --set-header fills variables too, and the placeholder warning names --set-header (both sides would answer 401 alike)', async () => {
    const store = await redactedStore();
    const seen: string[] = [];
    const side = async (): Promise<string> => {
      const t = await startTarget((req, res) => {
        seen.push(String(req.headers.authorization));
        res.setHeader('content-type', 'application/json');
        if (req.headers.authorization !== 'Bearer tok-diff') res.statusCode = 401;
        res.end(res.statusCode === 401 ? '{"error":"unauthorized"}' : '{"ok":true}');
      });
      cleanups.push(() => t.close());
      return t.url;
    };
    const [baseline, candidate] = [await side(), await side()];
    const plain = await runMain(['diff', store, '--baseline', baseline, '--candidate', candidate]);
    expect(plain.warnings.map((w) => String(w.msg)).find((m) => /carry a header Authorization redacted/.test(m))).toMatch(/--set-header 'Authorization: Bearer \$\{STAGING_TOKEN\}'/);
    // Both sides answered 401 alike: no finding, but the report says the diff compared error pages.
    expect(plain.stdout).toMatch(/note: 6 of 6 pair\(s\) were refused by both sides \(401\/403\): most of this diff compared error pages/);
    seen.length = 0;
    const fixed = await runMain(['diff', store, '--baseline', baseline, '--candidate', candidate, '--set-header', 'Authorization: Bearer ${REPRISE_TEST_STAGING_TOKEN}'], { REPRISE_TEST_STAGING_TOKEN: 'tok-diff' });
    expect(fixed.code).toBe(0);
    expect(fixed.warnings.map((w) => String(w.msg)).filter((m) => /Authorization/.test(m))).toEqual([]);
    expect(fixed.stdout).not.toMatch(/refused by both sides/);
    // GETs only (the safe methods): 6 of the 10 fixture requests, each to both sides.
    expect(seen.length).toBe(12);
    expect(new Set(seen)).toEqual(new Set(['Bearer tok-diff']));
  }, 30_000);
});
