import { channel } from 'node:diagnostics_channel';
import type * as hdr from 'hdr-histogram-js';
import { compareResponses } from './compare-responses.js';
import { crossEndpointChanges } from './cross-endpoint.js';
import { newHistogram, recordLatency, summarize } from './latency-histogram.js';
import { isIgnored, type DiffRules } from './diff-rules.js';
import { displayValue, riskOf, RISK_ORDER, type Difference, type ResponseSide } from './diff-types.js';
import { canonicalPathKeys } from '../../transform/json/json-path.js';
import { templatePath } from './json-compare.js';
import type { DiffExample, DiffFinding, DiffReport, EndpointDiff, NoiseSuppressed, RootCauseCluster, SetAsideField } from './diff-report.js';
import type { VolatileClass } from './volatile-values.js';

/**
 * Field-level statistics over every pair, in memory bounded by the number of
 * endpoints and fields (both capped), never by the number of requests:
 * raw = baseline vs candidate, noise = baseline vs second baseline. A field is
 * reported when it never differed between the baselines, or when its raw rate
 * clearly exceeds its noise rate (absolute and relative thresholds, as Diffy
 * does). Fields that differed in exactly the same pairs share a signature
 * (count + two rolling hashes of the pair numbers) and form one root cause.
 */

export interface PairInput {
  /** Endpoint template, `GET /users/:id`. */
  endpoint: string;
  exchangeId: string;
  baseline: ResponseSide;
  candidate: ResponseSide;
  baseline2?: ResponseSide;
  /** Exchange.redactions of the recorded request: those fields are never reported. */
  redactions?: readonly string[];
}

export interface NoiseThresholds {
  /** raw rate − noise rate must be at least this (0.03 = 3 percentage points). */
  absolute: number;
  /** (raw − noise) ÷ raw must be at least this (0.2 = 20 %). */
  relative: number;
}

export const DEFAULT_NOISE_THRESHOLDS: NoiseThresholds = { absolute: 0.03, relative: 0.2 };

/** One message per compared pair: `{ endpoint, exchangeId, differences, setAside }` (counts), for tools and tests that watch a run. */
export const diffPairChannel = channel('reprise:diff:pair');

const MAX_EXAMPLES = 5;
/** Bounds that keep hostile or id-keyed bodies from growing the statistics without limit. */
const MAX_ENDPOINTS = 2_000;
const MAX_FIELDS_PER_ENDPOINT = 500;
const OTHER_ENDPOINTS = '(other endpoints)';

interface FieldStat {
  field: string;
  kind: Difference['kind'];
  raw: number;
  noise: number;
  h1: number;
  h2: number;
  examples: DiffExample[];
}

interface EndpointStat {
  endpoint: string;
  pairs: number;
  noisePairs: number;
  fields: Map<string, FieldStat>;
  droppedFields: number;
  latency: { baseline: hdr.Histogram; candidate: hdr.Histogram };
  setAside: Map<string, { field: string; cls: VolatileClass; count: number }>;
}

export class DiffAccumulator {
  private readonly endpoints = new Map<string, EndpointStat>();
  private pairNo = 0;
  private noisePairs = 0;
  private hashCompared = 0;
  /** Pairs both sides refused (401, 403, 407): equal answers that compare nothing of the release. */
  private refusedByBoth = 0;
  private readonly skipped: Record<string, number> = {};

  constructor(
    private readonly rules: DiffRules,
    private readonly thresholds: NoiseThresholds = DEFAULT_NOISE_THRESHOLDS,
  ) {}

