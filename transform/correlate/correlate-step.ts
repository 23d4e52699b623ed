import { getHeader, type Exchange } from '../../store/exchange.js';
import { compileFilter, type ExchangePredicate } from '../../store/exchange-filter.js';
import { regexCheck, stringList, type FieldSpec } from '../config/field-spec.js';
import { parseCookieHeader } from '../http-values.js';
import type { CorrelateStep, ExtractSpec } from '../step-definitions.js';
import type { StepKind } from '../step-types.js';
import { compileTarget, describeTarget, TARGET_KEYS, targetFields } from '../templates/value-targets.js';
import { jsonPathProblem } from '../json/json-path.js';
import { CorrelationPlan } from './correlation-plan.js';
import { startCorrelation, type CorrelationOptions } from './correlation-runner.js';
import type { ExtractionRule } from './extraction-rules.js';
import type { ValueSource } from './value-sites.js';

/**
 * `correlate`: make a recorded session replayable against a server that
 * issues different tokens and ids. Learned correlations (correlation-runner.ts,
 * one pass with a bounded lookahead) and manual rules both end up as
 * extraction rules on the producing exchange (`meta.replay.extract`) and
 * `${corr.name}` templates in later requests of the session;
 * extraction-rules.ts and resolve-templates.ts are the replay-time half.
 */

const SOURCES: readonly ValueSource[] = ['json', 'cookie', 'location', 'header'];

const extractSpec: FieldSpec = {
  kind: 'object',
  fields: {
    jsonPath: { kind: 'string', nonEmpty: true, check: jsonPathProblem },
    header: { kind: 'string', nonEmpty: true },
    cookie: { kind: 'string', nonEmpty: true },
    regex: { kind: 'string', nonEmpty: true, check: regexCheck },
  },
};

export const correlateStepKind: StepKind<CorrelateStep> = {
  type: 'correlate',
  summary: 'Learn which response values later requests of a session reuse, and replay them from live responses.',
  fields: {
    learn: { kind: 'boolean' },
    session: {
      kind: 'union',
      expected: 'connection, capture, or { header: name } / { cookie: name }',
      variants: [
        { kind: 'string', enum: ['connection', 'capture'] },
        { kind: 'object', exactlyOne: ['header', 'cookie'], fields: { header: { kind: 'string', nonEmpty: true }, cookie: { kind: 'string', nonEmpty: true } } },
      ],
    },
    maxValuesPerSession: { kind: 'number', integer: true, min: 1, max: 100_000 },
    lookahead: { kind: 'number', integer: true, min: 1, max: 1_000_000 },
    sources: { kind: 'list', nonEmpty: true, of: { kind: 'string', enum: SOURCES } },
    rules: {
      kind: 'list',
      nonEmpty: true,
      of: {
        kind: 'object',
        required: ['var', 'extract', 'inject'],
        fields: {
          var: { kind: 'string', check: (s) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? null : 'must be a name of letters, digits and _') },
          extract: extractSpec,
          from: {
            kind: 'object',
            aliases: { method: 'methods', path: 'paths' },
            fields: { methods: stringList(), paths: stringList(), pathRegex: { kind: 'string', nonEmpty: true, check: regexCheck } },
          },
          inject: { kind: 'list', nonEmpty: true, of: { kind: 'object', exactlyOne: TARGET_KEYS, fields: targetFields } },
        },
      },
    },
  },
  check(def, problems) {
    if (def.learn === false && !def.rules) problems.add([], 'correlates nothing: learn is false and there are no rules');
    def.rules?.forEach((r, i) => {
      const e = r.extract;
      if (!e || typeof e !== 'object') return;
      const kinds = ['jsonPath', 'header', 'cookie'].filter((k) => e[k as keyof ExtractSpec] !== undefined);
      if (kinds.length > 1) problems.add(['rules', i, 'extract'], `takes one of jsonPath, header, cookie; got ${kinds.join(' and ')}`);
      else if (kinds.length === 0 && e.regex === undefined) problems.add(['rules', i, 'extract'], 'needs jsonPath, header, cookie or regex');
      else if (e.regex !== undefined && kinds.length === 1 && kinds[0] !== 'header') problems.add(['rules', i, 'extract', 'regex'], 'refines only header (or stands alone, on the body)');
    });
  },
  explain(def) {
    const parts: string[] = [];
    if (def.learn !== false) parts.push(`learn reused response values per ${sessionText(def.session)}`);
    for (const r of def.rules ?? []) parts.push(`corr.${r.var} from ${extractText(r.extract)} into ${r.inject.map(describeTarget).join(', ')}`);
    return `correlate ${parts.join('; ')}`;
  },
  prepare(def, ctx) {
    const learn = def.learn !== false;
    const lookahead = def.lookahead ?? 10_000;
    const options: CorrelationOptions = {
      learn,
      sessionOf: sessionKey(def.session),
      maxValuesPerSession: def.maxValuesPerSession ?? 256,
      sources: new Set(def.sources ?? SOURCES),
      // Manual rules attach to the exchange that produces the value, as it passes: no need to hold anything.
      lookahead: learn ? lookahead : 0,
      manual: (def.rules ?? []).map((r) => ({
        var: r.var,
        rule: toExtractionRule(r.var, r.extract),
        from: r.from ? fromPredicate(r.from) : null,
        inject: r.inject.map(compileTarget),
      })),
    };
    let plan: CorrelationPlan | null = null;
    return {
      learned: () => (plan ? [...plan.explainManual(options.manual.map((m) => m.rule)), ...(learn ? plan.explain(lookahead) : [])] : []),
      start() {
        plan = new CorrelationPlan();
        const runner = startCorrelation(options, plan, ctx);
        if (learn) return runner;
        return { apply: (ex: Exchange) => runner.push(ex)[0]! };
      },
    };
  },
};

