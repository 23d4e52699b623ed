import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SKIP = new Set(['node_modules', 'dist', 'test', '.git']);

/** The TypeScript sources of the project (not tests, not dependencies) whose text contains `needle`, relative to the root. */
export async function sourcesContaining(needle: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (SKIP.has(e.name)) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.ts') && (await readFile(p, 'utf8')).includes(needle)) out.push(relative(root, p));
    }
  };
  await walk(root);
  return out.sort();
}