  /** Count a request that was not compared, by reason. */
  skip(reason: string): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
  }

  get pairs(): number {
    return this.pairNo;
  }

  addPair(p: PairInput): void {
    const n = ++this.pairNo;
    const ep = this.endpointStat(p.endpoint);
    ep.pairs++;
    recordLatency(ep.latency.baseline, p.baseline.latencyMs);
    recordLatency(ep.latency.candidate, p.candidate.latencyMs);
    const setAsideVolatile = p.baseline2 === undefined;
    if (isRefusal(p.baseline.status) && isRefusal(p.candidate.status)) this.refusedByBoth++;
    const redacted = p.redactions && p.redactions.length > 0 ? redactedFields(p.redactions) : undefined;
    const redactedFormFields = redacted && redacted.form.size > 0 ? { redactedFormFields: redacted.form } : {};
    const raw = compareResponses(p.baseline, p.candidate, this.rules, { setAsideVolatile, ...redactedFormFields });
    if (raw.hashCompared) this.hashCompared++;
    if (diffPairChannel.hasSubscribers) {
      diffPairChannel.publish({ endpoint: p.endpoint, exchangeId: p.exchangeId, differences: raw.diffs.length, setAside: raw.setAside.length });
    }
    const seen = new Set<string>();
    for (const d of raw.diffs) {
      const field = templatePath(d.path);
      if (this.skipField(field, d.kind, redacted)) continue;
      const key = `${field}\u0001${d.kind}`;
      const stat = this.fieldStat(ep, key, field, d.kind);
      if (!stat) continue;
      if (stat.examples.length < MAX_EXAMPLES) stat.examples.push(example(p.exchangeId, d));
      if (seen.has(key)) continue; // a field counts once per pair, however many array elements showed it
      seen.add(key);
      stat.raw++;
      stat.h1 = Math.imul(stat.h1 ^ n, 0x9e3779b1) >>> 0;
      stat.h2 = (Math.imul(stat.h2 + n, 0x85ebca6b) ^ (stat.h2 >>> 13)) >>> 0;
    }
    for (const s of raw.setAside) {
      const field = templatePath(s.path);
      const key = `${field}\u0001${s.cls}`;
      const e = ep.setAside.get(key);
      if (e) e.count++;
      else if (ep.setAside.size < MAX_FIELDS_PER_ENDPOINT) ep.setAside.set(key, { field, cls: s.cls, count: 1 });
    }
    if (p.baseline2) {
      ep.noisePairs++;
      this.noisePairs++;
      const noise = compareResponses(p.baseline, p.baseline2, this.rules, { setAsideVolatile: false, ...redactedFormFields });
      const counted = new Set<string>();
      for (const d of noise.diffs) {
        const field = templatePath(d.path);
        const key = `${field}\u0001${d.kind}`;
        if (counted.has(key) || this.skipField(field, d.kind, redacted)) continue;
        counted.add(key);
        const stat = this.fieldStat(ep, key, field, d.kind);
        if (stat) stat.noise++;
      }
    }
  }

  private skipField(field: string, kind: Difference['kind'], redacted: RedactedFields | undefined): boolean {
    if (redacted && isRedacted(field, kind, redacted)) return true;
    return this.rules.ignore.length > 0 && isIgnored(this.rules, field);
  }

  private endpointStat(endpoint: string): EndpointStat {
    let ep = this.endpoints.get(endpoint);
    if (ep) return ep;
    if (this.endpoints.size >= MAX_ENDPOINTS) return this.endpointStat(OTHER_ENDPOINTS);
    ep = {
      endpoint,
      pairs: 0,
      noisePairs: 0,
      fields: new Map(),
      droppedFields: 0,
      latency: { baseline: newHistogram(), candidate: newHistogram() },
      setAside: new Map(),
    };
    this.endpoints.set(endpoint, ep);
    return ep;
  }

  private fieldStat(ep: EndpointStat, key: string, field: string, kind: Difference['kind']): FieldStat | undefined {
    let s = ep.fields.get(key);
    if (s) return s;
    if (ep.fields.size >= MAX_FIELDS_PER_ENDPOINT) {
      ep.droppedFields++;
      return undefined;
    }
    s = { field, kind, raw: 0, noise: 0, h1: 0x811c9dc5, h2: 0x1b873593, examples: [] };
    ep.fields.set(key, s);
    return s;
  }

  /** The report over every pair added so far. */
  finish(meta: Pick<DiffReport, 'mode' | 'sides'> & { unmatched?: DiffReport['unmatched']; notes?: string[] }): DiffReport {
    const endpoints: EndpointDiff[] = [];
    const clusters: RootCauseCluster[] = [];
    const setAside: SetAsideField[] = [];
    const notes = [...(meta.notes ?? [])];
    const totals = { high: 0, medium: 0, low: 0, findings: 0 };
    const measured = this.noisePairs > 0;
    for (const ep of [...this.endpoints.values()].sort((a, b) => a.endpoint.localeCompare(b.endpoint))) {
      const findings: DiffFinding[] = [];
      const suppressed: NoiseSuppressed[] = [];
      const bySignature = new Map<string, DiffFinding[]>();
      for (const s of ep.fields.values()) {
        if (s.raw === 0) continue;
        const rate = s.raw / ep.pairs;
        const noiseRate = ep.noisePairs > 0 ? s.noise / ep.noisePairs : null;
        if (noiseRate !== null && noiseRate > 0 && !this.exceedsNoise(rate, noiseRate)) {
          suppressed.push({ field: s.field, kind: s.kind, rate, noiseRate });
          continue;
        }
        const f: DiffFinding = { endpoint: ep.endpoint, field: s.field, kind: s.kind, risk: riskOf(s.kind), count: s.raw, rate, noiseRate, examples: s.examples };
        findings.push(f);
        totals[f.risk]++;
        totals.findings++;
        const sig = `${s.raw}:${s.h1}:${s.h2}`;
        const group = bySignature.get(sig);
        if (group) group.push(f);
        else bySignature.set(sig, [f]);
      }
      for (const group of bySignature.values()) {
        if (group.length < 2) continue;
        group.sort((a, b) => RISK_ORDER.indexOf(a.risk) - RISK_ORDER.indexOf(b.risk) || a.field.localeCompare(b.field));
        const id = clusters.length + 1;
        for (const f of group) f.cluster = id;
        const risk = RISK_ORDER.find((r) => group.some((f) => f.risk === r))!;
        clusters.push({ id, endpoint: ep.endpoint, fields: group.map((f) => `${f.field} (${f.kind})`), pairs: group[0]!.count, risk });
      }
      findings.sort((a, b) => RISK_ORDER.indexOf(a.risk) - RISK_ORDER.indexOf(b.risk) || b.count - a.count || a.field.localeCompare(b.field));
      for (const s of ep.setAside.values()) setAside.push({ endpoint: ep.endpoint, field: s.field, class: s.cls, count: s.count });
      if (ep.droppedFields > 0) notes.push(`${ep.endpoint}: more than ${MAX_FIELDS_PER_ENDPOINT} distinct differing fields; ${ep.droppedFields} further differences were not tracked`);
      endpoints.push({
        endpoint: ep.endpoint,
        pairs: ep.pairs,
        latency: { baseline: summarize(ep.latency.baseline), candidate: summarize(ep.latency.candidate) },
        findings,
        suppressedAsNoise: suppressed,
      });
    }
    // Worst first: a reader (and a CI log cut at N lines) sees the breaking endpoints before the clean ones.
    const worst = (e: EndpointDiff) => (e.findings.length === 0 ? RISK_ORDER.length : RISK_ORDER.indexOf(e.findings[0]!.risk));
    endpoints.sort((a, b) => worst(a) - worst(b) || a.endpoint.localeCompare(b.endpoint));
    renumberClusters(endpoints, clusters);
    const acrossEndpoints = crossEndpointChanges(endpoints);
    if (this.hashCompared > 0) {
      notes.push(`${this.hashCompared} pair(s) had a body over the ${this.rules.bodyCap}-byte cap or cut at capture: compared by size and sha256 only, without field-level differences`);
    }
    if (this.refusedByBoth > 0) {
      const share = this.refusedByBoth / this.pairNo;
      notes.push(
        `${this.refusedByBoth} of ${this.pairNo} pair(s) were refused by both sides (401/403)${share >= 0.5 ? ': most of this diff compared error pages, not the release' : ''}; ` +
          'recorded credentials are redacted at capture — give the targets their own (--set-header \'Authorization: Bearer ${STAGING_TOKEN}\')',
      );
    }
    if (!measured && setAside.length > 0) {
      notes.push('no second baseline: values that look like timestamps, UUIDs, epochs or generated ids were set aside as noise (listed under "set aside"); run with --baseline2 to measure noise instead');
    } else if (!measured) {
      notes.push('no second baseline: noise was not measured; volatile-looking values (timestamps, UUIDs, epochs, generated ids) would have been set aside');
    }
    return {
      version: 1,
      mode: meta.mode,
      sides: meta.sides,
      generatedAt: new Date().toISOString(),
      pairs: this.pairNo,
      noise: { measured, pairs: this.noisePairs, absoluteThreshold: this.thresholds.absolute, relativeThreshold: this.thresholds.relative },
      skipped: { ...this.skipped },
      ...(meta.unmatched ? { unmatched: meta.unmatched } : {}),
      setAside,
      endpoints,
      clusters,
      acrossEndpoints,
      totals,
      notes,
    };
  }

  private exceedsNoise(rate: number, noiseRate: number): boolean {
    const excess = rate - noiseRate;
    return excess >= this.thresholds.absolute && excess / rate >= this.thresholds.relative;
  }
}

