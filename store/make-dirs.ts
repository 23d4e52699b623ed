import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p`: creates `path` and its missing parents, and returns the first directory it created
 * (undefined when `path` was already there), as `mkdir(path, { recursive: true })` does.
 *
 * Written out because Node's recursive mkdir never settles where a directory cannot be made although
 * its parent exists (`--out /proc/x` spun forever: mkdir answers ENOENT there, and Node retries the
 * parent); here that is the ENOENT of the one mkdir that failed, for the caller to report.
 *
 * @example
 * const created = await makeDirs('./out/reports'); // './out' absolute, if it did not exist
 */
export async function makeDirs(path: string, mode?: number): Promise<string | undefined> {
  const missing: string[] = [];
  for (let p = resolve(path); ; ) {
    try {
      if ((await stat(p)).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${p}'`), { code: 'ENOTDIR', path: p });
    } catch (err) {
      const parent = dirname(p);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === p) throw err;
      missing.push(p);
      p = parent;
    }
  }
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir, mode === undefined ? {} : { mode });
    } catch (err) {
      // Made meanwhile by someone else (two writers starting at once): as good as made here.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return missing[0];
}
