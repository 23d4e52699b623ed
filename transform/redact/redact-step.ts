import { lowerCased, type Exchange } from '../../store/exchange.js';
import { stringList, type FieldSpec } from '../config/field-spec.js';
import { ExchangeEditor, type Side } from '../exchange-editor.js';
import { encodeParam, formatParams, parseCookieHeader, parseParams, parseSetCookie, spliceAll } from '../http-values.js';
import { jsonPathProblem } from '../json/json-path.js';
import { redactHeaderValue } from '../redact-headers.js';
import type { RedactStep } from '../step-definitions.js';
import type { StepKind } from '../step-types.js';
import { DETECTOR_NAMES, type DetectorSet } from './detectors.js';
import { redactBody } from './redact-body.js';
import { createRedactor, detectorNames, isReplaceable, replaceFound, type Redactor } from './redactor.js';

/**
 * `redact`: replace secrets and personal data by name (headers, query
 * parameters, cookies, JSON paths, form fields) and by shape (detectors), in
 * both directions. Every replacement leaves a redaction mark and is counted
 * by kind. Values that are templates (`${…}`) or earlier redaction output are
 * left alone, so the step can run after correlate/parameterize and twice.
 */

export const redactStepKind: StepKind<RedactStep> = {
  type: 'redact',
  summary: 'Replace secrets and personal data with a mask or a keyed-hash token, and mark each replacement.',
  fields: {
    headers: stringList(),
    queryParams: stringList(),
    cookies: stringList(),
    jsonPaths: stringList(jsonPathProblem),
    formFields: stringList(),
    detectors: {
      kind: 'union',
      expected: '"default" or a list of detectors',
      variants: [
        { kind: 'string', enum: ['default'] },
        { kind: 'list', nonEmpty: true, of: { kind: 'string', enum: DETECTOR_NAMES } },
      ],
    },
    mode: { kind: 'string', enum: ['mask', 'hash'] },
    mask: { kind: 'string', nonEmpty: true, check: (s) => (s.includes('${') ? 'must not contain ${' : null) },
    key: {
      kind: 'object',
      exactlyOne: ['env', 'file'],
      fields: { env: { kind: 'string', nonEmpty: true }, file: { kind: 'string', nonEmpty: true, file: true } },
    } satisfies FieldSpec,
  },
  check(def, problems) {
    if (!def.headers && !def.queryParams && !def.cookies && !def.jsonPaths && !def.formFields && !def.detectors) {
      problems.add([], 'redacts nothing: give headers, queryParams, cookies, jsonPaths, formFields or detectors');
    }
    if (def.key && def.mode !== 'hash') problems.add(['key'], 'is only used with mode: hash');
    if (def.mask !== undefined && def.mode === 'hash') problems.add(['mask'], 'is only used with mode: mask');
  },
  explain(def) {
    const parts: string[] = [];
    if (def.headers) parts.push(`headers ${def.headers.join(', ')}`);
    if (def.queryParams) parts.push(`query ${def.queryParams.join(', ')}`);
    if (def.cookies) parts.push(`cookies ${def.cookies.join(', ')}`);
    if (def.jsonPaths) parts.push(`json paths ${def.jsonPaths.join(', ')}`);
    if (def.formFields) parts.push(`form fields ${def.formFields.join(', ')}`);
    if (def.detectors) parts.push(`detectors ${detectorNames(def).join(', ')}`);
    return `redact ${parts.join('; ')}${def.mode === 'hash' ? ' (as keyed-hash tokens)' : ''}`;
  },
  async prepare(def, ctx) {
    const r = await createRedactor(def, ctx);
    const run = { apply: (ex: Exchange) => redactExchange(ex, r) };
    return { start: () => run };
  },
};

