import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffLive } from '../../../replay/diff/run-diff.js';
import type { DiffReport } from '../../../replay/diff/diff-report.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { startRelease, writeRecordedStore, type RunningRelease } from './support/release-servers.js';

/**
 * Must-show 1: two real releases on 127.0.0.1 that differ in planted ways,
 * with noise on every response. Every planted difference is reported at its
 * endpoint, field and risk, and nothing else is — with a second baseline
 * (noise measured) and without one (volatile values set aside by shape).
 */

const PLANTED = {
  'GET /users/:id': [['$.id', 'type', 'high'], ['header.x-api-version', 'extra', 'low']],
  'GET /orders/:id': [['$.discount', 'missing', 'high'], ['header.x-api-version', 'extra', 'low']],
  'GET /catalog': [['$.categories', 'order', 'medium'], ['header.x-api-version', 'extra', 'low']],
  'GET /health': [['status', 'status', 'high'], ['$.status', 'value', 'medium'], ['header.x-api-version', 'extra', 'low']],
} as const;

function findingsOf(report: DiffReport): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const ep of report.endpoints) out[ep.endpoint] = ep.findings.map((f) => `${f.field} ${f.kind} ${f.risk}`).sort();
  return out;
}

const expected = Object.fromEntries(Object.entries(PLANTED).map(([ep, fs]) => [ep, fs.map((f) => f.join(' ')).sort()]));

describe('diff live: two releases on loopback', () => {
  let a: RunningRelease;
  let a2: RunningRelease;
  let b: RunningRelease;
  let store: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const tmp = await makeTempDir('reprise-diff-live-');
    cleanup = tmp.cleanup;
    store = await writeRecordedStore(join(tmp.dir, 'store'));
    [a, a2, b] = await Promise.all([startRelease('A'), startRelease('A'), startRelease('B')]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), a2?.close(), b?.close()]);
    await cleanup?.();
  });

  it('with a second baseline: every planted difference, no noise', async () => {
    const report = await diffLive({ store, baseline: a.url, candidate: b.url, baseline2: a2.url, concurrency: 4 });
    expect(report.pairs).toBe(48);
    expect(report.noise.measured).toBe(true);
    expect(findingsOf(report)).toEqual(expected);
    // The noise was measured, not guessed: the volatile fields are listed as suppressed.
    const users = report.endpoints.find((e) => e.endpoint === 'GET /users/:id')!;
    expect(users.suppressedAsNoise.map((s) => s.field)).toEqual(expect.arrayContaining(['$.generatedAt', '$.requestId', '$.trace']));
    expect(report.setAside).toEqual([]);
    // Side-effecting requests were skipped and never reached any server.
    expect(report.skipped).toEqual({
      'method POST not allowed (side effects; --allow-method POST)': 1,
      'method DELETE not allowed (side effects; --allow-method DELETE)': 1,
    });
    for (const s of [a, a2, b]) expect([...s.methods.keys()]).toEqual(['GET']);
    // Status and body changed in exactly the same pairs on /health: one root cause.
    const health = report.clusters.find((c) => c.endpoint === 'GET /health')!;
    expect(health.fields).toEqual(expect.arrayContaining(['status (status)', '$.status (value)']));
    expect(health.risk).toBe('high');
    const status = report.endpoints.find((e) => e.endpoint === 'GET /health')!.findings.find((f) => f.field === 'status')!;
    expect(status.examples.length).toBe(5);
    expect(status.examples[0]).toMatchObject({ baseline: '200', candidate: '503' });
    const idType = users.findings.find((f) => f.field === '$.id')!;
    expect(idType).toMatchObject({ count: 12, rate: 1, noiseRate: 0 });
    expect(idType.examples[0]!.baseline).toMatch(/^\d+$/);
    expect(idType.examples[0]!.candidate).toMatch(/^"\d+"$/);
    for (const ep of report.endpoints) {
      expect(ep.latency.baseline!.count).toBe(12);
      expect(ep.latency.candidate!.p50).toBeGreaterThan(0);
    }
    expect(report.totals).toEqual({ high: 3, medium: 2, low: 4, findings: 9 });
    // The new header is one change seen on every endpoint.
    expect(report.acrossEndpoints).toEqual([
      { field: 'header.x-api-version', kind: 'extra', risk: 'low', endpoints: ['GET /health', 'GET /orders/:id', 'GET /users/:id', 'GET /catalog'], pairs: 48 },
    ]);
  });

  it('without a second baseline: the same findings, volatile values set aside and said so', async () => {
    const report = await diffLive({ store, baseline: a.url, candidate: b.url });
    expect(report.noise.measured).toBe(false);
    expect(findingsOf(report)).toEqual(expected);
    const setAside = new Set(report.setAside.map((s) => `${s.field} ${s.class}`));
    for (const f of ['$.generatedAt timestamp', '$.requestId uuid', '$.trace random-id', '$.servedAtMs epoch']) expect(setAside).toContain(f);
    expect(report.notes.join('\n')).toMatch(/no second baseline: values that look like timestamps, UUIDs, epochs or generated ids were set aside/);
  });

  it('noise of no recognisable shape: measured away with a second baseline, reported without one', async () => {
    const [n1, n2, n3] = await Promise.all([startRelease('A', { shapelessNoise: true }), startRelease('A', { shapelessNoise: true }), startRelease('B', { shapelessNoise: true })]);
    try {
      const measured = await diffLive({ store, baseline: n1.url, candidate: n3.url, baseline2: n2.url, filter: { paths: ['/users/*'] } });
      expect(findingsOf(measured)).toEqual({ 'GET /users/:id': expected['GET /users/:id'] });
      expect(measured.endpoints[0]!.suppressedAsNoise.map((x) => x.field)).toContain('$.nonce');
      const guessed = await diffLive({ store, baseline: n1.url, candidate: n3.url, filter: { paths: ['/users/*'] } });
      expect(findingsOf(guessed)['GET /users/:id']).toContain('$.nonce value medium');
      expect(guessed.notes.join('\n')).toMatch(/run with --baseline2 to measure noise instead/);
    } finally {
      await Promise.all([n1.close(), n2.close(), n3.close()]);
    }
  });

  it('--set-header replaces a recorded (redacted) header on every request, and never shows its value', async () => {
    const report = await diffLive({ store, baseline: a.url, candidate: b.url, setHeaders: ['Authorization: Bearer s3cr3t-staging'], filter: { paths: ['/health'] } });
    expect(report.pairs).toBe(12);
    for (const s of [a, b]) expect([...s.authorizations]).toContain('Bearer s3cr3t-staging');
    expect(JSON.stringify(report)).not.toContain('s3cr3t');
    await expect(diffLive({ store, baseline: a.url, candidate: b.url, setHeaders: ['Bad Name: s3cr3t'] })).rejects.toMatchObject({ code: 'DIFF_OPTIONS_INVALID' });
    await expect(diffLive({ store, baseline: a.url, candidate: b.url, setHeaders: ['Bad Name: s3cr3t'] })).rejects.not.toThrow(/s3cr3t/);
  });

  it('a baseline compared with itself reports nothing', async () => {
    const report = await diffLive({ store, baseline: a.url, candidate: a2.url });
    expect(report.totals.findings).toBe(0);
    expect(report.pairs).toBe(48);
  });
});
