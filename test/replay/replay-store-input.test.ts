import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestResult } from '../../replay/replay-result.js';
import { runReplay } from '../../replay/run-replay.js';
import { openStoreWriter } from '../../store/segment-writer.js';
import { makeTempDir } from '../support/temp-dir.js';
import { fixtureExchange, startTarget, writeFixtureStore } from './replay-fixture.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

describe('replay input: time window and a store that goes bad mid-run', () => {
  it('--from/--to replays only the window, starting at once', async () => {
    const tmp = await makeTempDir('reprise-window-');
    cleanups.push(tmp.cleanup);
    const store = await writeFixtureStore(tmp.dir, 50, 10_000); // 0.5 s of recording
    const target = await startTarget();
    cleanups.push(() => target.close());
    const t0 = fixtureExchange(0, 10_000).start;
    const results: RequestResult[] = [];
    // Exchanges 20..29 (from inclusive, to exclusive).
    await runReplay({ warmUp: false, store, target: target.url, filter: { from: t0 + 200_000, to: t0 + 300_000 }, onResult: (r) => results.push(r) });
    expect(results).toHaveLength(10);
    expect(Math.min(...results.map((r) => r.intendedUs))).toBe(0);
    expect(Math.max(...results.map((r) => r.intendedUs))).toBe(90_000);
  });

  it('a corrupt segment stops the run with the store error; what was sent before is finished and counted', async () => {
    const tmp = await makeTempDir('reprise-corrupt-');
    cleanups.push(tmp.cleanup);
    const store = join(tmp.dir, 'store');
    // One segment per record: each writer session appends a segment of its own.
    for (let i = 0; i < 6; i++) {
      const w = await openStoreWriter(store);
      await w.write(fixtureExchange(i, 1_000));
      await w.close();
    }
    const segments = (await readdir(join(store, 'segments'))).sort();
    expect(segments.length).toBeGreaterThanOrEqual(6);
    await writeFile(join(store, 'segments', segments[4]!), Buffer.from('this is not gzip at all'));
    let answered = 0;
    const target = await startTarget((_q, res) => {
      answered++;
      res.end('ok');
    });
    cleanups.push(() => target.close());
    const results: RequestResult[] = [];
    await expect(runReplay({ warmUp: false, store, target: target.url, onResult: (r) => results.push(r) })).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    // Segments 0-3 were read; the plan holds one exchange back (it needs the next start for the gap), so 0-2 went out.
    expect(results.length).toBe(3);
    expect(answered).toBe(3);
    expect(results.every((r) => r.status === 200)).toBe(true);
  });
});
