import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadScenario } from '../../scenarios/load-scenario.js';
import { runScenario } from '../../scenarios/run-scenario.js';
import { runReplay, type ReplayOptions } from '../../replay/run-replay.js';
import type { Exchange } from '../../store/exchange.js';
import { readExchanges } from '../../store/segment-reader.js';
import { writeExchanges } from '../../store/write-exchanges.js';
import { makeTempDir } from '../support/temp-dir.js';
import { fixtureExchange, startTarget, writeFixtureStore, type TestTarget } from './replay-fixture.js';

// A replay whose run fails once its --record-out store is open must leave that store as an import
// leaves its --out (test/cli/failed-import-store.test.ts): no empty store it created, a store that
// was there exactly as it was, and the exchanges recorded before the failure kept and sealed.
//
// The failure: a store from a capture killed before its first seal (no manifest, so no host list to
// check up front) whose third record was recorded from the target's own host; the run stops at it
// with REPLAY_RECORDED_HOST. In the first cases its first two requests carry a parameterized
// `Bearer ${STAGING_TOKEN}` and nobody set STAGING_TOKEN, so nothing is sent and nothing recorded
// before the run stops.

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let target: TestTarget;
let sent = 0;
beforeAll(async () => {
  target = await startTarget((_q, res) => {
    sent++;
    res.end('ok');
  });
});
afterAll(async () => {
  await target.close();
});
beforeEach(async (ctx) => {
  tmp = await makeTempDir('reprise-record-out-failure-');
  ctx.onTestFinished(() => tmp.cleanup());
});

/** The killed capture described above; with `templated`, its first two requests cannot be built. */
async function storeFailingAtThird(templated: boolean): Promise<string> {
  const authority = new URL(target.url).host;
  const store = await writeFixtureStore(tmp.dir, 3, 1_000, templated ? 'templated' : 'plain', (i, gap) => {
    const ex = fixtureExchange(i, gap);
    if (i < 2 && templated) {
      ex.request.headers.push(['Authorization', 'Bearer ${STAGING_TOKEN}']);
      ex.meta = { replay: { templates: ['request.headers.authorization'] } };
    }
    if (i === 2) {
      ex.request.authority = authority;
      ex.request.headers = ex.request.headers.map(([n, v]): [string, string] => (n.toLowerCase() === 'host' ? [n, authority] : [n, v]));
    }
    return ex;
  });
  await rm(join(store, 'manifest.json'));
  return store;
}

function replay(store: string, recordOut: string, extra: Partial<ReplayOptions> = {}): Promise<unknown> {
  return runReplay({ warmUp: false, store, target: target.url, vars: {}, recordOut, ...extra });
}

/** Every path under `dir` with its size, to compare a tree before and after. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const p = join(e.parentPath, e.name);
    out.push(`${p.slice(dir.length)}${e.isFile() ? ` ${(await stat(p)).size}` : '/'}`);
  }
  return out.sort();
}

async function records(store: string): Promise<Exchange[]> {
  const out: Exchange[] = [];
  for await (const ex of readExchanges(store)) out.push(ex);
  return out;
}

describe('replay --record-out when the run fails', () => {
  it('before the first recorded exchange: no store it created is left, and the run error is the one thrown', async () => {
    const store = await storeFailingAtThird(true);
    const fresh = join(tmp.dir, 'new', 'deeper', 'replayed'); // parents made for it go too
    const before = sent;
    await expect(replay(store, fresh)).rejects.toMatchObject({ code: 'REPLAY_RECORDED_HOST' });
    expect(sent).toBe(before); // nothing was sent: the two requests lacked STAGING_TOKEN
    expect(existsSync(join(tmp.dir, 'new'))).toBe(false);

    const plain = join(tmp.dir, 'plain'); // a directory of the user's: gets back only what it held
    await mkdir(plain);
    await writeFile(join(plain, 'NOTES.txt'), 'mine');
    await expect(replay(store, plain)).rejects.toMatchObject({ code: 'REPLAY_RECORDED_HOST' });
    expect(await tree(plain)).toEqual(['/NOTES.txt 4']);
  });

  it('a store that was there (empty, or appended to) is left exactly as it was', async () => {
    const store = await storeFailingAtThird(true);
    const empty = join(tmp.dir, 'empty-store');
    await writeExchanges([], empty);
    const full = await writeFixtureStore(tmp.dir, 4, 1_000, 'earlier-run');
    const [emptyBefore, fullBefore] = [await tree(empty), await tree(full)];
    await expect(replay(store, empty)).rejects.toMatchObject({ code: 'REPLAY_RECORDED_HOST' });
    await expect(replay(store, full, { recordOutAppend: true })).rejects.toMatchObject({ code: 'REPLAY_RECORDED_HOST' });
    expect(await tree(empty)).toEqual(emptyBefore);
    expect(await tree(full)).toEqual(fullBefore);
    expect(await records(full)).toHaveLength(4);
  });

  it('after exchanges were recorded: they are kept, in a sealed store that is not left locked', async () => {
    const store = await storeFailingAtThird(false);
    const out = join(tmp.dir, 'replayed');
    const before = sent;
    await expect(replay(store, out)).rejects.toMatchObject({ code: 'REPLAY_RECORDED_HOST' });
    const kept = await records(out);
    expect(sent - before).toBeGreaterThan(0); // (how many went out depends on how far the plan reads ahead)
    expect(kept.map((ex) => [ex.source.kind, ex.response?.status])).toEqual(Array.from({ length: sent - before }, () => ['replay', 200]));
    expect(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')).segments).toHaveLength(1);
    expect(existsSync(join(out, 'writer.lock'))).toBe(false);
  });

  it("a scenario's recordOut is taken back the same way", async () => {
    const store = await storeFailingAtThird(true);
    const file = join(tmp.dir, 'gate.yaml');
    await writeFile(file, [
      'version: 1',
      'name: gate',
      'source:',
      `  store: ${store}`,
      'replay:',
      `  target: ${target.url}`,
      `  recordOut: ${join(tmp.dir, 'scenario-out', 'replayed')}`,
      '',
    ].join('\n'));
    const out = new Writable({ write: (_c, _e, cb) => cb() });
    await expect(runScenario(loadScenario(file), { out, progress: null, env: {} })).rejects.toMatchObject({ code: 'REPLAY_RECORDED_HOST' });
    expect(existsSync(join(tmp.dir, 'scenario-out'))).toBe(false);
  });
});
