import { didYouMean } from './did-you-mean.js';

/**
 * A small declarative schema for configuration written by people: each
 * problem is collected with the path of the value it is about, so the loader
 * can point at `file:line:col` and report every problem at once.
 */

export type ConfigPath = Array<string | number>;

export interface ConfigProblem {
  path: ConfigPath;
  message: string;
  /** Point at the key rather than its value (unknown keys). */
  atKey?: boolean;
}

export interface ProblemSink {
  add(path: ConfigPath, message: string, atKey?: boolean): void;
  /** Set by the loader: does a path (relative to the configuration file) exist? */
  fileExists?: (path: string) => boolean;
}

/** A check on a value that passed its type test: returns a problem message, or null. */
export type ValueCheck<T> = (value: T) => string | null;

export type FieldSpec =
  /** `file`: a path that must exist, relative to the configuration file. */
  | { kind: 'string'; enum?: readonly string[]; check?: ValueCheck<string>; nonEmpty?: boolean; file?: boolean }
  | { kind: 'number'; min?: number; max?: number; integer?: boolean }
  | { kind: 'boolean' }
  | { kind: 'list'; of: FieldSpec; nonEmpty?: boolean; max?: number }
  | { kind: 'object'; fields: Record<string, FieldSpec>; required?: readonly string[]; exactlyOne?: readonly string[]; aliases?: Record<string, string> }
  /** Any JSON-like value (plugin options), depth-limited. */
  | { kind: 'any' }
  /** Chosen by the value's JSON type: string, number, boolean, list, object. */
  | { kind: 'union'; variants: FieldSpec[]; expected: string };

const MAX_LIST = 10_000;
const MAX_ANY_DEPTH = 64;

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return typeof v;
}

function matchesShape(spec: FieldSpec, v: unknown): boolean {
  switch (spec.kind) {
    case 'string': return typeof v === 'string';
    case 'number': return typeof v === 'number';
    case 'boolean': return typeof v === 'boolean';
    case 'list': return Array.isArray(v);
    case 'object': return v !== null && typeof v === 'object' && !Array.isArray(v);
    case 'any': return true;
    case 'union': return spec.variants.some((s) => matchesShape(s, v));
  }
}

/** Validate `value` against `spec`, adding every problem to `problems`. */
export function checkValue(spec: FieldSpec, value: unknown, path: ConfigPath, problems: ProblemSink): void {
  switch (spec.kind) {
    case 'string': {
      if (typeof value !== 'string') return problems.add(path, `must be a string, got ${typeName(value)}`);
      if (spec.nonEmpty && value.trim() === '') return problems.add(path, 'must not be empty');
      if (spec.enum && !spec.enum.includes(value)) {
        const hint = didYouMean(value, spec.enum);
        return problems.add(path, `must be one of ${spec.enum.join(', ')}; got "${clip(value)}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
      }
      const msg = spec.check?.(value);
      if (msg) problems.add(path, msg);
      else if (spec.file && problems.fileExists && !problems.fileExists(value)) problems.add(path, `file "${clip(value)}" does not exist`);
      return;
    }
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return problems.add(path, `must be a number, got ${typeName(value)}`);
      if (spec.integer && !Number.isInteger(value)) return problems.add(path, 'must be a whole number');
      if (spec.min !== undefined && value < spec.min) return problems.add(path, `must be ≥ ${spec.min}`);
      if (spec.max !== undefined && value > spec.max) return problems.add(path, `must be ≤ ${spec.max}`);
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') problems.add(path, `must be true or false, got ${typeName(value)}`);
      return;
    case 'list': {
      if (!Array.isArray(value)) return problems.add(path, `must be a list, got ${typeName(value)}`);
      if (spec.nonEmpty && value.length === 0) return problems.add(path, 'must not be empty');
      const max = spec.max ?? MAX_LIST;
      if (value.length > max) return problems.add(path, `has ${value.length} entries; at most ${max} are allowed`);
      value.forEach((item, i) => checkValue(spec.of, item, [...path, i], problems));
      return;
    }
    case 'object':
      return checkObject(spec, value, path, problems);
    case 'any':
      if (depthOf(value, 0) > MAX_ANY_DEPTH) problems.add(path, `is nested deeper than ${MAX_ANY_DEPTH} levels`);
      return;
    case 'union': {
      const variant = spec.variants.find((s) => matchesShape(s, value));
      if (!variant) return problems.add(path, `must be ${spec.expected}, got ${typeName(value)}`);
      return checkValue(variant, value, path, problems);
    }
  }
}

export function checkObject(spec: Extract<FieldSpec, { kind: 'object' }>, value: unknown, path: ConfigPath, problems: ProblemSink): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return problems.add(path, `must be a mapping, got ${typeName(value)}`);
  const obj = value as Record<string, unknown>;
  const known = Object.keys(spec.fields);
  for (const [key, v] of Object.entries(obj)) {
    const field = spec.fields[key];
    if (field) {
      checkValue(field, v, [...path, key], problems);
      continue;
    }
    const renamed = spec.aliases?.[key];
    const hint = renamed ?? didYouMean(key, known);
    problems.add([...path, key], `unknown key "${clip(key)}"${hint ? ` (did you mean "${hint}"?)` : `; known keys: ${known.join(', ')}`}`, true);
  }
  for (const key of spec.required ?? []) {
    if (obj[key] === undefined) problems.add(path, `is missing "${key}"`);
  }
  if (spec.exactlyOne) {
    const given = spec.exactlyOne.filter((k) => obj[k] !== undefined);
    if (given.length !== 1) {
      problems.add(path, given.length === 0
        ? `needs one of ${spec.exactlyOne.join(', ')}`
        : `takes only one of ${spec.exactlyOne.join(', ')}; got ${given.join(' and ')}`);
    }
  }
}

/** Nesting depth, iteratively bounded: stops counting past the limit. */
function depthOf(v: unknown, d: number): number {
  if (d > MAX_ANY_DEPTH || v === null || typeof v !== 'object') return d;
  let max = d;
  for (const child of Object.values(v as object)) {
    max = Math.max(max, depthOf(child, d + 1));
    if (max > MAX_ANY_DEPTH) break;
  }
  return max;
}

/** A user's string shown in a message, cut so a 1 MB value does not become a 1 MB error. */
export function clip(s: string, max = 60): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length} chars)`;
}

export function formatConfigPath(path: ConfigPath): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${JSON.stringify(clip(p, 40))}]`;
  }
  return out;
}

// Reusable field specs.
export const stringList = (check?: ValueCheck<string>): FieldSpec => ({ kind: 'list', of: { kind: 'string', nonEmpty: true, ...(check ? { check } : {}) }, nonEmpty: true });

export const regexCheck: ValueCheck<string> = (s) => {
  try {
    new RegExp(s);
    return null;
  } catch (err) {
    return `is not a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`;
  }
};

/** `500ms`, `10s`, `2m`, `1h`, `7d`, or a number of milliseconds. */
export function parseDuration(v: string | number): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(v);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  return n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const)[unit as 'ms'];
}

export const durationSpec: FieldSpec = {
  kind: 'union',
  expected: 'a duration like 500ms, 10s, 2m, or a number of milliseconds',
  variants: [
    { kind: 'number', min: 0 },
    { kind: 'string', check: (s) => (parseDuration(s) === null ? `is not a duration (use 500ms, 10s, 2m, 1h, 7d)` : null) },
  ],
};
