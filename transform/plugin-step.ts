import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RepriseError } from '../errors.js';
import type { Exchange } from '../store/exchange.js';
import { describePluginLoadError } from './plugin-load-error.js';
import type { PluginStep } from './step-definitions.js';
import type { StepKind, StepResult } from './step-types.js';

/**
 * `plugin`: a step written by the user, loaded by path. The module's default
 * export is either a function `(exchange, options) => exchange | null` (or a
 * promise of one) or an object `{ name?, setup?(options), transform(exchange, options) }`.
 * `.ts` plugins load through tsx (a dependency of reprise), so they work from
 * the CLI and from plain Node alike. Every failure names the plugin file (a load
 * failure also its line:col, in one line: plugin-load-error.ts).
 */

export interface TransformPlugin {
  name?: string;
  /** Called once before the first exchange. */
  setup?(options: Readonly<Record<string, unknown>>): void | Promise<void>;
  transform(ex: Exchange, options: Readonly<Record<string, unknown>>): StepResult;
}

export type TransformPluginFunction = (ex: Exchange, options: Readonly<Record<string, unknown>>) => StepResult;

export const pluginStepKind: StepKind<PluginStep> = {
  type: 'plugin',
  summary: 'Run a step from a .js/.ts module of your own (default export: a function or { transform }).',
  fields: {
    path: { kind: 'string', nonEmpty: true, file: true, check: (s) => (/\.(m?js|cjs|m?ts|cts)$/.test(s) ? null : 'must be a .js, .mjs, .cjs, .ts or .mts module') },
    options: { kind: 'any' },
  },
  check(def, problems) {
    if (def.path === undefined) problems.add([], 'is missing "path"');
    if (def.options !== undefined && (def.options === null || typeof def.options !== 'object' || Array.isArray(def.options))) problems.add(['options'], 'must be a mapping');
  },
  explain(def) {
    return `plugin ${def.path}`;
  },
  async prepare(def, ctx) {
    const file = isAbsolute(def.path) ? def.path : resolve(ctx.baseDir, def.path);
    const plugin = await loadPlugin(file, def.path);
    const options = def.options ?? {};
    if (plugin.setup) {
      try {
        await plugin.setup(options);
      } catch (err) {
        throw new RepriseError('TRANSFORM_PLUGIN', `${def.path}: setup failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
      }
    }
    const check = (r: Exchange | null): Exchange | null => {
      if (r === null || (typeof r === 'object' && typeof r.request?.method === 'string')) return r;
      throw new RepriseError('TRANSFORM_PLUGIN', `${def.path} returned ${r === undefined ? 'undefined' : typeof r}, not an exchange or null (return null to drop)`);
    };
    const fail = (err: unknown): never => {
      if (err instanceof RepriseError && err.code === 'TRANSFORM_PLUGIN') throw err;
      throw new RepriseError('TRANSFORM_PLUGIN', `${def.path} threw: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    };
    const run = {
      apply(ex: Exchange): StepResult {
        let r: StepResult;
        try {
          r = plugin.transform(ex, options);
        } catch (err) {
          return fail(err);
        }
        if (r instanceof Promise) return r.then(check, fail);
        return check(r);
      },
    };
    return { start: () => run };
  },
};

async function loadPlugin(file: string, shown: string): Promise<TransformPlugin> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    // Plain Node does not know .ts (ERR_UNKNOWN_FILE_EXTENSION); under the CLI's registered tsx a .ts
    // file outside a "type": "module" package is taken for CommonJS and fails (ERR_REQUIRE_CYCLE_MODULE).
    // tsx loads either (importTypeScript); when it fails too, its error is the one that says what is wrong.
    if (/\.[mc]?ts$/.test(file)) mod = await importTypeScript(file, shown);
    else throw new RepriseError('TRANSFORM_PLUGIN', describePluginLoadError(err, file, shown), { cause: err });
  }
  const d = interopDefault(mod.default);
  if (typeof d === 'function') return { transform: d as TransformPluginFunction };
  if (d !== null && typeof d === 'object' && typeof (d as TransformPlugin).transform === 'function') {
    const p = d as TransformPlugin;
    return { ...(p.name !== undefined && { name: p.name }), ...(p.setup && { setup: p.setup.bind(p) }), transform: p.transform.bind(p) };
  }
  throw new RepriseError('TRANSFORM_PLUGIN', `${shown}: the default export must be a function (exchange, options) => exchange | null, or an object with transform(); got ${d === undefined ? 'no default export' : typeof d}`);
}

async function importTypeScript(file: string, shown: string): Promise<{ default?: unknown }> {
  try {
    // A CommonJS one goes through tsx's require: tsImport would run it from a data: URL, and an error
    // thrown while it loads would have neither the file's name nor its lines in the stack. Required,
    // its frames name the .ts file at its own lines (tsx compiles with a source map and turns them on).
    if (isCommonJs(file)) {
      const { require } = await import('tsx/cjs/api');
      return { default: require(file, import.meta.url) as unknown };
    }
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
  } catch (err) {
    throw new RepriseError('TRANSFORM_PLUGIN', describePluginLoadError(err, file, shown), { cause: err });
  }
}

/** Node's rule: `.cts`, or `.ts` whose nearest package.json does not say "type": "module". */
function isCommonJs(file: string): boolean {
  if (/\.[mc]ts$/.test(file)) return file.endsWith('.cts');
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: unknown }).type !== 'module';
      } catch {
        return false; // unreadable: tsImport's error says what is wrong with it
      }
    }
    if (dirname(dir) === dir) return true;
  }
}

/**
 * A TypeScript plugin compiled as CommonJS (outside a "type": "module" package) arrives as
 * `{ default: module.exports }`, its own default export one level down.
 */
function interopDefault(d: unknown): unknown {
  if (d === null || typeof d !== 'object' || typeof (d as TransformPlugin).transform === 'function') return d;
  return (d as { __esModule?: unknown }).__esModule === true ? (d as { default?: unknown }).default : d;
}
