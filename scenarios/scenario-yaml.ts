import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseYamlDocument } from '../transform/config/yaml-document.js';
import { yamlErrorText } from '../transform/config/yaml-error-text.js';
import { RepriseError } from '../errors.js';
import { yamlLocator } from '../transform/config/yaml-document.js';
import type { ConfigPath } from '../transform/config/field-spec.js';

/**
 * Reading a scenario file: YAML with positions, `include:` of other files
 * (merged under the including file, which wins), and `${env:NAME}` /
 * `${env:NAME:-default}` references filled from the environment. The result
 * is plain data plus a locator that turns a path into `file:line:col` in
 * whichever file the value came from.
 *
 * `${env:…}` is deliberately not `${NAME}`: that form belongs to transformed
 * exchanges and is resolved at replay time (transform/templates).
 */

export interface ScenarioDocument {
  value: Record<string, unknown>;
  locate(path: ConfigPath, atKey: boolean): string | undefined;
  /** Problems found while reading (unset variables), with their place. */
  problems: string[];
}

const MAX_FILE_BYTES = 1 << 20;
const MAX_ALIASES = 100;
const MAX_INCLUDE_DEPTH = 8;
const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

interface LoadedFile {
  value: Record<string, unknown>;
  locate: (path: ConfigPath, atKey: boolean) => string | undefined;
}

export function readScenarioDocument(file: string, env: NodeJS.ProcessEnv = process.env): ScenarioDocument {
  const files: LoadedFile[] = []; // most important last: the scenario itself after its includes
  const problems: string[] = [];
  const merged = loadWithIncludes(resolve(file), [], files, problems);
  const locate = (path: ConfigPath, atKey: boolean): string | undefined => {
    for (let i = files.length - 1; i >= 0; i--) {
      const f = files[i]!;
      if (hasPath(f.value, path)) return f.locate(path, atKey);
    }
    return files[files.length - 1]?.locate([], false);
  };
  const value = interpolate(merged, [], env, (path, msg) => problems.push(`${locate(path, false) ?? file} ${msg}`)) as Record<string, unknown>;
  return { value, locate, problems };
}

function loadWithIncludes(file: string, chain: string[], files: LoadedFile[], problems: string[], includedAt?: string): Record<string, unknown> {
  const own = parseFile(file, includedAt);
  const includes = own.value.include;
  delete own.value.include;
  let base: Record<string, unknown> = {};
  if (includes !== undefined) {
    const list = Array.isArray(includes) ? includes : [includes];
    list.forEach((inc, i) => {
      const where = own.locate(['include', ...(Array.isArray(includes) ? [i] : [])], false) ?? file;
      if (typeof inc !== 'string' || inc.trim() === '') {
        problems.push(`${where} include: must be a file path or a list of them`);
        return;
      }
      const target = resolve(dirname(file), inc);
      if (chain.includes(target) || target === file) throw new RepriseError('SCENARIO_INVALID', `${where} include: "${inc}" includes itself (${[...chain, file, target].join(' → ')})`);
      if (chain.length >= MAX_INCLUDE_DEPTH) throw new RepriseError('SCENARIO_INVALID', `${where} include: more than ${MAX_INCLUDE_DEPTH} levels of includes`);
      base = deepMerge(base, loadWithIncludes(target, [...chain, file], files, problems, `${where} include: "${inc}"`));
    });
  }
  files.push(own);
  return deepMerge(base, own.value);
}

/** `includedAt` (`s.yaml:3:10 include: "common.yaml"`) says where a missing include is named, not only which file is missing. */
function parseFile(file: string, includedAt?: string): LoadedFile {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_FILE_BYTES) throw new RepriseError('SCENARIO_INVALID', `${file}: ${size} bytes; a scenario is at most ${MAX_FILE_BYTES}`);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof RepriseError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code ?? (err as Error).message;
    const errCode = code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE';
    if (includedAt !== undefined) throw new RepriseError(errCode, `${includedAt}: ${file} cannot be read (${why})`, { cause: err });
    throw new RepriseError(errCode, `scenario file cannot be read (${why})`, { cause: err, location: { file } });
  }
  const { doc, lineCounter: lc } = parseYamlDocument(text);
  const first = [...doc.errors, ...doc.warnings][0];
  if (first) {
    const { line, col } = lc.linePos(first.pos[0]);
    throw new RepriseError('SCENARIO_INVALID', `${file}:${line}:${col} ${yamlErrorText(first, text)}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    const why = err instanceof RangeError ? 'is nested too deeply' : `uses more than ${MAX_ALIASES} alias expansions (refused as a resource-exhaustion guard)`;
    throw new RepriseError('SCENARIO_INVALID', `${file}: the document ${why}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RepriseError('SCENARIO_INVALID', `${file}:1:1 a scenario must be a mapping (name:, source:, replay:, …)`);
  }
  return { value: value as Record<string, unknown>, locate: yamlLocator(doc, lc, file) };
}

/** Mappings merge key by key; anything else (lists included) is replaced by the later value. */
function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isMapping(prev) && isMapping(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function hasPath(v: unknown, path: ConfigPath): boolean {
  let node = v;
  for (const p of path) {
    if (node === null || typeof node !== 'object') return false;
    if (!Object.prototype.hasOwnProperty.call(node, p)) return false;
    node = (node as Record<string | number, unknown>)[p];
  }
  return true;
}

function interpolate(v: unknown, path: ConfigPath, env: NodeJS.ProcessEnv, problem: (path: ConfigPath, msg: string) => void, textOnly = false): unknown {
  if (typeof v === 'string') {
    // A value that is one reference alone takes the variable's type, as YAML would:
    // `duration: ${env:SPIKE_S:-60}` is the number 60, `loop: ${env:LOOP:-false}` a boolean.
    const whole = !textOnly && new RegExp(`^${ENV_REF.source}$`).test(v);
    if (whole) {
      const text = interpolate(v, path, env, problem, true) as string;
      if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
      if (text === 'true' || text === 'false') return text === 'true';
      return text;
    }
    return v.replace(ENV_REF, (_m, name: string, fallback: string | undefined) => {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback;
      problem(path, `\${env:${name}}: the environment variable ${name} is not set (give a default with \${env:${name}:-value})`);
      return '';
    });
  }
  if (Array.isArray(v)) return v.map((item, i) => interpolate(item, [...path, i], env, problem));
  if (isMapping(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(v)) out[k] = interpolate(item, [...path, k], env, problem);
    return out;
  }
  return v;
}
