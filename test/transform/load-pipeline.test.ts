import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RepriseError } from '../../errors.js';
import { loadTransformPipeline, parsePipelineYaml, TransformConfigError, validatePipeline } from '../../transform/config/load-pipeline.js';
import { didYouMean } from '../../transform/config/did-you-mean.js';

function problems(yaml: string): string[] {
  try {
    parsePipelineYaml(yaml, 'transforms.yaml', tmpdir());
  } catch (err) {
    if (err instanceof TransformConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('loading transforms.yaml', () => {
  it('returns a frozen definition whose steps explain themselves', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'reprise-yaml-'));
    const file = join(dir, 'transforms.yaml');
    await writeFile(file, 'steps:\n  - type: redact\n    headers: [authorization, cookie]\n  - type: filter\n    presets: [drop-health-checks]\n');
    const def = await loadTransformPipeline(file);
    expect(def.baseDir).toBe(dir);
    expect(def.explain()).toBe('1. redact headers authorization, cookie\n2. filter drop-health-checks');
    expect(JSON.parse(JSON.stringify(def.steps))).toEqual([{ type: 'redact', headers: ['authorization', 'cookie'] }, { type: 'filter', presets: ['drop-health-checks'] }]);
    expect((def.steps[0] as unknown as { explain(): string }).explain()).toBe('redact headers authorization, cookie');
    expect(Object.isFrozen(def.steps[0])).toBe(true);
    expect(Object.isFrozen((def.steps[0] as { headers: string[] }).headers)).toBe(true);
    expect(() => (def.steps as unknown[]).push({})).toThrow();
    await expect(loadTransformPipeline(join(dir, 'nope.yaml'))).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND' });
  });

  it('reports every problem at once, each with file:line:col and its path', () => {
    const yaml = [
      'steps:', //                                   1
      '  - type: redact', //                         2
      '    headers: authorization', //               3  not a list
      '    jsonPaths: [$.user.email, user.phone]', // 4  not a JSON path
      '    mode: hashed', //                         5  bad enum
      '    detector: [email]', //                    6  near miss
      '  - type: filtr', //                          7  unknown type
      '  - type: filter', //                         8
      '    include:', //                             9
      '      pathRegex: "([a-z]+"', //               10 bad regex
      '      paths: [api/**]', //                    11 bad glob
      '      status: [5xx]', //                      12 renamed key
      '  - type: plugin', //                         13
      '    path: ./missing-plugin.ts', //            14 missing file
      '  - type: sample', //                         15
      '    percent: "ten"', //                       16 wrong type
      '  - just a string', //                        17
    ].join('\n');
    expect(problems(yaml)).toEqual([
      'transforms.yaml:3:14 steps[0].headers: must be a list, got a string',
      'transforms.yaml:4:31 steps[0].jsonPaths[1]: is not a JSON path: must start with $ (like $.user.email)',
      'transforms.yaml:5:11 steps[0].mode: must be one of mask, hash; got "hashed" (did you mean "hash"?)',
      'transforms.yaml:6:5 steps[0].detector: unknown key "detector" (did you mean "detectors"?)',
      'transforms.yaml:7:11 steps[1].type: unknown step type "filtr" (did you mean "filter"?)',
      'transforms.yaml:10:18 steps[2].include.pathRegex: is not a valid regular expression: /([a-z]+/: Unterminated group',
      'transforms.yaml:11:15 steps[2].include.paths[0]: path glob "api/**" must start with / or *',
      'transforms.yaml:12:7 steps[2].include.status: unknown key "status" (did you mean "statuses"?)',
      'transforms.yaml:14:11 steps[3].path: file "./missing-plugin.ts" does not exist',
      'transforms.yaml:16:14 steps[4].percent: must be a number, got a string',
      'transforms.yaml:17:5 steps[5]: must be a mapping with a type, got a string',
    ]);
  });

  it('checks across fields only once each field is fine, and the top level too', () => {
    expect(problems('steps:\n  - type: redact\n')).toEqual(['transforms.yaml:2:5 steps[0]: redacts nothing: give headers, queryParams, cookies, jsonPaths, formFields or detectors']);
    expect(problems('steps:\n  - type: sample\n    perEndpoint: 5\n    by: {header: x-user}\n')).toEqual(['transforms.yaml:4:9 steps[0].by: needs percent']);
    expect(problems('step: []\n')).toEqual([
      'transforms.yaml:1:1 step: unknown key "step" (did you mean "steps"?)',
      'transforms.yaml:1:1 (document): is missing "steps"',
    ]);
    expect(problems('steps: {}\n')).toEqual(['transforms.yaml:1:8 steps: must be a list of steps, got a mapping']);
    expect(problems('steps:\n  - type: redact\n    detectors: default\n    key: {env: K}\n')).toEqual(['transforms.yaml:4:10 steps[0].key: is only used with mode: hash']);
  });

  it('refuses an empty step list in a file, while code may still build an empty pipeline', () => {
    expect(problems('version: 1\nsteps: []\n')).toEqual(['transforms.yaml:2:8 steps: is empty: the run would copy the traffic unchanged (list at least one step)']);
    expect(validatePipeline({ steps: [] }).steps).toEqual([]); // a benchmark's "no steps" baseline
  });

  it('a document that is not a mapping says the steps go under steps:, with its place', () => {
    const hint = 'must be a mapping with "steps:", got a list (a list of steps goes under "steps:")';
    expect(problems('# my pipeline\n- type: filter\n  presets: [drop-health-checks]\n')).toEqual([`transforms.yaml:2:1 (document): ${hint}`]);
    expect(problems('- filter\n- sample\n')).toEqual([`transforms.yaml:1:1 (document): ${hint}`]);
    expect(problems('redact\n')).toEqual(['transforms.yaml:1:1 (document): must be a mapping with "steps:", got a string']);
    expect(problems('')).toEqual(['transforms.yaml (document): must be a mapping with "steps:", got an empty file']);
  });

  it('YAML syntax errors and duplicate keys point at their place', () => {
    expect(problems('steps:\n  - type: redact\n    type: filter\n')[0]).toMatch(/^transforms\.yaml:3:5 Map keys must be unique/);
    expect(problems('steps: [\n')[0]).toMatch(/^transforms\.yaml:\d+:\d+ /);
    expect(problems('steps:\n  - !custom {type: x}\n')[0]).toMatch(/^transforms\.yaml:2:5 Unresolved tag: !custom/);
  });

  it('an unquoted [*] path in a flow sequence gets one problem that says to quote it; quoted, it loads', () => {
    const bad = problems('steps:\n  - type: redact\n    jsonPaths: [$.users[*].name]\n');
    expect(bad).toEqual([expect.stringMatching(/^transforms\.yaml:3:\d+ .* \(a JSON path with \[\*\] inside \[ … \] must be quoted: \['\$\.items\[\*\]\.id'\]\)$/)]);
    expect(problems("steps:\n  - type: redact\n    jsonPaths: ['$.users[*].name']\n")).toEqual([]);
    // Block style needs no quotes, and an error elsewhere gets no such hint.
    expect(problems('steps:\n  - type: redact\n    jsonPaths:\n      - $.users[*].name\n')).toEqual([]);
    expect(problems('steps: [\n')[0]).not.toContain('must be quoted');
  });

  it('validates plain objects too (scenarios), with a path prefix', () => {
    expect(() => validatePipeline([{ type: 'dedupe', window: 'soon' }], { pathPrefix: ['transform'], source: 'scenario.yaml' }))
      .toThrow(/1 problem in scenario\.yaml:\n {2}transform\[0\]\.window: is not a duration/);
    expect(validatePipeline({ version: 1, steps: [{ type: 'dedupe', window: 500 }] }).steps.length).toBe(1);
  });

  it('did-you-mean finds case, separator and small-edit near misses only', () => {
    expect(didYouMean('json_paths', ['jsonPaths', 'headers'])).toBe('jsonPaths');
    expect(didYouMean('hedaers', ['jsonPaths', 'headers'])).toBe('headers');
    expect(didYouMean('completely', ['jsonPaths', 'headers'])).toBeUndefined();
  });
});

