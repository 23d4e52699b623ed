import { RepriseError } from '../../errors.js';
import { didYouMean } from '../../transform/config/did-you-mean.js';
import { typeName } from '../../transform/config/field-spec.js';
import { canonicalPathKeys } from '../../transform/json/json-path.js';
import type { ArrayMode } from './diff-rules.js';
import { concreteElementProblem, jsonRuleSteps, suggestionFor, type Step } from './ignore-rules.js';
import { templatePath } from './json-compare.js';

/**
 * Array rules (`--array '$.users=key:id'`, a rules file's or a scenario's
 * `arrays:`): checked where they are written, like ignore rules and with
 * their grammar (ignore-rules.ts). A rule is looked up by the array's field
 * template, exactly — `$.items[*].tags`, as findings are named — so a path
 * copied from an example (`$.items[3].tags`), a glob or a path that is not
 * JSON would never apply and the arrays would silently pair by index; such a
 * rule is refused naming the path to write instead.
 */

const MODES = 'index, multiset or key:<field>';
const ARRAY_FIELDS = 'an array rule is $ or a JSON path below it, as the report names fields: $.items, $.users[*].roles';

/**
 * Why an array rule's path can never name an array the comparison walks, with the path to write
 * instead where one is clear; null when it is an array field as the report names it.
 *
 * @example
 * checkArrayRulePath('$.items[3].tags') // '"$.items[3].tags" names one array element; an array rule applies per field, every element as [*]: use "$.items[*].tags"'
 * checkArrayRulePath('$.users[*].roles') // null
 */
export function checkArrayRulePath(path: string): string | null {
  if (isArrayField(path)) return null;
  if (isArrayField(templatePath(canonicalPathKeys(path)))) {
    const concrete = concreteElementProblem(path, 'an array rule applies per field');
    if (concrete !== null) return concrete;
  }
  // `$.tags[]` (jq's "each element") names the array itself here.
  const hint = suggestionFor(path.replace(/\[\s*\]$/, ''));
  if (jsonRuleSteps(path)?.some(isGlobStep) || (hint !== undefined && jsonRuleSteps(hint)?.some(isGlobStep))) {
    // `$.**.tags`, `$.tag*`, JSONPath's `$..tags`: rules are looked up by one field, not matched as globs.
    return `"${path}" is a glob; an array rule names one array field exactly (no ** or .., no * inside a key), as the report does: $.items[*].tags`;
  }
  return hint !== undefined && isArrayField(hint)
    ? `"${path}" can never match an array; did you mean "${hint}"?`
    : `"${path}" can never match an array (${ARRAY_FIELDS})`;
}

/**
 * An array field as json-compare looks it up: `$`, plain or quoted keys, `[*]` for every element
 * and `.*` for every id-like key — a template already, with no glob in it.
 */
function isArrayField(path: string): boolean {
  const steps = jsonRuleSteps(path);
  if (!steps || steps.some(isGlobStep)) return false;
  const canonical = canonicalPathKeys(path);
  return templatePath(canonical) === canonical;
}

/** `**` or a `*` inside a key: globs an ignore rule takes; an array rule is looked up exactly. (`.*` alone is how the report writes an id-like key.) */
function isGlobStep(step: Step): boolean {
  return 'dot' in step && step.dot !== '*' && step.dot.includes('*');
}

export type ArrayStrategy = { ok: true; mode: ArrayMode } | { ok: false; problem: string };

/** Words people reach for, mapped to the mode that does it. */
const MODE_SYNONYMS: Record<string, string> = { set: 'multiset', bag: 'multiset', unordered: 'multiset', ordered: 'index', position: 'index' };

/**
 * How an array's elements are paired, from its written form: `index`, `multiset` or
 * `key:<field>` (the field that identifies an element, `key:id`, `key:@id`). A value of another
 * shape is a problem that says what was given, with a did-you-mean where one is clear.
 *
 * @example
 * parseArrayStrategy('key:id') // { ok: true, mode: { mode: 'key', key: 'id' } }
 * parseArrayStrategy('Multiset') // { ok: false, problem: 'must be index, multiset or key:<field>, got "Multiset"; did you mean "multiset"?' }
 */
export function parseArrayStrategy(value: unknown): ArrayStrategy {
  if (typeof value !== 'string') return { ok: false, problem: `must be ${MODES}, got ${value === null || value === undefined ? 'nothing' : typeName(value)}` };
  const text = value.trim();
  if (text === 'index' || text === 'multiset') return { ok: true, mode: { mode: text } };
  const key = /^key:(.*)$/s.exec(text);
  if (key) {
    const field = key[1]!.trim();
    if (field === '') return { ok: false, problem: `key:<field> needs the field that identifies an element, e.g. key:id` };
    const path = /^\$?\.([A-Za-z_$][\w$-]*)$/.exec(field);
    if (path) return { ok: false, problem: `key:<field> takes the element's field name, not a path: did you mean "key:${path[1]}"?` };
    return { ok: true, mode: { mode: 'key', key: field } };
  }
  const given = `must be ${MODES}, got ${JSON.stringify(value)}`;
  const keyed = /^key(?:ed)?\s*[:=\s-]\s*(\S.*)$/i.exec(text);
  if (keyed) return { ok: false, problem: `${given}; did you mean "key:${keyed[1]}"?` };
  if (/^key(?:ed)?$/i.test(text)) return { ok: false, problem: `${given}: key:<field> needs the field that identifies an element, e.g. key:id` };
  const hint = MODE_SYNONYMS[text.toLowerCase()] ?? didYouMean(text, ['index', 'multiset']);
  return { ok: false, problem: hint !== undefined ? `${given}; did you mean "${hint}"?` : given };
}

/**
 * Parse a CLI array rule, `<$.path>=<mode>`: `$.items=multiset`, `$.users=key:id`, `$.rows=index`.
 * The path ends at the last `=` outside brackets and quotes, so `$.users[id=7].tags` is one path.
 *
 * @example
 * parseArrayRule('$.users=key:id') // ['$.users', { mode: 'key', key: 'id' }]
 */
export function parseArrayRule(text: string): [string, ArrayMode] {
  const eq = lastTopLevelEquals(text);
  if (eq <= 0) throw new RepriseError('DIFF_OPTIONS_INVALID', `--array "${text}": expected <$.path>=index|multiset|key:<field>`);
  const path = text.slice(0, eq).trim();
  const why = checkArrayRulePath(path);
  const strategy = parseArrayStrategy(text.slice(eq + 1));
  if (why !== null || !strategy.ok) {
    const problems = [why, strategy.ok ? null : `the mode ${strategy.problem}`].filter((x) => x !== null);
    throw new RepriseError('DIFF_OPTIONS_INVALID', `--array "${text}": ${problems.join('; ')}`);
  }
  return [path, strategy.mode];
}

function lastTopLevelEquals(text: string): number {
  let at = -1;
  let depth = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (depth > 0 && (c === "'" || c === '"')) quote = c;
    else if (c === '[') depth++;
    else if (c === ']') depth = Math.max(0, depth - 1);
    else if (c === '=' && depth === 0) at = i;
  }
  return at;
}