/** Root causes numbered in reading order (worst endpoint first), so #1 is the first one a reader meets. */
function renumberClusters(endpoints: readonly EndpointDiff[], clusters: RootCauseCluster[]): void {
  const next = new Map<number, number>();
  for (const ep of endpoints) for (const f of ep.findings) if (f.cluster !== undefined && !next.has(f.cluster)) next.set(f.cluster, next.size + 1);
  for (const ep of endpoints) for (const f of ep.findings) if (f.cluster !== undefined) f.cluster = next.get(f.cluster)!;
  for (const c of clusters) c.id = next.get(c.id) ?? c.id;
  clusters.sort((a, b) => a.id - b.id);
}

function example(exchangeId: string, d: Difference): DiffExample {
  const e: DiffExample = { exchangeId, path: d.path };
  const left = displayValue(d, d.left);
  const right = displayValue(d, d.right);
  if (left !== undefined) e.baseline = left;
  if (right !== undefined) e.candidate = right;
  return e;
}

interface RedactedFields {
  /**
   * `response.body`: redact edited the body as a whole (a text body by detector, or more than 64
   * places in a JSON body), so its content (`body` value and size, every `$` field) differs by design.
   */
  body: boolean;
  /** `response.body.$.user.email` → `$.user.email`; `response.headers.Authorization` → `header.authorization`. */
  exact: Set<string>;
  /** `response.body.form.access_token` → `access_token`: a field of a form body, masked before the body is compared. */
  form: Set<string>;
  /** `response.body.$.a.b..*` (a mark bounded for depth or length: transform/json/json-path.ts) → `$.a.b`: it and all below. */
  under: string[];
}

