import { didYouMean } from '../../transform/config/did-you-mean.js';
import { canonicalPathKeys, formatPathKey } from '../../transform/json/json-path.js';
import { templatePath } from './json-compare.js';

/**
 * `--ignore` rules: checked where they are written (flag, rules file,
 * scenario), then compiled to RegExps over field templates. A rule is a field
 * as the report names it — `status`, `body`, `body.bom`, `header.<name>`,
 * `header.set-cookie.<cookie>`, `$` and a JSON path — or a glob over those.
 * One that can never match a field (`headers.x-foo`, `user.email` without
 * `$.`) is refused with a did-you-mean, since it would silently ignore nothing.
 */

const ROOTS = ['status', 'body', 'header'] as const;
const FIELDS = 'fields are status, body, header.<name> and $.<json path>';

/** A step after the root: `.name`, or a bracket whose quoted key may hold `.` and `]`. */
const STEP = /\.([^.[]*)|\[('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\]'"]*)\]/y;
/** A key the report writes after a dot (json-compare's childPath); others it writes as `['…']`. */
const DOT_KEY = /^[A-Za-z_$*][\w$*-]*$/;

/** One step after the root, as written: `.name` (`dot`), or what is inside `[…]` (`bracket`, quotes kept). */
export type Step = { dot: string } | { bracket: string };

/**
 * Why an ignore rule can never match a field, with a did-you-mean where one
 * is obvious; null when it is a field or a glob over fields.
 *
 * @example
 * checkIgnoreRule('headers.x-foo') // '"headers.x-foo" can never match a field; did you mean "header.x-foo"?'
 * checkIgnoreRule('$.**.updatedAt') // null
 */
export function checkIgnoreRule(rule: string): string | null {
  const concrete = concreteElementProblem(rule, 'findings are per field');
  if (concrete !== null) return concrete;
  if (problemOf(rule) === undefined) return null;
  const hint = suggestionFor(rule);
  return hint !== undefined && problemOf(hint) === undefined
    ? `"${rule}" can never match a field; did you mean "${hint}"?`
    : `"${rule}" can never match a field (${FIELDS})`;
}

/**
 * A path copied from a report's example (`$.items[3].id`, `$.users[id=7]`, `$.byId.1234`) names one
 * element, while findings are per field, every element as `[*]`: it would match nothing, so the
 * field to write instead is the hint. (Matching one element only would leave the finding reported
 * for the others, which is not what someone copying it from the report wants.) `per` says what
 * applies per field: findings for an ignore rule, the rule itself for an array rule (array-rules.ts).
 */
export function concreteElementProblem(rule: string, per: string): string | null {
  const parsed = rule.startsWith('$') ? parseRule(rule) : undefined;
  if (!parsed) return null;
  const canonical = canonicalPathKeys(rule);
  const field = templatePath(canonical);
  if (field === canonical || problemOf(field) !== undefined) return null;
  const element = parsed.steps.some((s) => 'bracket' in s && /^\d+$|^[^'"][^=]*=/.test(s.bracket));
  return element
    ? `"${rule}" names one array element; ${per}, every element as [*]: use "${field}"`
    : `"${rule}" names one id-like key; ${per}, every id-like key as a wildcard: use "${field}"`;
}

/** undefined when the rule is well formed; else a marker (the hint is worked out separately). */
function problemOf(rule: string): true | undefined {
  const parsed = parseRule(rule);
  if (!parsed) return true;
  const { root, steps } = parsed;
  if (root === '$') return steps.every(isJsonStep) ? undefined : true;
  if (root.includes('*')) {
    // A glob root (`*`, `**.revision`) must be able to match some root.
    const re = new RegExp(`^${root.replace(/\*+/g, '.*')}$`, 'i');
    return ['$', ...ROOTS].some((r) => re.test(r)) && steps.every((s) => !('dot' in s) || s.dot !== '') ? undefined : true;
  }
  switch (root.toLowerCase() === 'header' ? 'header' : root) {
    case 'status':
      return steps.length === 0 ? undefined : true;
    case 'body':
      return steps.length === 0 || (steps.length === 1 && 'dot' in steps[0]! && /^(?:bom|\*+)$/.test(steps[0].dot)) ? undefined : true;
    case 'header':
      return steps.every((s) => 'dot' in s && s.dot !== '') ? undefined : true;
    default:
      return true;
  }
}

function parseRule(rule: string): { root: string; steps: Step[] } | undefined {
  const root = rootOf(rule);
  const steps: Step[] = [];
  STEP.lastIndex = root.length;
  while (STEP.lastIndex < rule.length) {
    const m = STEP.exec(rule);
    if (!m) return undefined;
    steps.push(m[1] !== undefined ? { dot: m[1] } : { bracket: m[2]! });
  }
  return { root, steps };
}

/** The first step: `$`, `status`, `body`, `header`, or a glob over them. */
function rootOf(rule: string): string {
  const end = rule.search(/[.[]/);
  return end === -1 ? rule : rule.slice(0, end);
}

/**
 * The steps of a JSON path rule (`$` and JSON steps below it, globs included), or undefined when
 * the rule is not one: the grammar array rules (array-rules.ts) share with ignore rules.
 */
export function jsonRuleSteps(rule: string): Step[] | undefined {
  const parsed = parseRule(rule);
  return parsed?.root === '$' && parsed.steps.every(isJsonStep) ? parsed.steps : undefined;
}

function isJsonStep(step: Step): boolean {
  if ('dot' in step) return step.dot !== '' && DOT_KEY.test(step.dot);
  const b = step.bracket;
  return b === '*' || /^'.*'$|^".*"$/s.test(b) || /^\d+$/.test(b) || /^[^=]+=.*$/.test(b);
}

/**
 * The rule the user most likely meant (`user.email` → `$.user.email`, `$..x` → `$.**.x`), or
 * undefined; callers offer it only when it passes their own check.
 */
export function suggestionFor(rule: string): string | undefined {
  if (rule.trim() !== rule) return rule.trim(); // a stray space from shell quoting, not a key ending in one
  const root = rootOf(rule);
  const rest = rule.slice(root.length);
  if (root === '$') return fixJsonPath(rule);
  const response = /^response\.(body\.|headers?\.|status$)/i.exec(rule);
  if (response) {
    const what = response[1]!.toLowerCase();
    return what === 'body.' ? rule.slice(response[0].length) || 'body' : what === 'status' ? 'status' : `header.${rule.slice(response[0].length)}`;
  }
  const lower = root.toLowerCase();
  const near = ROOTS.find((r) => r === lower || `${r}s` === lower) ?? (rest !== '' ? didYouMean(root, ROOTS) : undefined);
  if (near === 'status') return 'status';
  if (near === 'body' && rest !== '' && rest !== '.bom') return fixJsonPath(`$${rest}`);
  if (near !== undefined) return near + rest;
  if (root === '') return fixJsonPath(`$${rule.startsWith('.') || rule.startsWith('[') ? '' : '.'}${rule}`);
  if (root.startsWith('$')) return fixJsonPath(`$.${rule.slice(1)}`);
  return fixJsonPath(`$.${rule}`);
}

/** `$..x` → `$.**.x` (JSONPath's descent), `$.a:b` → `$['a:b']`, `$.a[]` → `$.a[*]`. */
function fixJsonPath(path: string): string {
  const fixed = path.replace(/\.\.(?=[^.])/g, '.**.').replace(/\[\s*\]/g, '[*]');
  const parsed = parseRule(fixed);
  if (!parsed) return fixed;
  return parsed.root + parsed.steps.map((s) => ('dot' in s ? (s.dot === '' || DOT_KEY.test(s.dot) ? `.${s.dot}` : formatPathKey(s.dot)) : `[${s.bracket}]`)).join('');
}

/**
 * A checked rule as a RegExp over field templates; a match also covers everything below it.
 * `*` as a whole step (`$.a.*.b`) is one step of either kind, an object key or an array element
 * (`$.a.x.b`, `$.a[*].b`); inside a key (`$.user_*`) it is any run of that key's characters.
 * `**` is any run of characters, and as a whole step (`$.**.updatedAt`) zero or more steps, so
 * `$.updatedAt` itself is covered, as `**` is in a file glob. `$["a.b"]` and `$['a.b']` are the
 * same field: rules are matched as the report spells fields.
 */
export function compileIgnoreRule(rule: string): RegExp {
  const glob = lowerHeaderName(canonicalPathKeys(rule));
  let re = '';
  const stepEnds = (at: number) => at === glob.length || glob[at] === '.' || glob[at] === '[';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '.' && glob.startsWith('**', i + 1) && stepEnds(i + 3)) {
      re += '(?:[.[].*)?';
      i += 2;
    } else if (c === '.' && glob[i + 1] === '*' && stepEnds(i + 2)) {
      re += ANY_STEP;
      i += 1;
    } else if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^.\\[]*';
    else re += c.replace(/[\\^$+?.()|{}[\]]/g, '\\$&');
  }
  return new RegExp(`^${re}(?:$|[.\\[])`);
}

/** One step of a field template: `.name`, or a bracket — `[*]`, `['a.b']`, `["a.b"]` — whose quoted key may hold `.` and `]`. */
const ANY_STEP = String.raw`(?:\.[^.\[]+|\[(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\]'"]*)\])`;

/**
 * Header fields are named by the lower-cased header (`header.x-request-id`), as --header-deny and the
 * other header lists take names in any case; so does an ignore rule. A cookie name keeps its case
 * (`header.set-cookie.SID`): cookie names are case-sensitive.
 */
function lowerHeaderName(pattern: string): string {
  if (!/^header\./i.test(pattern)) return pattern;
  const rest = pattern.slice('header.'.length);
  const cookie = /^set-cookie\./i.exec(rest);
  return cookie ? `header.set-cookie.${rest.slice(cookie[0].length)}` : `header.${rest.toLowerCase()}`;
}
