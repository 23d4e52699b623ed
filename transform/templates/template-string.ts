import { RepriseError } from '../../errors.js';

/**
 * The `${…}` template language of transformed exchanges, resolved at replay
 * time:
 *
 *   ${API_TOKEN}              a variable from the environment or a secrets file
 *   ${corr.login_token}       a correlation variable, filled from a live response
 *   ${time:iso3:+1590}        a time: replay start + 1590 ms, as ISO-8601 with 3 fraction digits
 *   "${#corr.order_id}"       (in JSON bodies) the value without quotes, for numbers
 *   $${                       a literal `${` that was in the recording
 *
 * Time formats: iso0…iso9 (fraction digits; `iso3@+02:00` keeps a UTC
 * offset), epoch-s, epoch-ms, http (IMF-fixdate, as in Date headers).
 */

// One pass over a string finds all three forms: quoted raw `"${#x}"`, escaped `$${`, and `${x}`.
const TEMPLATE = /"\$\{#([^{}"]+)\}"|\$(\$?)\{([^{}]*)\}/g;
const NAME = /^(?:corr\.)?[A-Za-z_][A-Za-z0-9_]*$/;
const TIME = /^time:(iso\d(?:@[+-]\d{2}:\d{2})?|epoch-s|epoch-ms|http):([+-]\d{1,15})$/;

export interface TemplateScope {
  /** Variables by template name: `API_TOKEN`, `corr.login_token`. */
  vars: Readonly<Record<string, string | undefined>>;
  /** Replay start, ms since the epoch; what `${time:…}` offsets are added to. */
  now?: number;
  /** Resolve only correlation variables and leave everything else (escapes included) for a later full pass. */
  onlyCorrelation?: boolean;
}

/** How a resolved value is written into its field: raw, percent-encoded, JSON-escaped. */
export type ValueEncoder = (value: string, name: string) => string;
export const rawValue: ValueEncoder = (v) => v;

export class MissingVariableError extends RepriseError {
  readonly variable: string;
  constructor(name: string, field: string) {
    super('TRANSFORM_VARIABLE', `${field}: \${${name}} has no value (${name.startsWith('corr.') ? 'no earlier response of this session provided it' : 'set it in the environment or the secrets file'})`);
    this.variable = name;
  }
}

/**
 * Resolve the templates in one field's text.
 *
 * @example
 * resolveTemplateString('Bearer ${API_TOKEN}', { vars: { API_TOKEN: 'abc' } }, 'request.headers.authorization') // 'Bearer abc'
 */
export function resolveTemplateString(s: string, scope: TemplateScope, field: string, encode: ValueEncoder = rawValue, rawEncode: ValueEncoder = rawJson): string {
  if (s.indexOf('${') === -1) return s;
  return s.replace(TEMPLATE, (whole, rawName: string | undefined, escaped: string, name: string) => {
    if (rawName !== undefined) {
      if (scope.onlyCorrelation && !rawName.startsWith('corr.')) return whole;
      return rawEncode(lookup(rawName, scope, field), rawName);
    }
    if (escaped) return scope.onlyCorrelation ? whole : `\${${name}}`;
    if (scope.onlyCorrelation && !name.startsWith('corr.')) return whole;
    return encode(lookup(name, scope, field), name);
  });
}

function lookup(name: string, scope: TemplateScope, field: string): string {
  const t = TIME.exec(name);
  if (t) {
    if (scope.now === undefined) throw new RepriseError('TRANSFORM_VARIABLE', `${field}: \${${name}} needs the replay start time`);
    return formatTime(scope.now + Number(t[2]), t[1]!);
  }
  const v = scope.vars[name];
  if (v === undefined) throw new MissingVariableError(name, field);
  return v;
}

/** A value written without quotes into JSON: numbers and literals as they are, anything else as a JSON string. */
function rawJson(v: string): string {
  return /^-?\d+(\.\d+)?([eE][+-]?\d+)?$|^(true|false|null)$/.test(v) ? v : JSON.stringify(v);
}

/** `${` in recorded text becomes `$${`, so only templates a transform wrote are resolved. */
export function escapeTemplates(s: string): string {
  return s.indexOf('${') === -1 ? s : s.replace(/\$\{/g, () => '$${');
}

/** Names used by the templates in a string (escapes excluded). */
export function templateNames(s: string): string[] {
  const out: string[] = [];
  for (const m of s.matchAll(TEMPLATE)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (!m[2]) out.push(m[3]!);
  }
  return out;
}

/** Validation of a template a user wrote: every `${…}` names a variable or a time. */
export function templateProblem(s: string): string | null {
  const open = (s.match(/\$\{/g) ?? []).length;
  const names = templateNames(s);
  const escapes = (s.match(/\$\$\{/g) ?? []).length;
  if (names.length + escapes < open) return 'has an unclosed ${';
  for (const n of names) {
    if (!NAME.test(n) && !TIME.test(n)) return `has \${${n}}, which is not a variable name (letters, digits, _; corr.name for correlation variables)`;
  }
  return null;
}

export function timeTemplate(format: string, offsetMs: number): string {
  return `\${time:${format}:${offsetMs >= 0 ? '+' : ''}${Math.round(offsetMs)}}`;
}

export function formatTime(ms: number, format: string): string {
  if (format === 'epoch-ms') return String(Math.round(ms));
  if (format === 'epoch-s') return String(Math.floor(ms / 1000));
  if (format === 'http') return new Date(ms).toUTCString();
  const digits = Number(format[3]);
  const at = format.indexOf('@');
  let offsetMin = 0;
  let suffix = 'Z';
  if (at !== -1) {
    suffix = format.slice(at + 1);
    offsetMin = (suffix[0] === '-' ? -1 : 1) * (Number(suffix.slice(1, 3)) * 60 + Number(suffix.slice(4, 6)));
  }
  const iso = new Date(ms + offsetMin * 60_000).toISOString(); // 2026-03-14T10:00:01.590Z
  const base = iso.slice(0, 19);
  const frac = digits === 0 ? '' : `.${iso.slice(20, 23).padEnd(digits, '0').slice(0, digits)}`;
  return `${base}${frac}${suffix}`;
}
