/**
 * Every example scenario in scenarios/ runs here, end to end, against loopback
 * targets: the bundled demo API (two releases) on 127.0.0.1, S3 through a
 * real s3rver started by the test. The examples take their targets and sizes
 * from `${env:…}` references, so the files tested are the files shipped.
 */
import { createServer } from 'node:net';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readExchanges } from '../../store/segment-reader.js';
import type { Exchange } from '../../store/exchange.js';
import { loadScenario } from '../../scenarios/load-scenario.js';
import { runScenario, type ScenarioOutcome } from '../../scenarios/run-scenario.js';
import { startDemoApi, type DemoApi } from '../../scenarios/demo/demo-api.js';
import { driveWorkload } from '../../scenarios/demo/drive-workload.js';
import { startS3TestServer, type S3TestServer } from '../support/s3-test-server.js';
import { makeTempDir } from '../support/temp-dir.js';

const SCENARIOS = fileURLToPath(new URL('../../scenarios/', import.meta.url));
const TOKEN = 'staging-service-token-0f3a';
const STORE = 's3://captures/prod';
const WORKLOAD = 120;

let s3: S3TestServer;
let v1: DemoApi;
let v2: DemoApi;
let v1b: DemoApi;
let tmp: { dir: string; cleanup: () => Promise<void> };
let recorded: ScenarioOutcome;
const savedEnv = { ...process.env };

function sink(): Writable & { text: string } {
  const w = new Writable({ write(chunk, _enc, cb) { w.text += String(chunk); cb(); } }) as Writable & { text: string };
  w.text = '';
  return w;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function run(name: string, env: Record<string, string>): Promise<{ outcome: ScenarioOutcome; out: string }> {
  Object.assign(process.env, env);
  const out = sink();
  const scenario = loadScenario(join(SCENARIOS, name));
  const outcome = await runScenario(scenario, { out, progress: null });
  return { outcome, out: out.text };
}

async function readAll(store: string): Promise<Exchange[]> {
  const all: Exchange[] = [];
  for await (const ex of readExchanges(store)) all.push(ex);
  return all;
}

beforeAll(async () => {
  tmp = await makeTempDir('reprise-examples-');
  s3 = await startS3TestServer();
  await s3.createBucket('captures');
  Object.assign(process.env, s3.env, { STAGING_TOKEN: TOKEN, REPRISE_REDACT_KEY: 'test-redact-key-0123456789', ALLOW_RECORDED_HOST: 'true' });
  [v1, v2, v1b] = await Promise.all([
    startDemoApi({ version: 1, staticTokens: [TOKEN] }),
    startDemoApi({ version: 2, staticTokens: [TOKEN] }),
    startDemoApi({ version: 1, staticTokens: [TOKEN] }),
  ]);

  // record-production.yaml: the proxy in front of v1, writing to S3, while a client browses through it.
  const port = await freePort();
  const ac = new AbortController();
  Object.assign(process.env, { LISTEN: `127.0.0.1:${port}`, UPSTREAM_URL: v1.url, RECORD_STORE: STORE, CAPTURE_DURATION: '60s', SAMPLE_RATE: '1' });
  const scenario = loadScenario(join(SCENARIOS, 'record-production.yaml'));
  const running = runScenario(scenario, { out: sink(), progress: null, signal: ac.signal });
  await waitForPort(port);
  await driveWorkload(`http://127.0.0.1:${port}`, WORKLOAD, 100);
  ac.abort();
  recorded = await running;
}, 60_000);

afterAll(async () => {
  process.env = savedEnv;
  await Promise.all([v1?.close(), v2?.close(), v1b?.close()]);
  await s3?.close();
  await tmp?.cleanup();
});

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/health`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nothing listens on ${port}`);
}

