import { lowerCased, type Exchange } from '../../store/exchange.js';
import { durationSpec, parseDuration, regexCheck, stringList, type FieldSpec } from '../config/field-spec.js';
import { bodyText, contentTypeOf, ExchangeEditor, isFormContentType, isJsonContentType } from '../exchange-editor.js';
import { encodeParam, formatParams, parseParams } from '../http-values.js';
import { applyEdits, decodeJsonString, scanJson, type TextEdit } from '../json/json-scanner.js';
import type { ParameterizeStep } from '../step-definitions.js';
import { countInto, type StepKind } from '../step-types.js';
import { escapeTemplates, templateProblem } from './template-string.js';
import { mayBeTime, timeToTemplate, type TimeContext } from './time-rebase.js';
import { compileTarget, describeTarget, TARGET_KEYS, targetFields, writeTemplate } from './value-targets.js';

/**
 * `parameterize`: make recorded requests into templates the replay fills in:
 * values from the environment or a secrets file (`set`), another target
 * (`target`: scheme, host, port, and the Host header), rewritten paths, and
 * times shifted to the replay's clock (`rebaseTime`). The replay-time half is
 * resolve-templates.ts.
 */

const template: FieldSpec = { kind: 'string', check: templateProblem };
const port: FieldSpec = {
  kind: 'union',
  expected: 'a port number or a ${VAR} template',
  variants: [{ kind: 'number', integer: true, min: 1, max: 65535 }, { kind: 'string', nonEmpty: true, check: (s) => (/^\d+$/.test(s) ? null : templateProblem(s) ?? (s.includes('${') ? null : 'must be a number or a ${VAR} template')) }],
};

export const parameterizeStepKind: StepKind<ParameterizeStep> = {
  type: 'parameterize',
  summary: 'Turn request values into ${VAR} templates, retarget scheme/host/port, rewrite paths, re-base timestamps.',
  fields: {
    set: { kind: 'list', nonEmpty: true, of: { kind: 'object', required: ['value'], exactlyOne: TARGET_KEYS, fields: { ...targetFields, value: template } } },
    target: {
      kind: 'object',
      fields: {
        scheme: { kind: 'string', enum: ['http', 'https'] },
        host: { kind: 'string', nonEmpty: true, check: (s) => (/[/\s]/.test(s) ? 'must be a host name (no scheme or path)' : templateProblem(s)) },
        port,
      },
    },
    paths: { kind: 'list', nonEmpty: true, of: { kind: 'object', required: ['match', 'replace'], fields: { match: { kind: 'string', nonEmpty: true, check: regexCheck }, replace: template } } },
    rebaseTime: {
      kind: 'object',
      fields: { headers: stringList(), queryParams: stringList(), bodies: { kind: 'boolean' }, window: durationSpec },
    },
  },
  check(def, problems) {
    if (!def.set && !def.target && !def.paths && !def.rebaseTime) problems.add([], 'changes nothing: give set, target, paths or rebaseTime');
    if (def.target && def.target.scheme === undefined && def.target.host === undefined && def.target.port === undefined) problems.add(['target'], 'needs scheme, host or port');
  },
  explain(def) {
    const parts: string[] = [];
    for (const s of def.set ?? []) parts.push(`set ${describeTarget(s)} to ${s.value}`);
    if (def.target) {
      const t = def.target;
      parts.push(`send to ${t.scheme ?? '(same scheme)'}://${t.host ?? '(same host)'}${t.port !== undefined ? `:${t.port}` : ''}`);
    }
    for (const p of def.paths ?? []) parts.push(`rewrite path /${p.match}/ → ${p.replace}`);
    if (def.rebaseTime) {
      const r = def.rebaseTime;
      const where = [...(r.bodies === false ? [] : ['bodies']), ...(r.headers ? [`headers ${r.headers.join(', ')}`] : []), ...(r.queryParams ? [`query ${r.queryParams.join(', ')}`] : [])];
      parts.push(`re-base times in ${where.join(', ') || 'nothing'} to the replay start`);
    }
    return `parameterize: ${parts.join('; ')}`;
  },
  prepare(def, ctx) {
    const sets = (def.set ?? []).map((s) => ({ c: compileTarget(s), value: s.value }));
    const paths = (def.paths ?? []).map((p) => ({ re: new RegExp(p.match), replace: p.replace }));
    const rebase = def.rebaseTime;
    const windowMs = parseDuration(rebase?.window ?? '365d') ?? 365 * 86_400_000;
    const timeHeaders = new Set((rebase?.headers ?? []).map((h) => h.toLowerCase()));
    const timeParams = new Set(rebase?.queryParams ?? []);
    const count = (kind: string): void => countInto(ctx.stats().templated, kind);
    const authorities = new Map<string, string>();
    return {
      start() {
        let originMs: number | null = null; // recording start: the first exchange this step sees
        return {
          apply(ex: Exchange) {
            const ed = new ExchangeEditor(ex);
            for (const s of sets) if (writeTemplate(ed, s.c, s.value)) count('set');
            if (def.target && retarget(ed, def.target, authorities)) count('target');
            for (const p of paths) {
              const path = ed.ex.request.path;
              const next = path.replace(p.re, p.replace);
              if (next === path) continue;
              if (next.includes('${')) {
                // Escape any `${` the recorded path had before the field starts holding templates.
                const base = ed.isTemplated('request.path') ? path : escapeTemplates(path);
                ed.request().path = base.replace(p.re, p.replace);
                ed.markTemplate('request.path');
                count('path');
              } else ed.request().path = next;
            }
            if (rebase) {
              originMs ??= ex.start / 1000;
              const tc: TimeContext = { originMs, aroundMs: ex.start / 1000, windowMs };
              const n = rebaseTimes(ed, tc, timeHeaders, timeParams, rebase.bodies !== false);
              if (n > 0) count('time');
            }
            return ed.result();
          },
        };
      },
    };
  },
};

