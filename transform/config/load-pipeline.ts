import { existsSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { RepriseError } from '../../errors.js';
import type { StepDefinition } from '../step-definitions.js';
import { explainStep, stepKind, STEP_TYPES } from '../step-registry.js';
import { didYouMean } from './did-you-mean.js';
import { parseYamlDocument, yamlLocator } from './yaml-document.js';
import { yamlErrorText } from './yaml-error-text.js';
import { checkObject, clip, formatConfigPath, typeName, type ConfigPath, type ConfigProblem, type FieldSpec, type ProblemSink } from './field-spec.js';

/**
 * transforms.yaml → a validated, frozen PipelineDefinition. Nothing runs
 * before the whole file is checked: syntax, unknown keys (with "did you
 * mean"), wrong types, bad regexes, globs and JSON paths, files that do not
 * exist. Every problem is reported at once as `file:line:col path: message`.
 * Hostile input is bounded: the file size, YAML aliases (a "billion laughs"
 * bomb stops at the alias count) and nesting (the parser's own guard).
 */

export interface PipelineDefinition {
  readonly steps: readonly StepDefinition[];
  /** Where relative paths in the steps (plugins, key files) are resolved. */
  readonly baseDir: string;
  /** The file the definition came from, for messages. */
  readonly source?: string;
  /** Every step in words, one per line. */
  explain(): string;
}

export class TransformConfigError extends RepriseError {
  readonly problems: readonly string[];
  constructor(source: string, problems: string[]) {
    const head = `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${source}`;
    super('TRANSFORM_INVALID', `${head}:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

const MAX_FILE_BYTES = 1 << 20; // a pipeline is a page of YAML; a megabyte is not a pipeline
const MAX_ALIASES = 100;

const TOP: Extract<FieldSpec, { kind: 'object' }> = {
  kind: 'object',
  required: ['steps'],
  fields: { version: { kind: 'number', integer: true, min: 1, max: 1 }, steps: { kind: 'any' } },
};

/**
 * Load and validate a pipeline from a YAML file, or from YAML text
 * (`{ yaml, name, baseDir }`; a string with a line break is taken as text too).
 *
 * @example
 * const def = await loadTransformPipeline('transforms.yaml');
 * console.log(def.explain());
 */
export async function loadTransformPipeline(source: string | { yaml: string; name?: string; baseDir?: string }): Promise<PipelineDefinition> {
  if (typeof source === 'string' && !source.includes('\n')) {
    const file = source;
    const unreadable = (err: unknown): RepriseError => {
      const code = (err as NodeJS.ErrnoException).code;
      return new RepriseError(code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE', `transforms file cannot be read (${code ?? (err as Error).message})`, { cause: err, location: { file } });
    };
    let st: Stats;
    try {
      st = await stat(file);
    } catch (err) {
      throw unreadable(err);
    }
    // stat succeeds on a directory and reading it fails (EISDIR): the user's mistake, said as such, not a bug.
    if (st.isDirectory()) throw new RepriseError('INPUT_UNREADABLE', 'is a directory, not a transforms file', { location: { file } });
    const size = st.size;
    if (size > MAX_FILE_BYTES) throw new RepriseError('TRANSFORM_INVALID', `transforms file is ${size} bytes; at most ${MAX_FILE_BYTES} are read`, { location: { file } });
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw unreadable(err);
    }
    return parsePipelineYaml(text, file, dirname(resolve(file)));
  }
  const t = typeof source === 'string' ? { yaml: source } : source;
  return parsePipelineYaml(t.yaml, t.name ?? '<inline>', t.baseDir ?? process.cwd());
}

/** Parse and validate YAML text; `name` is used in messages, `baseDir` for relative paths. */
export function parsePipelineYaml(text: string, name: string, baseDir: string): PipelineDefinition {
  if (text.length > MAX_FILE_BYTES) throw new RepriseError('TRANSFORM_INVALID', `${name}: ${text.length} characters; at most ${MAX_FILE_BYTES} are read`);
  const { doc, lineCounter: lc } = parseYamlDocument(text);
  const at = (offset: number): string => {
    const { line, col } = lc.linePos(offset);
    return `${name}:${line}:${col}`;
  };
  // One problem per line: the parser's later errors on a line are mostly the first one's echoes.
  const seenLines = new Set<number>();
  const syntax = [...doc.errors, ...doc.warnings]
    .filter((e) => !seenLines.has(lc.linePos(e.pos[0]).line) && seenLines.add(lc.linePos(e.pos[0]).line))
    .map((e) => `${at(e.pos[0])} ${yamlErrorText(e, text)}`);
  if (syntax.length > 0) throw new TransformConfigError(name, syntax);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    const why = err instanceof RangeError ? 'is nested too deeply' : `uses too many aliases (more than ${MAX_ALIASES} expansions: refused as a resource-exhaustion guard)`;
    throw new TransformConfigError(name, [`${name}: the document ${why}`]);
  }
  const locate = yamlLocator(doc, lc, name);
  // A transforms file has one shape, a mapping with `steps:`. A bare list is refused rather than taken as
  // the steps (which validatePipeline, and so a scenario's `transform:`, allows): read as steps, a list
  // that is something else gets its items reported as `[0]: must be a mapping…`, which hides the fix.
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const hint = Array.isArray(value) ? ' (a list of steps goes under "steps:")' : '';
    throw new TransformConfigError(name, [`${locate([], false)} (document): must be a mapping with "steps:", got ${doc.contents === null ? 'an empty file' : typeName(value)}${hint}`]);
  }
  return validatePipeline(value, { baseDir, source: name, locate, refuseEmpty: true });
}

export interface ValidateOptions {
  baseDir?: string;
  source?: string;
  /** `file:line:col` of a path (from the YAML document), for messages. */
  locate?: (path: ConfigPath, atKey: boolean) => string | undefined;
  /** Where the pipeline sits in a larger document (a scenario's `transform`): prefixes every path. */
  pathPrefix?: ConfigPath;
  /**
   * Refuse a pipeline with no steps. Written in a file, `steps: []` is a
   * mistake (the run would copy the traffic unchanged and say nothing); code
   * may build one on purpose, such as a benchmark's "no steps" baseline.
   */
  refuseEmpty?: boolean;
}

/**
 * Validate an already-parsed pipeline (`{ steps: [...] }`, or just the step
 * list) and freeze it. Scenario files call this with their own locator.
 *
 * @example
 * const def = validatePipeline({ steps: [{ type: 'filter', presets: ['drop-health-checks'] }] });
 */
export function validatePipeline(input: unknown, options: ValidateOptions = {}): PipelineDefinition {
  let value: unknown;
  try {
    value = structuredClone(input); // the definition is the caller's data; the frozen result is our own copy
  } catch (err) {
    throw new RepriseError('TRANSFORM_INVALID', `the pipeline must be plain data (${(err as Error).message})`, { cause: err });
  }
  const prefix = options.pathPrefix ?? [];
  const problems: ConfigProblem[] = [];
  const baseDir = options.baseDir ?? process.cwd();
  const sink = (base: ConfigPath): ProblemSink => ({
    add: (path, message, atKey) => void problems.push({ path: [...prefix, ...base, ...path], message, ...(atKey && { atKey }) }),
    fileExists: (p) => existsSync(isAbsolute(p) ? p : resolve(baseDir, p)),
  });
  const root = Array.isArray(value) ? { steps: value } : value;
  const stepsPath: ConfigPath = Array.isArray(value) ? [] : ['steps'];
  checkObject(TOP, root, [], Array.isArray(value) ? { add: () => {} } : sink([]));
  const steps = (root as { steps?: unknown } | null)?.steps;
  if (root !== null && typeof root === 'object' && steps !== undefined) {
    if (!Array.isArray(steps)) sink(stepsPath).add([], `must be a list of steps, got ${typeName(steps)}`);
    else if (steps.length === 0 && options.refuseEmpty) sink(stepsPath).add([], 'is empty: the run would copy the traffic unchanged (list at least one step)');
    else steps.forEach((step, i) => checkStep(step, sink([...stepsPath, i])));
  }
  if (problems.length > 0) {
    const lines = problems.map((p) => {
      const where = options.locate?.(p.path, p.atKey ?? false);
      const path = formatConfigPath(p.path) || '(document)';
      return `${where ? `${where} ` : ''}${path}: ${p.message}`;
    });
    throw new TransformConfigError(options.source ?? 'the pipeline', lines);
  }
  const list = steps as StepDefinition[];
  for (const step of list) Object.defineProperty(step, 'explain', { value: () => explainStep(step), enumerable: false });
  const def: PipelineDefinition = {
    steps: list,
    baseDir,
    ...(options.source !== undefined && { source: options.source }),
    explain: () => list.map((s, i) => `${i + 1}. ${explainStep(s)}`).join('\n'),
  };
  return deepFreeze(def);
}

function checkStep(step: unknown, problems: ProblemSink): void {
  if (step === null || typeof step !== 'object' || Array.isArray(step)) return problems.add([], `must be a mapping with a type, got ${typeName(step)}`);
  const type = (step as { type?: unknown }).type;
  if (type === undefined) return problems.add([], `is missing "type" (one of ${STEP_TYPES.join(', ')})`);
  if (typeof type !== 'string') return problems.add(['type'], `must be a string, got ${typeName(type)}`);
  const kind = stepKind(type);
  if (!kind) {
    const hint = didYouMean(type, STEP_TYPES);
    return problems.add(['type'], `unknown step type "${clip(type)}"${hint ? ` (did you mean "${hint}"?)` : `; types: ${STEP_TYPES.join(', ')}`}`);
  }
  let count = 0;
  const counting: ProblemSink = { ...problems, add: (p, m, k) => (count++, problems.add(p, m, k)) };
  checkObject({ kind: 'object', fields: { type: { kind: 'string' }, name: { kind: 'string', nonEmpty: true }, ...kind.fields } }, step, [], counting);
  // Cross-field checks only on a step whose fields are each fine: one problem, not a cascade.
  if (count === 0) kind.check?.(step as StepDefinition, problems);
}

function deepFreeze<T>(root: T): T {
  const stack: unknown[] = [root];
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    Object.freeze(v);
    for (const child of Object.values(v as object)) stack.push(child);
  }
  return root;
}
