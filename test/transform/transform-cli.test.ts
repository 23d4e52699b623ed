import { existsSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importHar } from '../../capture/har/har-import.js';
import { readExchanges } from '../../store/segment-reader.js';
import { writeExchanges } from '../../store/write-exchanges.js';
import { expectOneLineError, runCli } from '../support/run-cli.js';
import { makeTempDir } from '../support/temp-dir.js';

const har = fileURLToPath(new URL('../fixtures/har/sample-api.har', import.meta.url));
const plugin = fileURLToPath(new URL('./fixtures/tag-plugin.ts', import.meta.url));
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  tmp = await makeTempDir();
});
afterEach(async () => tmp.cleanup());

describe('reprise transform', () => {
  it('runs a pipeline store → store and prints what it did; --dry-run --explain writes nothing and shows what was learned', async () => {
    const input = join(tmp.dir, 'in');
    await writeExchanges(importHar(har, { redactHeaders: false }), input);
    const yaml = join(tmp.dir, 'transforms.yaml');
    await writeFile(yaml, [
      'steps:',
      '  - type: filter',
      '    presets: [drop-static-assets]',
      '  - type: correlate',
      '    session: capture',
      '  - type: redact',
      '    headers: [authorization, cookie, set-cookie]',
      '    detectors: default',
      `  - type: plugin`,
      `    path: ${JSON.stringify(plugin)}`, // a .ts plugin, loaded through the CLI's tsx
      '    options: {tenant: cli}',
      '',
    ].join('\n'));

    const dry = await runCli(['transform', input, '--with', yaml, '--dry-run', '--explain']);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('step 1 (filter drop-static-assets)');
    expect(dry.stdout).toMatch(/corr\.login_token ← POST \/api\/v1\/auth\/login response json \$\.token \(e\.g\. eyJh…\(69 chars\)/);
    expect(dry.stdout).toContain('would write 59 of 60 exchanges');
    expect(dry.stdout).not.toContain('eyJhbGciOiJIUzI1NiJ9.eyJ'); // --explain masks what it shows

    const out = join(tmp.dir, 'out');
    const run = await runCli(['transform', input, '--out', out, '--with', yaml]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^wrote 59 of 60 exchanges from .* \(1 dropped\)\ndropped by step:\n {2}step 1 \(filter drop-static-assets\): 1\nredactions: .*detector:email \d+/);
    let n = 0;
    for await (const x of readExchanges(out)) {
      n++;
      expect(x.request.headers.some(([k, v]) => k === 'X-Tenant' && v === 'tenant-cli')).toBe(true);
    }
    expect(n).toBe(59);
  });

  it('a bad pipeline is a user error listing every problem with its place, before anything runs', async () => {
    const yaml = join(tmp.dir, 'bad.yaml');
    await writeFile(yaml, 'steps:\n  - type: redact\n    jsonPath: [$.a]\n  - type: sample\n    percent: 150\n');
    const r = await runCli(['transform', join(tmp.dir, 'nowhere'), '--out', join(tmp.dir, 'o'), '--with', yaml]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      `reprise: TRANSFORM_INVALID: 2 problems in ${yaml}:`,
      `  ${yaml}:3:5 steps[0].jsonPath: unknown key "jsonPath" (did you mean "jsonPaths"?)`,
      `  ${yaml}:5:14 steps[1].percent: must be ≤ 100`,
    ]);
    expect(existsSync(join(tmp.dir, 'o'))).toBe(false);
    const help = await runCli(['transform', '--help']);
    expect(help.stdout).toContain('--with <transforms.yaml>');
  });

  it('loads a .ts plugin from a CommonJS project (no "type": "module"), the usual place for one', async () => {
    const input = join(tmp.dir, 'in');
    await writeExchanges(importHar(har, { redactHeaders: false }), input);
    await writeFile(join(tmp.dir, 'package.json'), '{ "name": "my-project" }\n');
    await writeFile(join(tmp.dir, 'tag.ts'), [
      "export default function tag(ex: { request: { path: string } }, options: { tenant?: string }): unknown {",
      "  return ex.request.path.startsWith('/static/') ? null : { ...ex, meta: { tenant: options.tenant } };",
      '}',
      '',
    ].join('\n'));
    await writeFile(join(tmp.dir, 'broken.ts'), 'export default function (ex: unknown) { return ex\n');
    const yaml = (plugin: string): string => `steps:\n  - type: plugin\n    path: ./${plugin}\n    options: {tenant: acme}\n`;
    await writeFile(join(tmp.dir, 'good.yaml'), yaml('tag.ts'));
    await writeFile(join(tmp.dir, 'bad.yaml'), yaml('broken.ts'));

    const out = join(tmp.dir, 'out');
    const run = await runCli(['transform', input, '--out', out, '--with', join(tmp.dir, 'good.yaml')]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('wrote 59 of 60 exchanges');
    for await (const x of readExchanges(out)) expect(x.meta).toEqual({ tenant: 'acme' });

    // A plugin that does not compile is still a one-line error naming the file and the place.
    const bad = await runCli(['transform', input, '--dry-run', '--with', join(tmp.dir, 'bad.yaml')]);
    expect(expectOneLineError(bad, 'TRANSFORM_PLUGIN')).toMatch(/could not start: \.\/broken\.ts:2:1: cannot be loaded: Unexpected end of file$/);
  });

  it('a .mjs or .js plugin that cannot load is a one-line error naming the file and line:col', async () => {
    // Through the CLI, so Node itself loads the plugin (under vitest, vite's loader would).
    const input = join(tmp.dir, 'in');
    await writeExchanges(importHar(har, { redactHeaders: false }), input);
    await writeFile(join(tmp.dir, 'syntax.mjs'), 'export default (;\n');
    await writeFile(join(tmp.dir, 'throws.mjs'), "const config = null;\nif (!config) throw new TypeError('no config:\\n  set TENANT');\nexport default () => null;\n");
    await mkdir(join(tmp.dir, 'esm'));
    await writeFile(join(tmp.dir, 'esm', 'package.json'), '{ "type": "module" }\n'); // .js files here are ES modules
    await writeFile(join(tmp.dir, 'esm', 'late.js'), '// a plain .js module\nconst ok = 1;\n\texport default (ok;\n');
    await writeFile(join(tmp.dir, 'old.cjs'), 'module.exports = function (ex {\n');
    const loadError = async (plugin: string): Promise<string> => {
      await writeFile(join(tmp.dir, 'p.yaml'), `steps:\n  - type: plugin\n    path: ./${plugin}\n`);
      const r = await runCli(['transform', input, '--dry-run', '--with', join(tmp.dir, 'p.yaml')]);
      return expectOneLineError(r, 'TRANSFORM_PLUGIN').replace(/^.* could not start: /, '');
    };
    expect(await loadError('syntax.mjs')).toBe("./syntax.mjs:1:17: cannot be loaded: SyntaxError: Unexpected token ';'");
    expect(await loadError('esm/late.js')).toBe("./esm/late.js:3:20: cannot be loaded: SyntaxError: Unexpected token ';'");
    expect(await loadError('throws.mjs')).toBe('./throws.mjs:2:20: cannot be loaded: TypeError: no config: set TENANT');
    expect(await loadError('old.cjs')).toBe("./old.cjs:1:31: cannot be loaded: SyntaxError: Unexpected token '{'");
  });

  it('a .ts plugin that throws while it loads is a one-line error naming the file and the line:col in the .ts source', async () => {
    const input = join(tmp.dir, 'in');
    await writeExchanges(importHar(har, { redactHeaders: false }), input);
    // Type-only lines come first: compiled, the throw moves up (to line 2), so only the .ts place is line 5.
    const plugin = [
      'interface Config {',
      '  tenant: string;',
      '}',
      'const config: Config | null = null;',
      "if (!config) throw new TypeError('no config:\\n  set TENANT');",
      'export default (ex: unknown): unknown => ex;',
      '',
    ].join('\n');
    await writeFile(join(tmp.dir, 'package.json'), '{ "name": "my-project" }\n'); // CommonJS: the usual project
    await writeFile(join(tmp.dir, 'throws.ts'), plugin);
    await writeFile(join(tmp.dir, 'throws.cts'), plugin);
    await mkdir(join(tmp.dir, 'esm'));
    await writeFile(join(tmp.dir, 'esm', 'package.json'), '{ "type": "module" }\n');
    await writeFile(join(tmp.dir, 'esm', 'throws.ts'), plugin);
    const loadError = async (plugin: string): Promise<string> => {
      await writeFile(join(tmp.dir, 'p.yaml'), `steps:\n  - type: plugin\n    path: ./${plugin}\n`);
      const r = await runCli(['transform', input, '--dry-run', '--with', join(tmp.dir, 'p.yaml')]);
      return expectOneLineError(r, 'TRANSFORM_PLUGIN').replace(/^.* could not start: /, '');
    };
    expect(await loadError('throws.ts')).toBe('./throws.ts:5:20: cannot be loaded: TypeError: no config: set TENANT');
    expect(await loadError('throws.cts')).toBe('./throws.cts:5:20: cannot be loaded: TypeError: no config: set TENANT');
    expect(await loadError('esm/throws.ts')).toBe('./esm/throws.ts:5:20: cannot be loaded: TypeError: no config: set TENANT');
  });

  it('refuses an output that is the input under another name (a symlink, a trailing slash), leaving the input as it was', async () => {
    const input = join(tmp.dir, 'in');
    await writeExchanges(importHar(har, { redactHeaders: false }), input);
    await symlink(input, join(tmp.dir, 'link'));
    const yaml = join(tmp.dir, 'transforms.yaml');
    await writeFile(yaml, 'steps:\n  - type: filter\n    presets: [drop-static-assets]\n');
    for (const out of [join(tmp.dir, 'link'), `${input}/`, join(tmp.dir, 'link', '..', 'in')]) {
      const r = await runCli(['transform', input, '--out', out, '--with', yaml]);
      expect(expectOneLineError(r, 'OUTPUT_UNWRITABLE')).toContain('the output store must not be the input store');
    }
    let n = 0;
    for await (const _ of readExchanges(input)) n++;
    expect(n).toBe(60);
  });

  it('--with naming a directory is a one-line user error, not "this is a bug"', async () => {
    const r = await runCli(['transform', join(tmp.dir, 'nowhere'), '--dry-run', '--with', tmp.dir]);
    expect(r.code).toBe(1);
    expect(expectOneLineError(r, 'INPUT_UNREADABLE')).toBe(`reprise: INPUT_UNREADABLE: ${tmp.dir}: is a directory, not a transforms file`);
  });
});
