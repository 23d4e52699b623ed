import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RepriseError } from '../../errors.js';
import { loadProfile, parseProfileYaml, profileSendTimesUs, rateAt } from '../../replay/schedule/rate-profile.js';
import { makeTempDir } from '../support/temp-dir.js';

function profileError(text: string): RepriseError {
  try {
    parseProfileYaml(text, 'p.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(RepriseError);
    return err as RepriseError;
  }
  throw new Error(`no error for:\n${text}`);
}

/** The one line the CLI prints: `where: message`, no newline inside. */
const line = (e: RepriseError): string => `${e.where}: ${e.message}`;

describe('rate profiles from YAML', () => {
  it('parses each shape', () => {
    expect(parseProfileYaml('type: constant\nrate: 100\nduration: 60\n')).toEqual({ type: 'constant', rate: 100, duration: 60 });
    expect(parseProfileYaml('type: ramp\nfrom: 10\nto: 200\nduration: 60\n')).toMatchObject({ type: 'ramp', from: 10, to: 200 });
    expect(parseProfileYaml('type: spike\nbase: 50\npeak: 500\nduration: 60\nat: 20\nspikeDuration: 5\n')).toMatchObject({ type: 'spike', peak: 500 });
    const steps = parseProfileYaml('type: steps\nsteps:\n  - { rate: 10, duration: 10 }\n  - { rate: 50, duration: 5 }\n');
    expect(steps).toEqual({ type: 'steps', steps: [{ rate: 10, duration: 10 }, { rate: 50, duration: 5 }] });
    expect(Object.isFrozen(steps)).toBe(true);
  });

  it('send times integrate the rate exactly, with no drift over long runs', () => {
    const times = [...profileSendTimesUs({ type: 'constant', rate: 1000, duration: 3600 })];
    expect(times).toHaveLength(3_600_000);
    expect(times[3_599_999]).toBe(3_599_999_000);
    const ramp = [...profileSendTimesUs({ type: 'ramp', from: 100, to: 0, duration: 10 })];
    expect(ramp).toHaveLength(500);
    for (let i = 1; i < ramp.length; i++) expect(ramp[i]!).toBeGreaterThanOrEqual(ramp[i - 1]!);
    expect(rateAt({ type: 'ramp', from: 100, to: 0, duration: 10 }, 5)).toBe(50);
  });

  it('a bad value names file:line:col and the key', () => {
    const e = profileError('type: spike\nbase: 50\npeak: -5\nduration: 60\nat: 20\nspikeDuration: 5\n');
    expect(e.code).toBe('REPLAY_PROFILE_INVALID');
    expect(line(e)).toBe('p.yaml:3:7: peak: must be a number from 0 to 10000000 (got -5)');
  });

  it('reports every problem at once, each with its line', () => {
    const e = profileError('type: steps\nsteps:\n  - { rate: 10, duration: x }\n  - { rat: 5, duration: 1 }\n');
    expect(line(e)).toMatch(/^p\.yaml:3:\d+: steps\[0\]\.duration: must be a number/);
    expect(e.message).toMatch(/4:\d+ steps\[1\]\.rat: unknown key \(did you mean "rate"\?\)/);
    expect(e.message).toMatch(/steps\[1\]\.rate: must be a number from 0 to 10000000 \(missing\)/);
    expect(e.message).not.toContain('\n');
  });

  it('an unknown type and a misspelled key get hints', () => {
    expect(line(profileError('type: ramps\nfrom: 1\n'))).toBe('p.yaml:1:7: type: must be one of constant, ramp, spike, steps (got "ramps")');
    expect(line(profileError('type: constant\nrate: 5\nduraton: 10\n'))).toMatch(/^p\.yaml:\d+:\d+: duration: must be a number.*3:1 duraton: unknown key \(did you mean "duration"\?\)/);
  });

  it('a spike that does not fit, a zero-length profile, one beyond 30 days', () => {
    expect(profileError('type: spike\nbase: 1\npeak: 2\nduration: 10\nat: 8\nspikeDuration: 5\n').message).toMatch(/must end within the duration/);
    expect(profileError('type: constant\nrate: 5\nduration: 0\n').message).toMatch(/longer than 0 s/);
    expect(profileError('type: steps\nsteps: [{ rate: 1, duration: 2000000 }, { rate: 1, duration: 2000000 }]\n').message).toMatch(/at most 2592000 s/);
  });

  it('truncated, corrupted and hostile YAML: one-line errors, nothing expanded', () => {
    const cases: Array<[string, RegExp]> = [
      ['type: steps\nsteps: [ { rate: 1, duration', /^p\.yaml:\d+:\d+: not valid YAML/],
      ['type: constant\nrate: 1\nrate: 2\nduration: 1\n', /not valid YAML: Map keys must be unique/],
      ['\u0000\u0001binary\u00ff', /./],
      ['', /must be a mapping with a type/],
      ['- 1\n- 2\n', /not a list|must be a mapping/],
      ['a: &a [1,1,1,1]\nb: &b [*a,*a,*a,*a]\nc: [*b,*b,*b,*b]\ntype: constant\n', /aliases/],
      [`type: constant\nrate: ${'9'.repeat(400)}\nduration: 1\n`, /rate: must be a number/],
      [`${'['.repeat(5000)}${']'.repeat(5000)}`, /./],
    ];
    for (const [text, want] of cases) {
      const e = profileError(text);
      expect(e.code).toBe('REPLAY_PROFILE_INVALID');
      expect(line(e)).toMatch(want);
      expect(line(e)).not.toContain('\n');
      expect(line(e).length).toBeLessThan(600);
    }
  });

  it('fuzz: random mutations of a valid profile give a profile or a REPLAY_PROFILE_INVALID, nothing else', () => {
    const base = 'type: steps\nsteps:\n  - { rate: 10, duration: 10 }\n  - { rate: 50, duration: 5 }\n';
    const alphabet = ' -:{}[],&*!|>\'"#\n\t0123456789abcdefxyz';
    let seed = 12345;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    for (let round = 0; round < 2000; round++) {
      const chars = base.split('');
      for (let k = 0, m = 1 + rnd(4); k < m; k++) {
        const at = rnd(chars.length + 1);
        const op = rnd(3);
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, alphabet[rnd(alphabet.length)]!);
        else chars[at] = alphabet[rnd(alphabet.length)]!;
      }
      try {
        parseProfileYaml(chars.join(''), 'fuzz.yaml');
      } catch (err) {
        expect(err).toBeInstanceOf(RepriseError);
        expect((err as RepriseError).code).toBe('REPLAY_PROFILE_INVALID');
        expect((err as RepriseError).message).not.toContain('\n');
      }
    }
  });

  it('loadProfile: a missing file, an oversized file', async () => {
    const tmp = await makeTempDir('reprise-profile-');
    try {
      await expect(loadProfile(join(tmp.dir, 'nope.yaml'))).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND' });
      const big = join(tmp.dir, 'big.yaml');
      await writeFile(big, `# ${'x'.repeat(2 << 20)}\n`);
      await expect(loadProfile(big)).rejects.toMatchObject({ code: 'REPLAY_PROFILE_INVALID' });
      const ok = join(tmp.dir, 'ok.yaml');
      await writeFile(ok, 'type: constant\nrate: 5\nduration: 2\n');
      expect(await loadProfile(ok)).toEqual({ type: 'constant', rate: 5, duration: 2 });
    } finally {
      await tmp.cleanup();
    }
  });
});
