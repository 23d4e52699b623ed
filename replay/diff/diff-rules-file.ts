import { readFile, stat } from 'node:fs/promises';
import { isMap, isScalar, isSeq, type Node as YamlNode } from 'yaml';
import { parseYamlDocument } from '../../transform/config/yaml-document.js';
import { yamlErrorText } from '../../transform/config/yaml-error-text.js';
import { isRepriseError, RepriseError } from '../../errors.js';
import { didYouMean } from '../../transform/config/did-you-mean.js';
import type { NoiseThresholds } from './diff-accumulator.js';
import { parseDiffThresholds } from './diff-thresholds.js';
import type { ArrayMode, DiffRulesInput } from './diff-rules.js';
import { checkArrayRulePath, parseArrayStrategy } from './array-rules.js';
import { checkIgnoreRule } from './ignore-rules.js';

/**
 * `--rules diff.yaml`: comparison rules kept with the service instead of in a
 * long command line. The whole file is checked before anything runs; every
 * problem is reported at once as `file:line:col key: message`, with a
 * "did you mean" for misspelled keys. Flags given on the command line add
 * to (lists) or override (numbers) what the file says.
 *
 *     ignore: ['$.meta', 'header.server']
 *     arrays: { $.items: key:id, $.tags: multiset }
 *     tolerance: { absolute: 0.01, relative: 0.001 }
 *     strictNumbers: false
 *     nullIsMissing: true
 *     headers: { allow: [], deny: [server], volatile: [x-build-id] }
 *     bodyCap: 1048576
 *     noise: { absolute: 0.03, relative: 0.2 }
 *     thresholds: ['no high', 'max_medium=5']
 */

export interface DiffRulesFile {
  rules: DiffRulesInput;
  noise: Partial<NoiseThresholds>;
  thresholds: string[];
}

const MAX_FILE_BYTES = 256 << 10; // rules are a page of YAML
const TOP_KEYS = ['ignore', 'arrays', 'tolerance', 'strictNumbers', 'nullIsMissing', 'headers', 'bodyCap', 'noise', 'thresholds'];

export async function loadDiffRulesFile(file: string): Promise<DiffRulesFile> {
  let text: string;
  try {
    const size = (await stat(file)).size;
    if (size > MAX_FILE_BYTES) throw new RepriseError('DIFF_OPTIONS_INVALID', `rules file is ${size} bytes; at most ${MAX_FILE_BYTES} are read`, { location: { file } });
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof RepriseError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new RepriseError(code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE', `rules file cannot be read (${code ?? (err as Error).message})`, { cause: err, location: { file } });
  }
  return parseDiffRulesYaml(text, file);
}

/**
 * @example
 * parseDiffRulesYaml('ignore: [$.meta]\narrays: { $.tags: multiset }', 'diff.yaml').rules.ignore // ['$.meta']
 */
export function parseDiffRulesYaml(text: string, name: string): DiffRulesFile {
  const { doc, lineCounter: lc } = parseYamlDocument(text);
  const at = (node: YamlNode | null | undefined): string => {
    const offset = node?.range?.[0];
    if (offset === undefined) return name;
    const { line, col } = lc.linePos(offset);
    return `${name}:${line}:${col}`;
  };
  const problems = [...doc.errors, ...doc.warnings].map((e) => {
    const { line, col } = lc.linePos(e.pos[0]);
    return `${name}:${line}:${col} ${yamlErrorText(e, text)}`;
  });
  if (problems.length > 0) throw invalid(name, problems);
  const out: DiffRulesFile = { rules: {}, noise: {}, thresholds: [] };
  const root = doc.contents;
  if (root === null) return out;
  if (!isMap(root)) throw invalid(name, [`${at(root)} the rules file must be a mapping of keys (${TOP_KEYS.join(', ')})`]);
  const p = (node: YamlNode | null | undefined, key: string, msg: string) => problems.push(`${at(node)} ${key}: ${msg}`);

  for (const pair of root.items) {
    const keyNode = pair.key as YamlNode;
    const key = isScalar(keyNode) ? String(keyNode.value) : '?';
    const v = pair.value as YamlNode | null;
    switch (key) {
      case 'ignore':
        out.rules.ignore = stringList(v, key, p);
        checkIgnoreRules(v, p);
        break;
      case 'thresholds':
        out.thresholds = stringList(v, key, p);
        checkThresholds(v, p);
        break;
      case 'strictNumbers':
      case 'nullIsMissing': {
        const b = isScalar(v) ? v.value : undefined;
        if (typeof b !== 'boolean') p(v, key, 'must be true or false');
        else if (key === 'strictNumbers') out.rules.strictNumberText = b;
        else out.rules.nullEqualsMissing = b;
        break;
      }
      case 'bodyCap': {
        const n = isScalar(v) ? v.value : undefined;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) p(v, key, 'must be a positive integer (bytes)');
        else out.rules.bodyCap = n;
        break;
      }
      case 'tolerance':
      case 'noise': {
        // Noise thresholds are fractions of pairs; tolerances are amounts, unbounded.
        const nums = numberMap(v, key, ['absolute', 'relative'], p, key === 'noise' ? 1 : Infinity);
        if (key === 'tolerance') {
          if (nums.absolute !== undefined) out.rules.absoluteTolerance = nums.absolute;
          if (nums.relative !== undefined) out.rules.relativeTolerance = nums.relative;
        } else Object.assign(out.noise, nums);
        break;
      }
      case 'headers': {
        if (!isMap(v)) {
          p(v, key, 'must be a mapping with allow, deny, volatile');
          break;
        }
        for (const hp of v.items) {
          const hk = isScalar(hp.key) ? String(hp.key.value) : '?';
          const list = stringList(hp.value as YamlNode, `headers.${hk}`, p);
          if (hk === 'allow') out.rules.headerAllow = list;
          else if (hk === 'deny') out.rules.headerDeny = list;
          else if (hk === 'volatile') out.rules.volatileHeaders = list;
          else p(hp.key as YamlNode, `headers.${hk}`, `unknown key${hint(hk, ['allow', 'deny', 'volatile'])}`);
        }
        break;
      }
      case 'arrays': {
        if (!isMap(v)) {
          p(v, key, 'must be a mapping of $.path: index | multiset | key:<field>');
          break;
        }
        const arrays: Record<string, ArrayMode> = {};
        for (const ap of v.items) {
          // The path and the mode are both checked, so a file with both wrong lists both.
          const path = isScalar(ap.key) ? String(ap.key.value) : '';
          const why = checkArrayRulePath(path);
          if (why !== null) p(ap.key as YamlNode, 'arrays', why);
          const value = ap.value as YamlNode | null;
          const strategy = parseArrayStrategy(isScalar(value) ? value.value : value?.toJSON());
          if (!strategy.ok) p(value ?? (ap.key as YamlNode), `arrays.${path}`, strategy.problem);
          else if (why === null) arrays[path] = strategy.mode;
        }
        out.rules.arrays = arrays;
        break;
      }
      default:
        p(keyNode, key, `unknown key${hint(key, TOP_KEYS)}`);
    }
  }
  if (problems.length > 0) throw invalid(name, problems);
  return out;
}

