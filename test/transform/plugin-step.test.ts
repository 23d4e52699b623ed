import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileSteps, ex, headerOf, runSteps } from './transform-helpers.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reprise-plugins-'));
  await writeFile(join(dir, 'async.mjs'), 'export default async (ex, o) => (ex.request.method === o.drop ? null : { ...ex, meta: { ...ex.meta, seen: true } });\n');
  await writeFile(join(dir, 'throws.mjs'), "export default () => { throw new Error('boom'); };\n");
  await writeFile(join(dir, 'bad-return.mjs'), 'export default () => 42;\n');
  await writeFile(join(dir, 'no-default.mjs'), 'export const transform = () => null;\n');
  await writeFile(join(dir, 'syntax.mjs'), 'export default (;\n');
});

describe('plugin step', () => {
  it('loads a TypeScript plugin object by path (setup, options, drop)', async () => {
    const out = await runSteps([{ type: 'plugin', path: 'tag-plugin.ts', options: { tenant: 'acme' } }], [ex({ path: '/a' }), ex({ path: '/internal/x' })], undefined, fixtures);
    expect(out.length).toBe(1);
    expect(headerOf(out[0]!, 'x-tenant')).toBe('tenant-acme');
  });

  it('loads an async function plugin', async () => {
    const out = await runSteps([{ type: 'plugin', path: 'async.mjs', options: { drop: 'POST' } }], [ex({}), ex({ method: 'POST' })], undefined, dir);
    expect(out.map((x) => x.meta?.seen)).toEqual([true]);
  });

  it('every failure names the plugin file and the step', async () => {
    const run = (path: string): Promise<unknown> => runSteps([{ type: 'plugin', path }], [ex({})], undefined, dir);
    await expect(run('throws.mjs')).rejects.toMatchObject({ code: 'TRANSFORM_PLUGIN', message: expect.stringMatching(/^step 1 \(plugin throws\.mjs\) failed on exchange .*: throws\.mjs threw: boom$/) });
    await expect(run('bad-return.mjs')).rejects.toMatchObject({ code: 'TRANSFORM_PLUGIN', message: expect.stringContaining('bad-return.mjs returned number, not an exchange or null') });
    await expect(run('no-default.mjs')).rejects.toMatchObject({ code: 'TRANSFORM_PLUGIN', message: expect.stringContaining('no-default.mjs: the default export must be a function') });
    await expect(run('syntax.mjs')).rejects.toMatchObject({ code: 'TRANSFORM_PLUGIN', message: expect.stringMatching(/step 1 \(plugin syntax\.mjs\) could not start: syntax\.mjs: cannot be loaded/) });
    await expect(compileSteps([{ type: 'plugin', path: 'missing.mjs' }], {}, dir)).rejects.toMatchObject({ code: 'TRANSFORM_INVALID', message: expect.stringContaining('steps[0].path: file "missing.mjs" does not exist') });
  });
});