function retarget(ed: ExchangeEditor, t: NonNullable<ParameterizeStep['target']>, cache: Map<string, string>): boolean {
  const req = ed.ex.request;
  const scheme = t.scheme ?? req.scheme;
  const cacheKey = `${scheme} ${req.authority}`;
  let authority = cache.get(cacheKey);
  if (authority === undefined) {
    const { host: oldHost, port: oldPort } = splitAuthority(req.authority);
    const host = t.host ?? oldHost;
    const portText = t.port !== undefined ? String(t.port) : oldPort;
    const isDefault = (scheme === 'http' && portText === '80') || (scheme === 'https' && portText === '443');
    authority = portText && !isDefault ? `${host}:${portText}` : host;
    if (cache.size >= 1024) cache.clear(); // a handful of recorded authorities; bounded anyway
    cache.set(cacheKey, authority);
  }
  if (t.scheme) ed.request().scheme = t.scheme;
  if (authority === req.authority) return false;
  ed.request().authority = authority;
  const templated = authority.includes('${');
  const headers = ed.headers('request');
  for (let i = 0; i < headers.length; i++) {
    const lower = lowerCased(headers[i]![0]);
    if (lower !== 'host' && lower !== ':authority') continue;
    ed.setHeaderValue('request', i, authority);
    if (templated) ed.markTemplate(`request.headers.${lower}`);
  }
  if (templated) ed.markTemplate('request.authority');
  return templated;
}

export function splitAuthority(a: string): { host: string; port: string } {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(a);
  return { host: m?.[1] ?? a, port: m?.[2] ?? '' };
}

function rebaseTimes(ed: ExchangeEditor, tc: TimeContext, headers: Set<string>, params: Set<string>, bodies: boolean): number {
  let n = 0;
  if (headers.size > 0) {
    const list = ed.headers('request');
    for (let i = 0; i < list.length; i++) {
      const [name, value] = list[i]!;
      const lower = lowerCased(name);
      if (!headers.has(lower) || ed.isTemplated(`request.headers.${lower}`)) continue;
      const t = timeToTemplate(value.trim(), tc);
      if (t === null) continue;
      ed.setHeaderValue('request', i, t);
      ed.markTemplate(`request.headers.${lower}`);
      n++;
    }
  }
  if (params.size > 0 && ed.ex.request.query !== '') {
    const next = rebaseParams(ed.ex.request.query, (name) => params.has(name), tc, ed.isTemplated('request.query'));
    if (next) {
      ed.request().query = next.text;
      ed.markTemplate('request.query');
      n += next.count;
    }
  }
  const text = bodies ? bodyText(ed.ex.request.body) : null;
  if (text !== null && text.length > 0) {
    const ct = contentTypeOf(ed.ex.request.headers);
    const already = ed.isTemplated('request.body');
    const next = isJsonContentType(ct) ? rebaseJson(text, tc, already) : isFormContentType(ct) ? rebaseParams(text, () => true, tc, already) : null;
    if (next) {
      ed.setBodyText('request', next.text);
      ed.markTemplate('request.body');
      n += next.count;
    }
  }
  return n;
}

function rebaseParams(raw: string, wanted: (name: string) => boolean, tc: TimeContext, already: boolean): { text: string; count: number } | null {
  const params = parseParams(raw);
  let count = 0;
  for (const p of params) {
    if (p.rawValue === null || !wanted(p.name) || !mayBeTime(p.value)) continue;
    const t = timeToTemplate(p.value, tc);
    if (t === null) continue;
    p.rawValue = encodeParam(t);
    p.value = t;
    count++;
  }
  if (count === 0) return null;
  if (!already) {
    for (const p of params) {
      if (p.value.startsWith('${time:')) continue;
      p.rawName = escapeTemplates(p.rawName);
      if (p.rawValue !== null) p.rawValue = escapeTemplates(p.rawValue);
    }
  }
  return { text: formatParams(params), count };
}

function rebaseJson(text: string, tc: TimeContext, already: boolean): { text: string; count: number } | null {
  const edits: TextEdit[] = [];
  scanJson(text, (_path, kind, start, end) => {
    if (kind !== 'string' && kind !== 'number') return;
    const value = kind === 'string' ? decodeJsonString(text, start, end) : text.slice(start, end);
    if (!mayBeTime(value)) return;
    const t = timeToTemplate(value, tc);
    if (t === null) return;
    // A number stays a number: the raw form "${#…}" resolves without quotes.
    edits.push({ start, end, text: kind === 'number' ? `"\${#${t.slice(2, -1)}}"` : JSON.stringify(t) });
  });
  if (edits.length === 0) return null;
  return { text: applyEdits(text, edits, already ? undefined : escapeTemplates), count: edits.length };
}
