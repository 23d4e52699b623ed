import { existsSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeDirs } from '../../store/make-dirs.js';
import { makeTempDir } from '../support/temp-dir.js';

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => { tmp = await makeTempDir(); });
afterEach(async () => { await tmp.cleanup(); });

describe('makeDirs', () => {
  it('creates the missing parents and returns the first one it created, undefined when all were there', async () => {
    const deep = join(tmp.dir, 'a', 'b', 'c');
    expect(await makeDirs(deep)).toBe(join(tmp.dir, 'a'));
    expect((await stat(deep)).isDirectory()).toBe(true);
    expect(await makeDirs(deep)).toBeUndefined();
    expect(await makeDirs(join(tmp.dir, 'a', 'd'), 0o700)).toBe(join(tmp.dir, 'a', 'd'));
    expect((await stat(join(tmp.dir, 'a', 'd'))).mode & 0o777).toBe(0o700);
  });

  it('fails on a file in the way, and where mkdir itself says ENOENT (Node\'s recursive mkdir never settles there)', async () => {
    await writeFile(join(tmp.dir, 'file'), 'x');
    await expect(makeDirs(join(tmp.dir, 'file', 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    if (existsSync('/proc/self')) await expect(makeDirs('/proc/reprise-no-such/x')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('two at once both succeed', async () => {
    const dir = join(tmp.dir, 'x', 'y');
    await Promise.all([makeDirs(dir), makeDirs(dir), makeDirs(join(dir, 'z'))]);
    expect((await stat(join(dir, 'z'))).isDirectory()).toBe(true);
  });
});