describe('hostile YAML', () => {
  const quick = (yaml: string): { ms: number; err: unknown } => {
    const t0 = performance.now();
    let err: unknown = null;
    try {
      parsePipelineYaml(yaml, 'x.yaml', tmpdir());
    } catch (e) {
      err = e;
    }
    return { ms: performance.now() - t0, err };
  };

  it('an alias bomb is refused quickly', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]', ...'bcdefghij'.split('').map((c, i) => `${c}: &${c} [${Array(10).fill(`*${'abcdefghij'[i]}`).join(',')}]`), 'steps: [*j]'].join('\n');
    const { ms, err } = quick(bomb);
    expect(ms).toBeLessThan(2000);
    expect(err).toBeInstanceOf(TransformConfigError);
    expect(String((err as Error).message)).toMatch(/too many aliases/);
  });

  it('deep nesting and huge strings give clear errors, not a hang or a crash', () => {
    for (const yaml of [
      `steps: ${'['.repeat(50_000)}${']'.repeat(50_000)}`,
      `steps:\n${Array.from({ length: 2000 }, (_, i) => `${'  '.repeat(i + 1)}- `).join('\n')}x`,
      `steps:\n  - type: plugin\n    path: x.mjs\n    options: ${'{a: '.repeat(5000)}1${'}'.repeat(5000)}`,
      `steps:\n  - type: redact\n    ${'k'.repeat(500_000)}: 1`,
      `steps:\n  - type: "${'r'.repeat(900_000)}"`,
    ]) {
      const { ms, err } = quick(yaml);
      expect(ms, yaml.slice(0, 40)).toBeLessThan(5000);
      expect(err, yaml.slice(0, 40)).toBeInstanceOf(RepriseError);
      expect((err as Error).message.length).toBeLessThan(2000); // huge input is clipped in messages
    }
    expect(quick('x'.repeat(2 << 20)).err).toMatchObject({ code: 'TRANSFORM_INVALID', message: expect.stringMatching(/at most 1048576/) });
  });

  it('fuzz: random bytes and mutated pipelines always end in a RepriseError or a definition', () => {
    const good = 'steps:\n  - type: redact\n    headers: [authorization]\n    jsonPaths: [$..password]\n  - type: sample\n    percent: 10\n  - type: filter\n    include: {paths: [/api/**], statuses: [2xx]}\n';
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) {
      let text: string;
      if (i % 4 === 0) text = randomBytes(rand(200)).toString('latin1');
      else {
        const chars = good.split('');
        for (let k = 0; k < 1 + rand(6); k++) chars.splice(rand(chars.length), rand(3), ...': -[]{}&*!|>"\'#\n\t$..'.charAt(rand(22)));
        text = chars.join('');
      }
      try {
        parsePipelineYaml(text, 'f.yaml', tmpdir());
      } catch (err) {
        if (!(err instanceof RepriseError)) throw new Error(`not a RepriseError for ${JSON.stringify(text)}: ${String(err)}`);
      }
    }
    expect(performance.now() - t0).toBeLessThan(20_000);
  });
});