describe('example scenarios', () => {
  it('record-production.yaml: every request stored in S3, secrets redacted before they reach it', async () => {
    expect(recorded.exitCode).toBe(0);
    // waitForPort's probe went through the proxy too.
    expect(recorded.capture?.recorder.recorded).toBeGreaterThanOrEqual(WORKLOAD);
    const stored = await readAll(STORE);
    expect(stored.length).toBe(recorded.capture!.recorder.recorded);
    const auth = stored.flatMap((ex) => ex.request.headers.filter(([k]) => k.toLowerCase() === 'authorization').map(([, v]) => v));
    expect(auth.length).toBeGreaterThan(50);
    expect(new Set(auth)).toEqual(new Set(['Bearer [REDACTED]'])); // the scheme stays readable, the credential does not
  });

  it('ci-replay-10x.yaml: the S3 capture replayed at 10x, thresholds met, JUnit and HTML written', async () => {
    const reports = join(tmp.dir, 'ci');
    const { outcome, out } = await run('ci-replay-10x.yaml', { REPRISE_STORE: STORE, STAGING_URL: v1.url, REPORT_DIR: reports, P99_LIMIT: '2s', MIN_RATE_SHARE: '0.3' });
    expect(out).toMatch(/scenario ci-replay-10x: passed/);
    expect(outcome.exitCode).toBe(0);
    const phase = outcome.phases[0]!.result;
    const kept = (await readAll(STORE)).filter((ex) => ex.request.path !== '/health');
    expect(phase.input.snapshot.overall.requests).toBe(kept.length);
    // Same release as recorded: every status as recorded — the staging token was filled in at send time (no 401).
    expect(phase.input.snapshot.overall.status['2xx']).toBe(kept.filter((ex) => ex.response!.status < 300).length);
    expect(phase.input.snapshot.overall.status['4xx']).toBe(kept.filter((ex) => ex.response!.status >= 400).length);
    for (const f of ['summary.json', 'junit.xml', 'report.html']) expect((await stat(join(reports, '01-phase-1', f))).size).toBeGreaterThan(200);
    expect(JSON.parse(await readFile(join(reports, 'scenario.json'), 'utf8'))).toMatchObject({ scenario: 'ci-replay-10x', exitCode: 0 });
  });

  it('ci-replay-10x.yaml: a threshold that fails sets exit code 3', async () => {
    const { outcome, out } = await run('ci-replay-10x.yaml', { REPRISE_STORE: STORE, STAGING_URL: v2.url, REPORT_DIR: join(tmp.dir, 'ci-fail'), P99_LIMIT: '1us' });
    expect(outcome.exitCode).toBe(3);
    expect(out).toMatch(/FAILED \(replay thresholds\)/);
  });

  it('pre-event-spike.yaml: warm, peak, spike and max-throughput phases each run and report', async () => {
    const { outcome } = await run('pre-event-spike.yaml', {
      REPRISE_STORE: STORE, TARGET_URL: v1.url, REPORT_DIR: join(tmp.dir, 'spike'),
      WARM_DURATION: '1s', PEAK_DURATION: '1s', SPIKE_BASE_RPS: '50', SPIKE_PEAK_RPS: '200', SPIKE_DURATION_S: '2', SPIKE_AT_S: '0.5', SPIKE_LENGTH_S: '0.5',
      MAX_CONNECTIONS: '4', MAX_DURATION: '1s', P99_LIMIT: '2s',
    });
    expect(outcome.phases.map((p) => [p.name, p.result.extra.mode])).toEqual([['warm-5x', 'timed'], ['peak-20x', 'timed'], ['spike', 'timed'], ['ceiling', 'max']]);
    const spike = outcome.phases[2]!.result.input.snapshot;
    // 0.5 s at 50/s + 0.5 s at 200/s + 1 s at 50/s ≈ 175 sends
    expect(spike.overall.requests).toBeGreaterThanOrEqual(170);
    expect(spike.overall.requests).toBeLessThanOrEqual(180);
    expect(outcome.phases[3]!.result.input.snapshot.overall.requests).toBeGreaterThan(50);
    expect(outcome.exitCode).toBe(0);
  });

  it('release-diff.yaml: v1 against v2 with v1 again as the noise baseline — planted differences found, noise not', async () => {
    const { outcome } = await run('release-diff.yaml', { REPRISE_STORE: STORE, BASELINE_URL: v1.url, CANDIDATE_URL: v2.url, BASELINE2_URL: v1b.url, REPORT_DIR: join(tmp.dir, 'diff') });
    const report = outcome.diff!.report;
    const found = report.endpoints.flatMap((e) => e.findings.map((f) => `${e.endpoint} ${f.field} ${f.kind} ${f.risk}`));
    expect(found.join('\n')).toMatch(/GET \/api\/users\/:id \$\.user\.id type high/);
    expect(found.join('\n')).toMatch(/GET \/api\/users\/:id \$\.user\.email missing high/);
    expect(found.join('\n')).toMatch(/GET \/api\/orders\/:id status status high/);
    // v2's 500 carries the meta fields v1's 404 had not: part of that status change, on that endpoint only.
    expect(found).toContain('GET /api/orders/:id $.servedAt extra low');
    const elsewhere = found.filter((f) => !f.startsWith('GET /api/orders/:id '));
    expect(elsewhere.join('\n')).not.toMatch(/servedAt|traceId|x-request-id|date/i);
    expect(found).toContain('GET /api/orders $.orders[*].items order medium');
    expect(found).toContain('GET /api/users $.total extra low');
    expect(outcome.exitCode).toBe(4); // `no high` broken
  });
});
