import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { RepriseError } from '../../errors.js';
import { loadScenario } from '../../scenarios/load-scenario.js';
import { makeTempDir } from '../support/temp-dir.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});
async function tempDir(): Promise<{ path: string }> {
  const { dir, cleanup } = await makeTempDir('reprise-scenario-');
  cleanups.push(cleanup);
  return { path: dir };
}

function write(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function problemOf(fn: () => unknown): RepriseError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RepriseError);
    return err as RepriseError;
  }
  throw new Error('expected an error');
}

const VALID = `version: 1
name: ci-replay
source:
  store: ./captures/prod
transform:
  steps:
    - type: filter
      presets: [drop-health-checks]
replay:
  target: \${env:TARGET:-http://127.0.0.1:8080}
  concurrency: 64
  timeout: 5s
  headers:
    X-Replay: "1"
  phases:
    - name: warm
      speed: 10
      maxGap: 2s
    - name: flat-out
      max: { connections: 32, duration: 10s }
      workers: 2
thresholds: ['p99<250ms']
reports:
  dir: out/
`;

describe('loadScenario', () => {
  it('normalizes a valid scenario: durations in ms, paths absolute, env filled, phases typed', async () => {
    const dir = await tempDir();
    const file = write(dir.path, 'ci.yaml', VALID);
    const s = loadScenario(file, { env: { TARGET: 'http://127.0.0.1:9999' } });
    expect(s.name).toBe('ci-replay');
    expect(s.source).toEqual({ kind: 'store', path: join(dir.path, 'captures/prod') });
    expect(s.transform?.steps).toHaveLength(1);
    expect(s.replay?.target).toBe('http://127.0.0.1:9999');
    expect(s.replay?.timeoutMs).toBe(5000);
    expect(s.replay?.headers).toEqual({ 'X-Replay': '1' });
    expect(s.replay?.phases).toEqual([
      { kind: 'timed', name: 'warm', speed: 10, amplify: 1, loop: false, maxGapMs: 2000 },
      { kind: 'max', name: 'flat-out', connections: 32, pipelining: 1, durationMs: 10_000, workers: 2 },
    ]);
    expect(s.reports).toEqual({ dir: join(dir.path, 'out') });
    expect(loadScenario(file, { env: {} }).replay?.target).toBe('http://127.0.0.1:8080');
  });

  it('merges includes under the including file, which wins', async () => {
    const dir = await tempDir();
    mkdirSync(join(dir.path, 'common'));
    write(dir.path, 'common/base.yaml', 'replay:\n  target: http://127.0.0.1:1\n  concurrency: 8\nreports:\n  dir: base-out\n');
    const file = write(dir.path, 's.yaml', 'include: common/base.yaml\nversion: 1\nname: x\nsource: { store: ./st }\nreplay:\n  concurrency: 16\n  speed: 2\n');
    const s = loadScenario(file);
    expect(s.replay?.target).toBe('http://127.0.0.1:1');
    expect(s.replay?.concurrency).toBe(16);
    expect(s.reports.dir).toBe(join(dir.path, 'common/base-out').replace('common/', '')); // resolved against the scenario's folder
  });

  it.each([
    ['unknown key', 'version: 1\nname: x\nsource: { store: s }\nreplay:\n  target: http://127.0.0.1:1\n  sped: 10\n', /s\.yaml:6:3 replay\.sped: unknown key "sped" \(did you mean "speed"\?\)/],
    ['bad duration', 'version: 1\nname: x\nsource: { store: s }\nreplay:\n  target: http://127.0.0.1:1\n  timeout: 5 sec\n', /s\.yaml:6:12 replay\.timeout: is not a duration/],
    ['missing file', 'version: 1\nname: x\nsource:\n  har: ./nope.har\nreplay: { target: "http://127.0.0.1:1" }\n', /s\.yaml:4:8 source\.har: file "\.\/nope\.har" does not exist/],
    ['bad URL', 'version: 1\nname: x\nsource: { store: s }\nreplay:\n  target: staging:8080/x\n', /s\.yaml:5:11 replay\.target: must be an http:\/\/ or https:\/\/ URL/],
    ['two sources', 'version: 1\nname: x\nsource: { store: s, apigw: p }\nreplay: { target: "http://127.0.0.1:1" }\n', /s\.yaml:3:9 source: takes only one of store, har, pcap, apigw; got store and apigw/],
    ['speed with a profile', 'version: 1\nname: x\nsource: { store: s }\nreplay:\n  target: http://127.0.0.1:1\n  speed: 3\n  profile: { type: constant, rate: 10, duration: 5 }\n', /s\.yaml:6:10 replay\.speed: a rate profile sets absolute rates/],
    ['replay without traffic', 'version: 1\nname: x\nreplay: { target: "http://127.0.0.1:1" }\n', /s\.yaml:3:9 replay: needs traffic/],
    ['a bad transform step', 'version: 1\nname: x\nsource: { store: s }\ntransform:\n  steps:\n    - type: redactt\nreplay: { target: "http://127.0.0.1:1" }\n', /s\.yaml:6:13 transform\.steps\[0\]\.type: unknown step type "redactt" \(did you mean "redact"\?\)/],
    ['an empty transform', 'version: 1\nname: x\nsource: { store: s }\ntransform:\n  steps: []\nreplay: { target: "http://127.0.0.1:1" }\n', /s\.yaml:5:10 transform\.steps: is empty: the run would copy the traffic unchanged/],
    ['an empty transform list', 'version: 1\nname: x\nsource: { store: s }\ntransform: []\nreplay: { target: "http://127.0.0.1:1" }\n', /s\.yaml:4:12 transform: is empty: the run would copy the traffic unchanged/],
    ['an unset variable', 'version: 1\nname: x\nsource: { store: "${env:REPRISE_TEST_UNSET_VAR}" }\nreplay: { target: "http://127.0.0.1:1" }\n', /s\.yaml:3:18 \$\{env:REPRISE_TEST_UNSET_VAR\}: the environment variable REPRISE_TEST_UNSET_VAR is not set/],
    ['bad threshold expression', 'version: 1\nname: x\nsource: { store: s }\nreplay: { target: "http://127.0.0.1:1" }\nthresholds:\n  - p99<250\n', /s\.yaml:6:5 thresholds\[0\]: .*p99<250/],
    ['bad diff threshold', 'version: 1\nname: x\nsource: { store: s }\ndiff:\n  baseline: http://127.0.0.1:1\n  candidate: http://127.0.0.1:2\n  thresholds: [no bugs]\n', /s\.yaml:7:16 diff\.thresholds\[0\]: "no bugs": expected/],
    ['absurd speed (bounded like --speed)', 'version: 1\nname: x\nsource: { store: s }\nreplay:\n  target: http://127.0.0.1:1\n  phases:\n    - { speed: 0.000000001 }\n', /s\.yaml:7:16 replay\.phases\[0\]\.speed: must be ≥ 0\.001/],
    ['absurd amplify (bounded like --amplify)', 'version: 1\nname: x\nsource: { store: s }\nreplay:\n  target: http://127.0.0.1:1\n  amplify: 1000000000\n', /s\.yaml:6:12 replay\.amplify: must be ≤ 10000/],
    ['bad rate profile', 'version: 1\nname: x\nsource: { store: s }\nreplay:\n  target: http://127.0.0.1:1\n  profile: { type: spike, base: 1, peak: 5, duration: 10, at: 8, spikeDuration: 5 }\n', /s\.yaml:6:12 replay\.profile: .*spike .*must end within the duration/],
    ['a diff array path without $', 'version: 1\nname: x\nsource: { store: s }\ndiff:\n  baseline: http://127.0.0.1:1\n  candidate: http://127.0.0.1:2\n  arrays: { tags: index }\n', /s\.yaml:7:\d+ diff\.arrays\.tags: "tags" can never match an array; did you mean "\$\.tags"\?/],
    ['a rules-file name in a scenario diff', 'version: 1\nname: x\nsource: { store: s }\ndiff:\n  baseline: http://127.0.0.1:1\n  candidate: http://127.0.0.1:2\n  strictNumbers: true\n', /s\.yaml:7:3 diff\.strictNumbers: unknown key "strictNumbers" \(did you mean "strictNumberText"\?\)/],
    ['workers with recordOut', 'version: 1\nname: x\nsource: { store: s }\nreplay:\n  target: http://127.0.0.1:1\n  recordOut: out\n  workers: 2\n', /s\.yaml:7:12 replay\.workers: sends from several processes; recordOut needs one/],
    ['more workers than max connections', 'version: 1\nname: x\nsource: { store: s }\nreplay:\n  target: http://127.0.0.1:1\n  phases:\n    - { max: { connections: 2, duration: 5s }, workers: 3 }\n', /s\.yaml:7:\d+ replay\.phases\[0\]\.workers: needs at least one connection per worker \(max\.connections is 2\)/],
    ['workers beside phases', 'version: 1\nname: x\nsource: { store: s }\nreplay:\n  target: http://127.0.0.1:1\n  workers: 2\n  phases:\n    - { speed: 2 }\n', /s\.yaml:6:\d+ replay\.workers: goes inside a phase/],
    ['diff headers on an offline diff', 'version: 1\nname: x\ndiff:\n  left: a\n  right: b\n  headers: { Authorization: x }\n', /s\.yaml:6:3 diff\.headers: are set on live requests; an offline diff/],
    ['a bad diff header name', 'version: 1\nname: x\nsource: { store: s }\ndiff:\n  baseline: http://127.0.0.1:1\n  candidate: http://127.0.0.1:2\n  headers: { "bad name": x }\n', /s\.yaml:7:\d+ diff\.headers\["bad name"\]: "bad name" is not a valid header name/],
    ['YAML syntax', 'version: 1\nname: [x\n', /s\.yaml:\d+:\d+ /],
    ['duplicate key', 'version: 1\nversion: 1\nname: x\n', /s\.yaml:2:1 Map keys must be unique/],
    ['not a mapping', '- a\n- b\n', /s\.yaml:1:1 a scenario must be a mapping/],
  ])('%s → one clear first line with file:line:col', async (_name, text, pattern) => {
    const dir = await tempDir();
    const file = write(dir.path, 's.yaml', text);
    const err = problemOf(() => loadScenario(file, { env: {} }));
    expect(err.code).toBe('SCENARIO_INVALID');
    expect(err.message.split('\n')[0]).toMatch(pattern);
  });

  it('reports every problem at once', async () => {
    const dir = await tempDir();
    const file = write(dir.path, 's.yaml', 'version: 2\nname: "a b"\nsource: { store: s }\nreplay:\n  target: http://127.0.0.1:1\n  amplify: 0\n  concurency: 3\n');
    const err = problemOf(() => loadScenario(file)) as RepriseError & { problems: string[] };
    expect(err.problems).toHaveLength(4);
    expect(err.problems.join('\n')).toMatch(/version: must be ≤ 1[\s\S]*name: must be letters[\s\S]*amplify: must be ≥ 1[\s\S]*unknown key "concurency"/);
  });

  it('a missing include names the file:line:col that includes it, not only the missing file', async () => {
    const dir = await tempDir();
    write(dir.path, 'common.yaml', 'include: [./shared/ok.yaml, ./shared/gone.yaml]\n');
    write(dir.path, 's.yaml', 'version: 1\nname: s\ninclude: common.yaml\n');
    mkdirSync(join(dir.path, 'shared'));
    write(dir.path, 'shared/ok.yaml', 'description: ok\n');
    const err = problemOf(() => loadScenario(join(dir.path, 's.yaml')));
    expect(err.code).toBe('INPUT_NOT_FOUND');
    expect(err.message).toBe(`${join(dir.path, 'common.yaml')}:1:29 include: "./shared/gone.yaml": ${join(dir.path, 'shared/gone.yaml')} cannot be read (ENOENT)`);
  });

  it('hostile files: include cycles, alias bombs, huge files and deep nesting end in a clear error', async () => {
    const dir = await tempDir();
    write(dir.path, 'a.yaml', 'include: b.yaml\nversion: 1\nname: a\n');
    write(dir.path, 'b.yaml', 'include: a.yaml\n');
    expect(problemOf(() => loadScenario(join(dir.path, 'a.yaml'))).message).toMatch(/includes itself/);
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)].join('\n');
    expect(problemOf(() => loadScenario(write(dir.path, 'bomb.yaml', bomb))).message).toMatch(/alias expansions/);
    expect(problemOf(() => loadScenario(write(dir.path, 'big.yaml', `name: "${'x'.repeat(2 << 20)}"\n`))).message).toMatch(/bytes; a scenario is at most/);
    expect(problemOf(() => loadScenario(write(dir.path, 'deep.yaml', `${'['.repeat(5000)}${']'.repeat(5000)}\n`))).code).toBe('SCENARIO_INVALID');
    expect(problemOf(() => loadScenario(join(dir.path, 'missing.yaml'))).code).toBe('INPUT_NOT_FOUND');
  });
});

describe('reprise run', () => {
  it('an invalid scenario is one line on stderr with file:line:col, exit 1, no stack', async () => {
    const dir = await tempDir();
    const file = write(dir.path, 'bad.yaml', 'version: 1\nname: x\nsource: { store: s }\nreplay:\n  target: http://127.0.0.1:1\n  timeout: soon\n');
    const { runCli } = await import('../support/run-cli.js');
    const r = await runCli(['run', file]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^reprise: SCENARIO_INVALID: .*bad\.yaml:6:12 replay\.timeout: is not a duration/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const ok = await runCli(['run', join(fileURLToPath(new URL('../../scenarios/', import.meta.url)), 'release-diff.yaml'), '--check']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/valid scenario "release-diff"/);
  });
});
