import { getHeader, lowerCased, type Exchange, type Header } from '../store/exchange.js';
import { compileFilter, type ExchangePredicate } from '../store/exchange-filter.js';
import { regexCheck, stringList, type FieldSpec, type ValueCheck } from './config/field-spec.js';
import type { FilterCriteria, FilterStep } from './step-definitions.js';
import type { StepKind } from './step-types.js';

/**
 * `filter`: keep what `include` matches (everything when absent), then drop
 * what `exclude` or a preset matches. Method, host, path-glob and status
 * matching is store/exchange-filter.ts's, so `--path` on the CLI and `paths:`
 * here mean the same thing.
 */

export const PRESETS = ['drop-health-checks', 'drop-static-assets'] as const;

// Probe endpoints, optionally under one well-known prefix (/actuator/health, /api/ping, /healthz/ready).
const HEALTH_PATH = /^(?:\/actuator|\/api|\/_?internal|\/-)?\/(?:_?health(?:z|check)?|healthy|readyz?|readiness|livez?|liveness|ping|metrics|status)(?:\/(?:live|ready|liveness|readiness))?\/?$/i;
// Load-balancer and orchestrator probes announce themselves.
const PROBE_AGENT = /^(?:kube-probe|ELB-HealthChecker|GoogleHC|Consul Health Check)\b/i;
const STATIC_EXT = /\.(?:js|mjs|cjs|css|map|png|jpe?g|gif|svg|ico|webp|avif|bmp|woff2?|ttf|otf|eot|mp4|webm|mp3|wav)$/i;
const STATIC_DIR = /\/(?:static|assets|_next\/static|public\/build)\//i;

export function isHealthCheck(ex: Exchange): boolean {
  return HEALTH_PATH.test(ex.request.path) || PROBE_AGENT.test(getHeader(ex.request.headers, 'user-agent') ?? '');
}

export function isStaticAsset(ex: Exchange): boolean {
  const p = ex.request.path;
  return STATIC_EXT.test(p) || STATIC_DIR.test(p) || p.startsWith('/favicon');
}

const statusCheck: ValueCheck<string> = (s) => {
  try {
    compileFilter({ statuses: [s] });
    return null;
  } catch (err) {
    return (err as Error).message;
  }
};

const pathGlobCheck: ValueCheck<string> = (s) =>
  !s.startsWith('/') && !s.startsWith('*') ? `path glob "${s}" must start with / or *` : /\*{3,}/.test(s) ? `path glob "${s}" has ***; use * (one segment) or ** (any)` : null;

const hostGlobCheck: ValueCheck<string> = (s) =>
  /[/:\s]/.test(s) ? `host glob "${s}" must be a host name without scheme, port or path (like *.example.com)` : /\*{3,}/.test(s) ? `host glob "${s}" has ***` : null;

const headerMatch: FieldSpec = {
  kind: 'list',
  nonEmpty: true,
  of: { kind: 'object', required: ['name'], fields: { name: { kind: 'string', nonEmpty: true }, value: { kind: 'string', check: regexCheck } } },
};

const criteria: FieldSpec = {
  kind: 'object',
  aliases: { method: 'methods', host: 'hosts', path: 'paths', status: 'statuses', header: 'headers', regex: 'pathRegex' },
  fields: {
    methods: stringList(),
    hosts: stringList(hostGlobCheck),
    paths: stringList(pathGlobCheck),
    pathRegex: { kind: 'string', nonEmpty: true, check: regexCheck },
    statuses: stringList(statusCheck),
    headers: headerMatch,
    responseHeaders: headerMatch,
  },
};

const criteriaOrList: FieldSpec = { kind: 'union', expected: 'a mapping of criteria or a list of them', variants: [criteria, { kind: 'list', nonEmpty: true, of: criteria }] };