/** One exchange through a redactor; returns the input itself when nothing was found. */
export function redactExchange(ex: Exchange, r: Redactor): Exchange {
  const ed = new ExchangeEditor(ex);
  redactHeaders(ed, 'request', r);
  if (ex.response) redactHeaders(ed, 'response', r);
  if (ex.request.query !== '' && (r.queryParams.size > 0 || r.detectors)) redactQuery(ed, r);
  if (r.detectors) redactPath(ed, r.detectors, r);
  redactBody(ed, 'request', r);
  if (ex.response) redactBody(ed, 'response', r);
  return ed.result();
}

// Headers whose values are protocol facts (sizes, media types, dates, encodings): detectors skip them.
const PLAIN_HEADERS = new Set([
  'host', ':authority', 'content-length', 'content-type', 'content-encoding', 'transfer-encoding', 'accept', 'accept-encoding',
  'accept-language', 'accept-ranges', 'connection', 'keep-alive', 'te', 'upgrade', 'vary', 'date', 'expires', 'last-modified',
  'if-modified-since', 'if-unmodified-since', 'cache-control', 'pragma', 'age',
]);

function redactHeaders(ed: ExchangeEditor, side: Side, r: Redactor): void {
  const headers = ed.headers(side);
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    const lower = lowerCased(name);
    let next = value;
    if (r.headers.has(lower)) {
      next = redactHeaderValue(lower, value, (s) => (isReplaceable(s, r) ? r.replacer.replace(s) : s));
      if (next !== value) {
        r.count('header');
        ed.mark(`${side}.headers.${lower}`);
        ed.setHeaderValue(side, i, next);
      }
      continue; // the whole value was handled by name
    }
    if (r.cookies && ((side === 'request' && lower === 'cookie') || (side === 'response' && lower === 'set-cookie'))) {
      const pairs = lower === 'cookie' ? parseCookieHeader(value) : [parseSetCookie(value)].filter((p) => p !== null);
      const spans = pairs
        .filter((p) => (r.cookies === 'all' || (r.cookies as Set<string>).has(p.name)) && isReplaceable(p.value, r))
        .map((p) => {
          r.count('cookie');
          ed.mark(`${side}.cookies.${p.name}`);
          return { start: p.start, end: p.end, text: r.replacer.replace(p.value) };
        });
      next = spliceAll(value, spans);
    }
    if (r.detectors && !PLAIN_HEADERS.has(lower)) {
      const found = replaceFound(next, r, (kind) => r.count(`detector:${kind}`));
      if (found !== null) {
        next = found;
        ed.mark(`${side}.headers.${lower}`);
      }
    }
    if (next !== value) ed.setHeaderValue(side, i, next);
  }
}

function redactQuery(ed: ExchangeEditor, r: Redactor): void {
  const params = parseParams(ed.ex.request.query);
  let changed = false;
  for (const p of params) {
    if (p.rawValue === null) continue;
    let value: string | null = null;
    if (r.queryParams.has(p.name.toLowerCase())) {
      if (isReplaceable(p.value, r)) {
        value = r.replacer.replace(p.value);
        r.count('query');
      }
    } else if (r.detectors) {
      value = replaceFound(p.value, r, (kind) => r.count(`detector:${kind}`));
    }
    if (value === null) continue;
    p.rawValue = encodeParam(value);
    ed.mark(`request.query.${p.name}`);
    changed = true;
  }
  if (changed) ed.request().query = formatParams(params);
}

function redactPath(ed: ExchangeEditor, detectors: DetectorSet, r: Redactor): void {
  const path = ed.ex.request.path;
  if (!detectors.maybe(path)) return;
  let changed = false;
  const segments = path.split('/').map((seg) => {
    let decoded = seg;
    try {
      decoded = decodeURIComponent(seg);
    } catch { /* keep the raw segment */ }
    const next = replaceFound(decoded, r, (kind) => r.count(`detector:${kind}`));
    if (next === null) return seg;
    changed = true;
    return encodeParam(next);
  });
  if (!changed) return;
  ed.request().path = segments.join('/');
  ed.mark('request.path');
}
