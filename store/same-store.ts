import { realpath } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';

/**
 * Do two store arguments name the same store? A command that reads one store
 * while writing another (transform's --out, replay's --record-out) must refuse
 * to write into the one it reads: the written records would be mixed into the
 * read ones, or read back in turn. Symlinks, `..` and trailing slashes are
 * seen through; S3 URLs are compared as written.
 *
 * @example
 * await sameStore('./raw', './raw/') // true
 */
export async function sameStore(a: string, b: string): Promise<boolean> {
  return (await storeLocation(a)) === (await storeLocation(b));
}

/** Where a store really is; one that does not exist yet is placed by its parent directory. */
async function storeLocation(store: string): Promise<string> {
  if (/^s3:\/\//i.test(store)) return store.replace(/\/+$/, '');
  const path = resolve(store);
  try {
    return await realpath(path);
  } catch {
    try {
      return resolve(await realpath(dirname(path)), basename(path));
    } catch {
      return path;
    }
  }
}