export function toExtractionRule(name: string, e: ExtractSpec): ExtractionRule {
  if (e.jsonPath !== undefined) return { var: name, from: 'json', path: e.jsonPath };
  if (e.cookie !== undefined) return { var: name, from: 'cookie', name: e.cookie };
  if (e.header !== undefined) return { var: name, from: 'header', name: e.header.toLowerCase(), ...(e.regex !== undefined && { regex: e.regex }) };
  return { var: name, from: 'body', regex: e.regex! };
}

function fromPredicate(f: NonNullable<NonNullable<CorrelateStep['rules']>[number]['from']>): ExchangePredicate {
  const base = compileFilter({ ...(f.methods && { methods: f.methods }), ...(f.paths && { paths: f.paths }) });
  const re = f.pathRegex ? new RegExp(f.pathRegex) : null;
  return (ex) => base(ex) && (!re || re.test(ex.request.path));
}

function sessionKey(session: CorrelateStep['session']): (ex: Exchange) => string {
  const fallback = (ex: Exchange): string => `${ex.source.captureId}\u0000${ex.source.connection ?? ''}`;
  if (session === undefined || session === 'connection') return fallback;
  if (session === 'capture') return (ex) => ex.source.captureId;
  if (session.header) {
    const name = session.header;
    return (ex) => {
      const v = getHeader(ex.request.headers, name);
      return v === undefined ? fallback(ex) : `h\u0000${v}`;
    };
  }
  const name = session.cookie!;
  return (ex) => {
    const c = getHeader(ex.request.headers, 'cookie');
    const v = c === undefined ? undefined : parseCookieHeader(c).find((p) => p.name === name)?.value;
    return v === undefined ? fallback(ex) : `c\u0000${v}`;
  };
}

function sessionText(s: CorrelateStep['session']): string {
  if (s === undefined || typeof s === 'string') return s ?? 'connection';
  return s.header ? `header ${s.header}` : `cookie ${s.cookie}`;
}

function extractText(e: ExtractSpec): string {
  if (e.jsonPath) return `json ${e.jsonPath}`;
  if (e.cookie) return `cookie ${e.cookie}`;
  if (e.header) return `header ${e.header}${e.regex ? ` ~ /${e.regex}/` : ''}`;
  return `body ~ /${e.regex}/`;
}
