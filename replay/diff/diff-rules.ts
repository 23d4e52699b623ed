import { RepriseError } from '../../errors.js';
import { canonicalPathKeys } from '../../transform/json/json-path.js';
import { checkArrayRulePath } from './array-rules.js';
import { checkIgnoreRule, compileIgnoreRule } from './ignore-rules.js';

/**
 * How two responses are compared: plain, serializable data validated once at
 * the boundary (`compileDiffRules`) and frozen, so a run can print exactly
 * what it forgave and why.
 */

/** How the elements of one JSON array are paired. */
export type ArrayMode = { mode: 'index' } | { mode: 'multiset' } | { mode: 'key'; key: string };

export interface DiffRulesInput {
  /**
   * Per-path array pairing, keyed by field template as findings are named (`$.items`, `$.users[*].roles`);
   * a concrete path (`$.items[3].tags`) or a glob is refused (array-rules.ts). Default: by index, with reorder detection.
   */
  arrays?: Record<string, ArrayMode>;
  /** Numbers closer than this are equal (absolute). */
  absoluteTolerance?: number;
  /** Numbers within this fraction of each other are equal (0.001 = 0.1 %). */
  relativeTolerance?: number;
  /** `1` vs `1.0` is a difference (compares number text, not value). Default false. */
  strictNumberText?: boolean;
  /** `null` and an absent key are the same. Default false. */
  nullEqualsMissing?: boolean;
  /** Field paths never reported: exact, a prefix (`$.meta` covers `$.meta.x`), or a glob (`$.**.updatedAt`, `header.x-*`). */
  ignore?: string[];
  /** Only these headers are compared (lower-case names); empty = all. */
  headerAllow?: string[];
  /** Headers never compared. */
  headerDeny?: string[];
  /** Headers whose value is forgiven (presence still compared); added to the built-in list. */
  volatileHeaders?: string[];
  /** Decoded bytes kept per body; larger bodies compare by size and sha256. Default 1 MiB. */
  bodyCap?: number;
}

export interface DiffRules {
  readonly arrays: ReadonlyMap<string, ArrayMode>;
  readonly absoluteTolerance: number;
  readonly relativeTolerance: number;
  readonly strictNumberText: boolean;
  readonly nullEqualsMissing: boolean;
  readonly ignore: readonly RegExp[];
  readonly ignoreText: readonly string[];
  readonly headerAllow: ReadonlySet<string> | null;
  readonly headerDeny: ReadonlySet<string>;
  readonly volatileHeaders: ReadonlySet<string>;
  readonly bodyCap: number;
}

/**
 * Headers whose value differs on every response by design (clocks, request
 * and trace ids, cache hops). Their presence still matters: a candidate that
 * stops sending `ETag` breaks caches.
 */
export const VOLATILE_HEADERS = [
  'date', 'expires', 'last-modified', 'age', 'etag', 'x-request-id', 'x-correlation-id', 'request-id',
  'x-amzn-requestid', 'x-amzn-trace-id', 'x-amz-request-id', 'x-amz-id-2', 'traceparent', 'tracestate',
  'x-trace-id', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-cloud-trace-context',
  'server-timing', 'x-response-time', 'x-runtime', 'cf-ray', 'x-served-by', 'x-cache', 'x-cache-hits', 'x-timer',
  'via', 'report-to', 'nel',
];

/**
 * Framing and connection headers: they describe one hop, not the response
 * (the same body may arrive chunked or with a length), so they are never compared.
 */
export const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'proxy-connection', 'upgrade', 'trailer']);

export const DEFAULT_BODY_CAP = 1 << 20;

/**
 * Validate and freeze comparison rules; every problem is reported at once.
 *
 * @example
 * const rules = compileDiffRules({ arrays: { '$.tags': { mode: 'multiset' } }, ignore: ['$.meta'] });
 */
export function compileDiffRules(input: DiffRulesInput = {}): DiffRules {
  const problems: string[] = [];
  const arrays = new Map<string, ArrayMode>();
  for (const [path, mode] of Object.entries(input.arrays ?? {})) {
    const why = checkArrayRulePath(path);
    if (why !== null) problems.push(`arrays ${why}`);
    if (!['index', 'multiset', 'key'].includes(mode?.mode)) problems.push(`arrays "${path}": mode must be index, multiset or key, got ${JSON.stringify(mode?.mode)}`);
    else if (mode.mode === 'key' && (typeof mode.key !== 'string' || mode.key.trim() === '')) problems.push(`arrays "${path}": key mode needs the field that identifies an element`);
    arrays.set(canonicalPathKeys(path), mode);
  }
  const tol = (name: string, v: number | undefined): number => {
    if (v === undefined) return 0;
    if (!Number.isFinite(v) || v < 0) problems.push(`${name}: must be a number >= 0, got ${v}`);
    return v;
  };
  const absoluteTolerance = tol('absoluteTolerance', input.absoluteTolerance);
  const relativeTolerance = tol('relativeTolerance', input.relativeTolerance);
  const bodyCap = input.bodyCap ?? DEFAULT_BODY_CAP;
  if (!Number.isInteger(bodyCap) || bodyCap < 1) problems.push(`bodyCap: must be a positive integer, got ${bodyCap}`);
  const ignoreText = input.ignore ?? [];
  for (const p of ignoreText) {
    if (p.trim() === '') problems.push('ignore: empty pattern');
    else {
      const why = checkIgnoreRule(p);
      if (why !== null) problems.push(`ignore ${why}`);
    }
  }
  if (problems.length > 0) throw new RepriseError('DIFF_OPTIONS_INVALID', problems.join('; '));
  const lower = (xs: string[] | undefined) => new Set((xs ?? []).map((x) => x.toLowerCase()));
  const allow = lower(input.headerAllow);
  return Object.freeze({
    arrays,
    absoluteTolerance,
    relativeTolerance,
    strictNumberText: input.strictNumberText ?? false,
    nullEqualsMissing: input.nullEqualsMissing ?? false,
    ignore: ignoreText.map(compileIgnoreRule),
    ignoreText,
    headerAllow: allow.size > 0 ? allow : null,
    headerDeny: lower(input.headerDeny),
    volatileHeaders: new Set([...VOLATILE_HEADERS, ...lower(input.volatileHeaders)]),
    bodyCap,
  });
}

/** The field is one the user asked never to report. */
export function isIgnored(rules: DiffRules, templatePath: string): boolean {
  for (const re of rules.ignore) if (re.test(templatePath)) return true;
  return false;
}

