import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { runReplayJob } from '../../replay/replay-job.js';
import { ANSWERED_GATE } from '../../replay/thresholds/evaluate-thresholds.js';
import { parseThresholds } from '../../replay/thresholds/parse-threshold.js';
import { makeTempDir } from '../support/temp-dir.js';
import { startTarget, writeFixtureStore } from './replay-fixture.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

/** A loopback port nothing listens on: a target that was just closed. */
async function closedPort(): Promise<string> {
  const t = await startTarget();
  await t.close();
  return t.url;
}

describe('a replay against a target that is down', () => {
  it('fails, also with only a latency threshold and with none, and says so in the JUnit report', async () => {
    const tmp = await makeTempDir('reprise-down-');
    cleanups.push(tmp.cleanup);
    const store = await writeFixtureStore(tmp.dir, 20, 1_000);
    const target = await closedPort();
    const job = { replay: { store, target, speed: 10 }, progress: null, reportOptions: {} };

    const gated = await runReplayJob({ ...job, thresholds: parseThresholds(['p99<250ms']), reportDir: `${tmp.dir}/reports` });
    expect(gated.input.snapshot.overall).toMatchObject({ sent: 20, completed: 0 });
    expect(gated.passed).toBe(false);
    expect(gated.outcomes.map((o) => [o.expression, o.passed])).toEqual([['p99<250ms', false], [ANSWERED_GATE, false]]);
    const junit = await readFile(`${tmp.dir}/reports/junit.xml`, 'utf8');
    expect(junit).toContain('the target answered none of the 20 requests sent (refused 20)');

    const bare = await runReplayJob({ ...job, thresholds: [] });
    expect(bare.passed).toBe(false);
    expect(bare.outcomes).toHaveLength(1);
  });

  it('passes the built-in gate once the target answers, whatever the status', async () => {
    const tmp = await makeTempDir('reprise-down-');
    cleanups.push(tmp.cleanup);
    const store = await writeFixtureStore(tmp.dir, 20, 1_000);
    const target = await startTarget((_q, res) => {
      res.statusCode = 503;
      res.end();
    });
    cleanups.push(target.close);
    const r = await runReplayJob({ replay: { store, target: target.url, speed: 10 }, thresholds: [], progress: null, reportOptions: {} });
    expect(r.input.snapshot.overall.status['5xx']).toBe(20);
    expect(r.outcomes).toEqual([]);
    expect(r.passed).toBe(true);
  });
});
