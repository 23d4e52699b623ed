import type { Body } from '../../store/exchange.js';
import { parseSetCookie } from '../http-values.js';
import { matchJsonPath, parseJsonPath, type JsonPath } from '../json/json-path.js';
import { decodeJsonString, scanJson } from '../json/json-scanner.js';

/**
 * Extraction rules: where a correlation variable's value is found in a live
 * response. The correlate step attaches them to the exchange whose response
 * produced the value (`meta.replay.extract`); at replay time the engine runs
 * `extractVariables` on that exchange's live response and later requests of
 * the session get the value through `applyVariables`.
 */
export type ExtractionRule =
  | { var: string; from: 'json'; path: string }
  | { var: string; from: 'header'; name: string; regex?: string }
  | { var: string; from: 'cookie'; name: string }
  | { var: string; from: 'body'; regex: string };

/** A response as the replay engine has it: header pairs or undici's header object, and the body text or bytes. */
export interface LiveResponse {
  status?: number;
  headers: ReadonlyArray<readonly [string, string]> | Readonly<Record<string, string | string[] | undefined>>;
  body?: string | Buffer | Body | null;
}

/**
 * Fill `vars` (keyed by template name, `corr.<var>`) from a live response.
 * Returns the names of variables the response did not provide; their old
 * values, if any, are kept.
 *
 * @example
 * const vars: Record<string, string> = {};
 * const missing = extractVariables(ex.meta.replay.extract, { status: 200, headers: res.headers, body: text }, vars);
 * // vars['corr.login_token'] === 'eyJ…'
 */
export function extractVariables(rules: readonly ExtractionRule[] | undefined, res: LiveResponse, vars: Record<string, string>): string[] {
  const missing: string[] = [];
  if (!rules) return missing;
  let text: string | undefined;
  for (const rule of rules) {
    if (rule.from === 'json' || rule.from === 'body') text ??= bodyString(res.body);
    const v = extractValue(rule, res, text);
    if (v === undefined) missing.push(`corr.${rule.var}`);
    else vars[`corr.${rule.var}`] = v;
  }
  return missing;
}

/** The value one rule finds in a response, or undefined. */
export function extractValue(rule: ExtractionRule, res: LiveResponse, bodyText?: string): string | undefined {
  switch (rule.from) {
    case 'json':
      return jsonValueAt(bodyText ?? bodyString(res.body), cachedPath(rule.path));
    case 'body': {
      const m = cachedRegex(rule.regex).exec(bodyText ?? bodyString(res.body));
      return m ? (m[1] ?? m[0]) : undefined;
    }
    case 'header': {
      const v = headerValues(res.headers, rule.name)[0];
      if (v === undefined || !rule.regex) return v;
      const m = cachedRegex(rule.regex).exec(v);
      return m ? (m[1] ?? m[0]) : undefined;
    }
    case 'cookie':
      for (const sc of headerValues(res.headers, 'set-cookie')) {
        const pair = parseSetCookie(sc);
        if (pair && pair.name === rule.name) return pair.value;
      }
      return undefined;
  }
}

/** The first value at a JSON path, as text: strings decoded, numbers exactly as written, objects as JSON. */
export function jsonValueAt(text: string, path: JsonPath): string | undefined {
  let found: string | undefined;
  if (text === '') return undefined;
  scanJson(text, (p, kind, start, end) => {
    if (found !== undefined || !matchJsonPath(path, p)) return;
    found = kind === 'string' ? decodeJsonString(text, start, end) : text.slice(start, end);
  });
  return found;
}

export function headerValues(headers: LiveResponse['headers'], name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  if (Array.isArray(headers)) {
    for (const [n, v] of headers as ReadonlyArray<readonly [string, string]>) if (n.toLowerCase() === lower) out.push(v);
    return out;
  }
  for (const [n, v] of Object.entries(headers)) {
    if (n.toLowerCase() !== lower || v === undefined) continue;
    if (Array.isArray(v)) out.push(...v);
    else out.push(v);
  }
  return out;
}

function bodyString(body: LiveResponse['body']): string {
  if (body === null || body === undefined) return '';
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return body.encoding === 'utf8' ? body.data : Buffer.from(body.data, 'base64').toString('utf8');
}

// Rules repeat on every exchange of a kind; compile each path and regex once.
const paths = new Map<string, JsonPath>();
const regexes = new Map<string, RegExp>();

function cachedPath(src: string): JsonPath {
  let p = paths.get(src);
  if (!p) {
    if (paths.size > 1000) paths.clear();
    paths.set(src, (p = parseJsonPath(src)));
  }
  return p;
}

function cachedRegex(src: string): RegExp {
  let r = regexes.get(src);
  if (!r) {
    if (regexes.size > 1000) regexes.clear();
    regexes.set(src, (r = new RegExp(src)));
  }
  return r;
}