type Problem = (node: YamlNode | null | undefined, key: string, msg: string) => void;

function stringList(node: YamlNode | null | undefined, key: string, p: Problem): string[] {
  if (isScalar(node) && typeof node.value === 'string') return [node.value];
  if (!isSeq(node)) {
    p(node, key, 'must be a list of strings');
    return [];
  }
  const out: string[] = [];
  for (const item of node.items) {
    if (isScalar(item) && typeof item.value === 'string' && item.value.trim() !== '') out.push(item.value);
    else p(item as YamlNode, key, 'every entry must be a non-empty string');
  }
  return out;
}

/** Each ignore rule checked now, so one that can never match is a `file:line:col` problem naming it. */
function checkIgnoreRules(node: YamlNode | null | undefined, p: Problem): void {
  const items = isSeq(node) ? node.items : [node];
  items.forEach((item, i) => {
    if (!isScalar(item) || typeof item.value !== 'string' || item.value.trim() === '') return; // stringList reported it
    const why = checkIgnoreRule(item.value);
    if (why !== null) p(item as YamlNode, isSeq(node) ? `ignore[${i}]` : 'ignore', why);
  });
}

/**
 * Each threshold expression parsed now, so a typo is one more `file:line:col`
 * problem in the list instead of a later error that names no place in the file.
 */
function checkThresholds(node: YamlNode | null | undefined, p: Problem): void {
  const items = isSeq(node) ? node.items : [node];
  items.forEach((item, i) => {
    if (!isScalar(item) || typeof item.value !== 'string') return; // stringList reported it
    try {
      parseDiffThresholds(item.value);
    } catch (err) {
      if (!isRepriseError(err)) throw err;
      p(item as YamlNode, isSeq(node) ? `thresholds[${i}]` : 'thresholds', err.message);
    }
  });
}

function numberMap(node: YamlNode | null | undefined, key: string, allowed: string[], p: Problem, max: number): Record<string, number> {
  const out: Record<string, number> = {};
  if (!isMap(node)) {
    p(node, key, `must be a mapping with ${allowed.join(', ')}`);
    return out;
  }
  for (const item of node.items) {
    const k = isScalar(item.key) ? String(item.key.value) : '?';
    const v = isScalar(item.value) ? item.value.value : undefined;
    if (!allowed.includes(k)) p(item.key as YamlNode, `${key}.${k}`, `unknown key${hint(k, allowed)}`);
    else if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max) p(item.value as YamlNode, `${key}.${k}`, max === Infinity ? 'must be a number >= 0' : `must be a number from 0 to ${max}`);
    else out[k] = v;
  }
  return out;
}

function hint(key: string, candidates: string[]): string {
  const d = didYouMean(key, candidates);
  return d ? ` (did you mean "${d}"?)` : ` (expected one of ${candidates.join(', ')})`;
}

function invalid(name: string, problems: string[]): RepriseError {
  return new RepriseError('DIFF_OPTIONS_INVALID', `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${name}: ${problems.join('; ')}`);
}

