import type { FieldSpec } from '../config/field-spec.js';
import { bodyText, contentTypeOf, isFormContentType, type ExchangeEditor } from '../exchange-editor.js';
import { authSchemeEnd, encodeParam, formatParams, parseCookieHeader, parseParams, spliceAll } from '../http-values.js';
import { jsonPathProblem, matchJsonPath, parseJsonPath } from '../json/json-path.js';
import { applyEdits, scanJson, type TextEdit } from '../json/json-scanner.js';
import type { ValueTarget } from '../step-definitions.js';
import { escapeTemplates } from './template-string.js';

/**
 * Writing a template into a request value named by a target (`header`,
 * `query`, `cookie`, `jsonPath`, `formField`): used by parameterize `set`
 * and correlate `inject`. The first time a field gets a template, the `${`
 * already in it is escaped (`$${`), so the replay resolves only what a
 * transform wrote.
 */

export const TARGET_KEYS = ['header', 'query', 'cookie', 'jsonPath', 'formField'] as const;

export const targetFields: Record<string, FieldSpec> = {
  header: { kind: 'string', nonEmpty: true },
  query: { kind: 'string', nonEmpty: true },
  cookie: { kind: 'string', nonEmpty: true },
  jsonPath: { kind: 'string', nonEmpty: true, check: jsonPathProblem },
  formField: { kind: 'string', nonEmpty: true },
  add: { kind: 'boolean' },
};

export function describeTarget(t: ValueTarget): string {
  if (t.header) return `header ${t.header}`;
  if (t.query) return `query ${t.query}`;
  if (t.cookie) return `cookie ${t.cookie}`;
  if (t.jsonPath) return `json ${t.jsonPath}`;
  return `form field ${t.formField}`;
}

/** Where in a request a target is, named as --explain names learned uses: `request.cookies.sid`. */
export function targetPlace(t: ValueTarget): string {
  if (t.header) return `request.headers.${t.header.toLowerCase()}`;
  if (t.query) return `request.query.${t.query}`;
  if (t.cookie) return `request.cookies.${t.cookie}`;
  if (t.jsonPath) return `request.body.${t.jsonPath}`;
  return `request.body.form.${t.formField}`;
}

/** The template field a target writes into. */
export function targetField(t: ValueTarget): string {
  if (t.header) return `request.headers.${t.header.toLowerCase()}`;
  if (t.query) return 'request.query';
  if (t.cookie) return 'request.headers.cookie';
  return 'request.body';
}

export interface CompiledTarget {
  target: ValueTarget & { add?: boolean };
  field: string;
  jsonPath?: ReturnType<typeof parseJsonPath>;
}

export function compileTarget(t: ValueTarget & { add?: boolean }): CompiledTarget {
  return { target: t, field: targetField(t), ...(t.jsonPath ? { jsonPath: parseJsonPath(t.jsonPath) } : {}) };
}

/**
 * Write `template` into the target's value(s) in the request. Returns true
 * when something was written. Absent targets are added only with `add`
 * (headers, query parameters and cookies). With `keepAuthScheme`, an
 * Authorization-like header keeps its recorded scheme (`Bearer ${corr.token}`):
 * correlate fills in a bare token, parameterize `set` writes the whole value.
 */
export function writeTemplate(ed: ExchangeEditor, c: CompiledTarget, template: string, options: { keepAuthScheme?: boolean } = {}): boolean {
  const t = c.target;
  const firstTime = !ed.isTemplated(c.field);
  const gap = firstTime ? escapeTemplates : (s: string): string => s;
  let written = false;
  if (t.header) {
    const lower = t.header.toLowerCase();
    const keepScheme = options.keepAuthScheme === true && lower.endsWith('authorization');
    const headers = ed.headers('request');
    for (let i = 0; i < headers.length; i++) {
      if (headers[i]![0].toLowerCase() !== lower) continue;
      const value = headers[i]![1];
      const sp = keepScheme ? authSchemeEnd(value) : -1;
      ed.setHeaderValue('request', i, sp === -1 ? template : `${value.slice(0, sp + 1)}${template}`);
      written = true;
    }
    if (!written && t.add) {
      ed.writableHeaders('request').push([t.header, template]);
      written = true;
    }
  } else if (t.cookie) {
    const headers = ed.headers('request');
    for (let i = 0; i < headers.length; i++) {
      if (headers[i]![0].toLowerCase() !== 'cookie') continue;
      const value = headers[i]![1];
      const spans = parseCookieHeader(value).filter((p) => p.name === t.cookie).map((p) => ({ start: p.start, end: p.end, text: template }));
      if (spans.length === 0) continue;
      ed.setHeaderValue('request', i, spliceAll(value, spans, gap));
      written = true;
    }
    if (!written && t.add) {
      const i = headers.findIndex(([n]) => n.toLowerCase() === 'cookie');
      if (i === -1) ed.writableHeaders('request').push(['Cookie', `${t.cookie}=${template}`]);
      else ed.setHeaderValue('request', i, `${gap(headers[i]![1])}; ${t.cookie}=${template}`);
      written = true;
    }
  } else if (t.query) {
    const q = writeParam(ed.ex.request.query, t.query, template, t.add ?? false, gap);
    if (q !== null) {
      ed.request().query = q;
      written = true;
    }
  } else {
    const text = bodyText(ed.ex.request.body);
    if (text === null) return false;
    let next: string | null = null;
    if (t.formField) {
      if (isFormContentType(contentTypeOf(ed.ex.request.headers))) next = writeParam(text, t.formField, template, false, gap);
    } else if (c.jsonPath) {
      next = writeJson(text, c.jsonPath, template, gap);
    }
    if (next !== null) {
      ed.setBodyText('request', next);
      written = true;
    }
  }
  if (written) ed.markTemplate(c.field);
  return written;
}

function writeParam(raw: string, name: string, template: string, add: boolean, gap: (s: string) => string): string | null {
  const params = parseParams(raw);
  let found = false;
  for (const p of params) {
    if (p.name !== name) continue;
    p.rawValue = encodeParam(template);
    found = true;
  }
  if (!found && !add) return null;
  for (const p of params) {
    if (p.name === name) continue;
    p.rawName = gap(p.rawName);
    if (p.rawValue !== null) p.rawValue = gap(p.rawValue);
  }
  if (!found) params.push({ name, value: template, rawName: encodeParam(name), rawValue: encodeParam(template) });
  return formatParams(params);
}

/** Every value at the path becomes the template: a JSON string, or the raw form `"${#x}"` where a number was. */
function writeJson(text: string, path: ReturnType<typeof parseJsonPath>, template: string, gap: (s: string) => string): string | null {
  const edits: TextEdit[] = [];
  const single = /^\$\{([^{}#]+)\}$/.exec(template);
  const result = scanJson(text, (p, kind, start, end) => {
    if (!matchJsonPath(path, p)) return;
    const raw = kind === 'number' || kind === 'literal';
    edits.push({ start, end, text: raw && single ? `"\${#${single[1]}}"` : JSON.stringify(template) });
  });
  if (result === 'invalid' || edits.length === 0) return null;
  return applyEdits(text, edits, gap);
}