function redactedFields(redactions: readonly string[]): RedactedFields {
  const out: RedactedFields = { body: false, exact: new Set(), form: new Set(), under: [] };
  for (const r of redactions) {
    if (r === 'response.body') out.body = true;
    else if (r.startsWith('response.body.form.')) out.form.add(r.slice('response.body.form.'.length));
    else if (r.startsWith('response.body.')) {
      // Marks spell quoted keys `['a.b']`; ones written `["a.b"]` are read too.
      const path = canonicalPathKeys(r.slice('response.body.'.length));
      if (path.endsWith('..*')) out.under.push(templatePath(path.slice(0, -3)));
      else out.exact.add(templatePath(path));
    } else if (r.startsWith('response.headers.')) out.exact.add(`header.${r.slice('response.headers.'.length).toLowerCase()}`);
  }
  return out;
}

function isRedacted(field: string, kind: Difference['kind'], redacted: RedactedFields): boolean {
  // A body redacted whole still has its kind (JSON stays JSON) and is present or not: only its content is forgiven.
  if (redacted.body && (field.startsWith('$') || (field === 'body' && (kind === 'value' || kind === 'size')))) return true;
  if (redacted.exact.has(field)) return true;
  for (const p of redacted.under) {
    if (field.startsWith(p) && (field.length === p.length || field[p.length] === '.' || field[p.length] === '[')) return true;
  }
  return false;
}

function isRefusal(status: number | null): boolean {
  return status === 401 || status === 403 || status === 407;
}
