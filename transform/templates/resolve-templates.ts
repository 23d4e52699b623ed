import { readFile } from 'node:fs/promises';
import { copyExchange } from '../../store/exchange-copy.js';
import { parse as parseYaml } from 'yaml';
import { RepriseError } from '../../errors.js';
import type { Exchange } from '../../store/exchange.js';
import { contentTypeOf, ExchangeEditor, isFormContentType, isJsonContentType, replayAnnotations } from '../exchange-editor.js';
import { rawValue, resolveTemplateString, type TemplateScope, type ValueEncoder } from './template-string.js';

/**
 * The replay-time half of parameterize and correlate: fill the `${…}`
 * templates of an exchange's templated fields (listed in
 * `meta.replay.templates`) with concrete values, each written the way its
 * field needs (percent-encoded in a query, JSON-escaped in a JSON body).
 */

/**
 * Resolve every template of an exchange: variables from `vars` (environment,
 * secrets file, correlation values as `corr.name`), times relative to `now`
 * (the replay start, ms since the epoch). Returns a new exchange without
 * template marks; the input is not modified.
 *
 * @example
 * const vars = await loadTemplateVars({ env: process.env, secretsFile: 'secrets.env' });
 * const ready = resolveTemplates(ex, vars, replayStartMs);
 */
export function resolveTemplates(ex: Exchange, vars: Readonly<Record<string, string | undefined>>, now: number): Exchange {
  const out = resolveFields(ex, { vars, now });
  const ann = replayAnnotations(out);
  if (!ann.templates) return out;
  // Runs per templated send: copies and assignments, no object rest or spread-with-properties (slow on
  // this V8, see store/exchange-copy.ts).
  const rest: Record<string, unknown> = {};
  let restKeys = 0;
  for (const k in ann) {
    if (k === 'templates' || !Object.hasOwn(ann, k)) continue;
    rest[k] = (ann as Record<string, unknown>)[k];
    restKeys++;
  }
  const meta: Record<string, unknown> = {};
  let metaKeys = 0;
  for (const k in out.meta) {
    if (!Object.hasOwn(out.meta, k)) continue;
    if (k === 'replay') {
      if (restKeys === 0) continue;
      meta.replay = rest;
    } else meta[k] = out.meta[k];
    metaKeys++;
  }
  const result = copyExchange(out);
  if (metaKeys > 0) result.meta = meta;
  else delete result.meta;
  return result;
}

/**
 * Fill only correlation variables (`${corr.*}`) from the session's `vars`,
 * leaving other templates for `resolveTemplates`.
 *
 * @example
 * extractVariables(prev.meta.replay.extract, liveResponse, vars);
 * const next = applyVariables(ex, vars); // Authorization: Bearer <the live token>
 */
export function applyVariables(ex: Exchange, vars: Readonly<Record<string, string | undefined>>): Exchange {
  return resolveFields(ex, { vars, onlyCorrelation: true });
}

function resolveFields(ex: Exchange, scope: TemplateScope): Exchange {
  const fields = replayAnnotations(ex).templates;
  if (!fields || fields.length === 0) return ex;
  const ed = new ExchangeEditor(ex);
  for (const field of fields) {
    if (field === 'request.authority') {
      ed.request().authority = resolveTemplateString(ex.request.authority, scope, field, noNewlines(field));
    } else if (field === 'request.path') {
      ed.request().path = resolveTemplateString(ex.request.path, scope, field, (v, name) => (name.startsWith('corr.') ? encodeURIComponent(v) : v));
    } else if (field === 'request.query') {
      ed.request().query = resolveTemplateString(ex.request.query, scope, field, (v) => encodeURIComponent(v));
    } else if (field.startsWith('request.headers.')) {
      const name = field.slice('request.headers.'.length);
      const headers = ex.request.headers;
      for (let i = 0; i < headers.length; i++) {
        if (headers[i]![0].toLowerCase() !== name) continue;
        const v = resolveTemplateString(headers[i]![1], scope, field, noNewlines(field));
        if (v !== headers[i]![1]) ed.setHeaderValue('request', i, v);
      }
    } else if (field === 'request.body' && ex.request.body?.encoding === 'utf8') {
      const ct = contentTypeOf(ex.request.headers);
      const enc: ValueEncoder = isJsonContentType(ct) ? (v) => JSON.stringify(v).slice(1, -1) : isFormContentType(ct) ? (v) => encodeURIComponent(v) : rawValue;
      ed.setBodyText('request', resolveTemplateString(ex.request.body.data, scope, field, enc));
    }
  }
  return ed.result();
}

function noNewlines(field: string): ValueEncoder {
  return (v, name) => {
    if (/[\r\n]/.test(v)) throw new RepriseError('TRANSFORM_VARIABLE', `${field}: \${${name}} contains a line break, which a header or authority cannot hold`);
    return v;
  };
}

/**
 * Variables for `resolveTemplates`: the environment, then a secrets file
 * (`.json`/`.yaml` mapping, or `NAME=value` lines) whose entries win.
 *
 * @example
 * const vars = await loadTemplateVars({ env: process.env, secretsFile: './replay.secrets.env' });
 */
export async function loadTemplateVars(options: { env?: Readonly<Record<string, string | undefined>>; secretsFile?: string } = {}): Promise<Record<string, string>> {
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) vars[k] = v;
  const file = options.secretsFile;
  if (!file) return vars;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RepriseError(code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE', `secrets file cannot be read (${code ?? (err as Error).message})`, { cause: err, location: { file } });
  }
  if (/\.(json|ya?ml)$/i.test(file)) {
    let parsed: unknown;
    try {
      parsed = parseYaml(text, { maxAliasCount: 0 });
    } catch (err) {
      throw new RepriseError('TRANSFORM_INVALID', `secrets file is not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`, { cause: err, location: { file } });
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new RepriseError('TRANSFORM_INVALID', 'secrets file must be a mapping of NAME: value', { location: { file } });
    for (const [k, v] of Object.entries(parsed)) if (v !== null && typeof v !== 'object') vars[k] = String(v);
    return vars;
  }
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(t);
    if (!m) throw new RepriseError('TRANSFORM_INVALID', 'expected NAME=value', { location: { file, line: i + 1 } });
    const raw = m[2]!;
    vars[m[1]!] = /^(['"]).*\1$/.test(raw) ? raw.slice(1, -1) : raw;
  });
  return vars;
}
