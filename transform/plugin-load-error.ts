import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Why a plugin module could not be loaded, as the one line a user error is:
 * `tag.mjs:3:14: cannot be loaded: SyntaxError: Unexpected token ';'`.
 *
 * Where the place comes from depends on how loading failed:
 * - esbuild (a `.ts` plugin through tsx) writes `file:line:col: ERROR: …` into its message;
 * - V8 heads a CommonJS syntax error, and an ES module's missing named import, with
 *   `file:line`, the source line and a `^` under the column;
 * - an error thrown while the module runs has the place in its first stack frame;
 * - an ES module syntax error carries no place at all in Node 20 (Node prints it from a
 *   private field), so the module's source is parsed again by `node --check`, which prints
 *   the same heading. This runs only on that failure, once.
 * A place in another file (a module the plugin imports) is named after the message.
 */

interface Place {
  file: string;
  line: number;
  col: number;
}

export function describePluginLoadError(err: unknown, file: string, shown: string): string {
  // Error-like, not `instanceof Error`: a loader in another realm (vitest's) throws plain objects.
  const e = err !== null && typeof err === 'object' && typeof (err as Error).message === 'string' ? (err as Error) : null;
  let what = e ? e.message : String(err);
  let place: Place | null = null;
  const esbuild = /^Transform failed with 1 error:\s*(\S+?):(\d+):(\d+): ERROR: /.exec(what);
  if (esbuild) {
    // esbuild counts columns from 0; editors and V8 from 1.
    place = { file: esbuild[1]!, line: Number(esbuild[2]), col: Number(esbuild[3]) + 1 };
    what = what.slice(esbuild[0].length);
  } else if (e) {
    if (typeof e.name === 'string' && e.name !== 'Error') what = `${e.name}: ${what}`;
    const stack = typeof e.stack === 'string' ? e.stack : '';
    place = arrowPlace(stack) ?? framePlace(stack, e.message, file) ?? (e.name === 'SyntaxError' ? checkModuleSyntax(file) : null);
  }
  const line = what.replace(/\s*\n\s*/g, ' ');
  if (place && place.file === file) return `${shown}:${place.line}:${place.col}: cannot be loaded: ${line}`;
  return `${shown}: cannot be loaded: ${line}${place ? ` (at ${place.file}:${place.line}:${place.col})` : ''}`;
}

/** V8's heading: `file:line`, the source line, then spaces and `^` under the column. */
function arrowPlace(text: string, file?: string): Place | null {
  const m = /^(.+):(\d+)\n(.*)\n([ \t]*)\^/.exec(text);
  if (!m) return null;
  return { file: file ?? pathOf(m[1]!), line: Number(m[2]), col: m[4]!.length + 1 };
}

/**
 * The plugin's own frame (else the first frame in a file of the user's) among those above the
 * module loader's: frames below `node:internal/modules` are the importer's, reprise's own code.
 */
function framePlace(stack: string, message: string, file: string): Place | null {
  let first: Place | null = null;
  for (const line of stack.slice(stack.indexOf(message) + message.length).split('\n')) {
    if (line.includes('(node:internal/modules/') || line.includes(' at node:internal/modules/')) break;
    const m = /^\s+at (?:.*\()?((?:file:\/\/|\/|[A-Za-z]:\\)[^()]*?):(\d+):(\d+)\)?$/.exec(line);
    if (!m) continue;
    const place = { file: pathOf(m[1]!), line: Number(m[2]), col: Number(m[3]) };
    if (place.file === file) return place;
    // A dependency's own line is rarely what the user edits (or it is a loader's, such as vite's).
    if (!place.file.includes('/node_modules/') && !place.file.includes('\\node_modules\\')) first ??= place;
  }
  return first;
}

function checkModuleSyntax(file: string): Place | null {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  // NODE_OPTIONS cleared: a parent's --import hooks (tsx) are not needed to parse, and would slow it.
  const r = spawnSync(process.execPath, ['--check', '--input-type=module'], { input: source, encoding: 'utf8', timeout: 10_000, env: { ...process.env, NODE_OPTIONS: '' } });
  return typeof r.stderr === 'string' ? arrowPlace(r.stderr, file) : null;
}

/** A frame's file as a path: file URLs decoded, tsx's `?tsx-namespace=…` suffix dropped. */
function pathOf(where: string): string {
  const bare = where.replace(/\?[^/\\]*$/, '');
  if (!bare.startsWith('file://')) return bare;
  try {
    return fileURLToPath(bare);
  } catch {
    return bare;
  }
}