export const filterStepKind: StepKind<FilterStep> = {
  type: 'filter',
  summary: 'Keep or drop exchanges by method, host, path glob or regex, status or header; presets for health checks and static assets.',
  fields: {
    include: criteriaOrList,
    exclude: criteriaOrList,
    presets: { kind: 'list', nonEmpty: true, of: { kind: 'string', enum: PRESETS } },
  },
  check(def, problems) {
    if (!def.include && !def.exclude && !def.presets) problems.add([], 'filters nothing: give include, exclude or presets');
  },
  explain(def) {
    const parts: string[] = [];
    if (def.include) parts.push(`keep ${describeList(def.include)}`);
    if (def.exclude) parts.push(`drop ${describeList(def.exclude)}`);
    if (def.presets) parts.push(def.presets.join(', '));
    return `filter ${parts.join('; ')}`;
  },
  prepare(def) {
    const keep = compileFilterStep(def);
    const run = { apply: (ex: Exchange) => (keep(ex) ? ex : null) };
    return { start: () => run };
  },
};

/** The predicate a filter step applies: true keeps the exchange. */
export function compileFilterStep(def: FilterStep): ExchangePredicate {
  const include = def.include ? anyOf(def.include) : null;
  const exclude = def.exclude ? anyOf(def.exclude) : null;
  const health = def.presets?.includes('drop-health-checks') ?? false;
  const statics = def.presets?.includes('drop-static-assets') ?? false;
  return (ex) => {
    if (include && !include(ex)) return false;
    if (exclude?.(ex)) return false;
    if (health && isHealthCheck(ex)) return false;
    if (statics && isStaticAsset(ex)) return false;
    return true;
  };
}

function anyOf(c: FilterCriteria | FilterCriteria[]): ExchangePredicate {
  const list = (Array.isArray(c) ? c : [c]).map(compileCriteria);
  return list.length === 1 ? list[0]! : (ex) => list.some((p) => p(ex));
}

function compileCriteria(c: FilterCriteria): ExchangePredicate {
  const tests: ExchangePredicate[] = [];
  const { methods, hosts, paths, statuses } = c;
  if (methods || hosts || paths || statuses) {
    tests.push(compileFilter({ ...(methods && { methods }), ...(hosts && { hosts }), ...(paths && { paths }), ...(statuses && { statuses }) }));
  }
  if (c.pathRegex) {
    const re = new RegExp(c.pathRegex);
    tests.push((ex) => re.test(ex.request.path));
  }
  if (c.headers) {
    const m = headerMatcher(c.headers);
    tests.push((ex) => m(ex.request.headers));
  }
  if (c.responseHeaders) {
    const m = headerMatcher(c.responseHeaders);
    tests.push((ex) => ex.response !== null && m(ex.response.headers));
  }
  return (ex) => tests.every((t) => t(ex));
}

/** Any of the listed headers present (and matching its value regex, when given). */
function headerMatcher(list: NonNullable<FilterCriteria['headers']>): (headers: readonly Header[]) => boolean {
  const wanted = list.map((h) => ({ name: h.name.toLowerCase(), re: h.value === undefined ? null : new RegExp(h.value) }));
  return (headers) => headers.some(([n, v]) => {
    const lower = lowerCased(n);
    return wanted.some((w) => w.name === lower && (!w.re || w.re.test(v)));
  });
}

function describeList(c: FilterCriteria | FilterCriteria[]): string {
  return (Array.isArray(c) ? c : [c]).map(describeCriteria).join(' or ');
}

function describeCriteria(c: FilterCriteria): string {
  const parts: string[] = [];
  if (c.methods) parts.push(c.methods.join('|'));
  if (c.hosts) parts.push(`host ${c.hosts.join('|')}`);
  if (c.paths) parts.push(`path ${c.paths.join('|')}`);
  if (c.pathRegex) parts.push(`path ~ /${c.pathRegex}/`);
  if (c.statuses) parts.push(`status ${c.statuses.join('|')}`);
  if (c.headers) parts.push(`header ${c.headers.map((h) => (h.value ? `${h.name} ~ /${h.value}/` : h.name)).join('|')}`);
  if (c.responseHeaders) parts.push(`response header ${c.responseHeaders.map((h) => h.name).join('|')}`);
  return parts.length > 0 ? parts.join(' ') : 'everything';
}
