/**
 * Reading summary.json back (a shard's result, last week's baseline). The
 * file comes from disk, so it is checked field by field before anything
 * trusts it: counts are whole and consistent (sent + dropped = requests, the
 * latency histograms hold exactly `sent` values), every encoded histogram is
 * a bounded, well-formed HdrHistogram. A problem is one REPLAY_SUMMARY_INVALID
 * naming the file and the field path.
 */
import { readFile } from 'node:fs/promises';
import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import { RepriseError } from '../../errors.js';
import { STATUS_CLASSES } from '../metrics/group-stats.js';
import { MAX_EXAMPLE_CHARS } from '../metrics/error-examples.js';
import { checkEncodedHistogram } from '../metrics/histogram.js';
import { MAX_PLAN_SECONDS } from '../schedule/plan-bounds.js';
import { SUMMARY_FORMAT, SUMMARY_VERSION, type ReplaySummaryJson } from './summary-json.js';

/** Far above a real summary (a day of 64 s buckets, 200 endpoints: a few MB). */
const MAX_FILE_BYTES = 256 << 20;
const MAX_SERIES_BUCKETS = 1_000_000;
const MAX_ENDPOINTS = 100_000;
const MAX_THRESHOLDS = 10_000;
// Eight kinds today; room for more from a newer writer, not for a dump.
const MAX_ERROR_KINDS = 32;

type Json = Record<string, unknown>;

class SummaryChecker {
  constructor(readonly file: string) {}

  fail(path: string, message: string): never {
    throw new RepriseError('REPLAY_SUMMARY_INVALID', `${path ? `${path}: ` : ''}${message}`, { location: { file: this.file } });
  }

  object(v: unknown, path: string): Json {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `expected an object, got ${describe(v)}`);
    return v as Json;
  }

  array(v: unknown, path: string, max: number): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `expected an array, got ${describe(v)}`);
    if (v.length > max) this.fail(path, `${v.length} entries, more than ${max}`);
    return v;
  }

  count(v: unknown, path: string): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) this.fail(path, `expected a whole number ≥ 0, got ${describe(v)}`);
    return v;
  }

  number(v: unknown, path: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) this.fail(path, `expected a finite number ≥ 0, got ${describe(v)}`);
    return v;
  }

  string(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, `expected a string, got ${describe(v)}`);
    return v;
  }

  histogram(v: unknown, path: string, digits: 1 | 3, expectedCount: number | undefined): void {
    const s = this.string(v, path);
    if (s === '' && expectedCount === undefined) return;
    const problem = checkEncodedHistogram(s, digits);
    if (problem) this.fail(path, `bad histogram: ${problem}`);
    if (expectedCount !== undefined) {
      const n = decodeFromCompressedBase64(s, 64, false).totalCount;
      if (n !== expectedCount) this.fail(path, `histogram holds ${n} values where the counts say ${expectedCount}`);
    }
  }

  group(v: unknown, path: string): void {
    const g = this.object(v, path);
    const c = (k: string): number => this.count(g[k], `${path}.${k}`);
    const requests = c('requests');
    const sent = c('sent');
    const dropped = c('dropped');
    const completed = c('completed');
    const errors = c('errors');
    const late = c('late');
    c('bytesSent');
    c('bytesReceived');
    if (sent + dropped !== requests) this.fail(path, `sent (${sent}) + dropped (${dropped}) ≠ requests (${requests})`);
    if (completed > requests || errors > requests || late > sent) this.fail(path, 'completed, errors or late exceed the requests they count');
    const status = this.object(g.status, `${path}.status`);
    const statusSum = STATUS_CLASSES.reduce((n, k) => n + this.count(status[k], `${path}.status.${k}`), 0);
    if (statusSum !== completed) this.fail(`${path}.status`, `status classes add up to ${statusSum}, completed is ${completed}`);
    const kinds = this.object(g.errorsByKind, `${path}.errorsByKind`);
    const kindSum = Object.entries(kinds).reduce((n, [k, x]) => n + this.count(x, `${path}.errorsByKind.${k}`), 0);
    if (kindSum !== errors) this.fail(`${path}.errorsByKind`, `kinds add up to ${kindSum}, errors is ${errors}`);
    const h = this.object(g.histograms, `${path}.histograms`);
    for (const k of ['latency', 'uncorrected', 'lag'] as const) {
      this.object(g[k], `${path}.${k}`);
      this.histogram(h[k], `${path}.histograms.${k}`, 3, sent);
    }
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${v.length > 20 ? `${v.slice(0, 20)}…` : v}"`;
  return typeof v === 'object' ? 'an object' : String(v);
}

/** 1-based line:column of a character offset, for JSON syntax errors. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `${line}:${offset - before.lastIndexOf('\n')}`;
}

/**
 * Parses and checks a summary.json's text.
 *
 * @example
 * const summary = parseReplaySummary(await readFile('shard-1/summary.json', 'utf8'), 'shard-1/summary.json');
 */
export function parseReplaySummary(text: string, file: string): ReplaySummaryJson {
  const check = new SummaryChecker(file);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const at = /position (\d+)/.exec((err as Error).message);
    check.fail('', `not JSON${at ? ` (at ${lineColumn(text, Number(at[1]))})` : text.trim() === '' ? ' (empty file)' : ' (truncated or nested too deeply?)'}`);
  }
  const top = check.object(raw, '');
  if (top.format !== SUMMARY_FORMAT) check.fail('format', `expected "${SUMMARY_FORMAT}", got ${describe(top.format)} — not a reprise replay summary`);
  if (top.version !== SUMMARY_VERSION) {
    check.fail('version', typeof top.version === 'number' && top.version > SUMMARY_VERSION ? `version ${top.version} was written by a newer reprise; this one reads ${SUMMARY_VERSION}` : `expected ${SUMMARY_VERSION}, got ${describe(top.version)}`);
  }
  check.string(top.target, 'target');
  check.string(top.startedAt, 'startedAt');
  check.number(top.durationS, 'durationS');
  check.object(top.options, 'options');
  if (typeof top.passed !== 'boolean') check.fail('passed', `expected true or false, got ${describe(top.passed)}`);
  if (top.plan !== null) {
    const plan = check.object(top.plan, 'plan');
    check.count(plan.sends, 'plan.sends');
    for (const k of ['durationUs', 'meanRate', 'peakRate']) check.number(plan[k], `plan.${k}`);
  }
  if (top.plannedPerSecond !== null) check.array(top.plannedPerSecond, 'plannedPerSecond', MAX_PLAN_SECONDS).forEach((n, i) => check.count(n, `plannedPerSecond[${i}]`));
  check.array(top.thresholds, 'thresholds', MAX_THRESHOLDS).forEach((t, i) => {
    const o = check.object(t, `thresholds[${i}]`);
    check.string(o.expression, `thresholds[${i}].expression`);
    if (typeof o.passed !== 'boolean') check.fail(`thresholds[${i}].passed`, `expected true or false, got ${describe(o.passed)}`);
  });

  if (top.errorExamples !== undefined) {
    const examples = check.object(top.errorExamples, 'errorExamples');
    if (Object.keys(examples).length > MAX_ERROR_KINDS) check.fail('errorExamples', `${Object.keys(examples).length} kinds, more than ${MAX_ERROR_KINDS}`);
    for (const [kind, message] of Object.entries(examples)) {
      if (kind.length > 32) check.fail('errorExamples', `kind "${kind.slice(0, 20)}…" is longer than 32 characters`);
      if (check.string(message, `errorExamples.${kind}`).length > MAX_EXAMPLE_CHARS) check.fail(`errorExamples.${kind}`, `longer than ${MAX_EXAMPLE_CHARS} characters`);
    }
  }

  const m = check.object(top.metrics, 'metrics');
  if (m.version !== 1) check.fail('metrics.version', `expected 1, got ${describe(m.version)}`);
  const options = check.object(m.options, 'metrics.options');
  const maxEndpoints = check.count(options.maxEndpoints, 'metrics.options.maxEndpoints');
  if (maxEndpoints < 1 || maxEndpoints > MAX_ENDPOINTS) check.fail('metrics.options.maxEndpoints', `must be 1..${MAX_ENDPOINTS}`);
  check.number(options.lateThresholdUs, 'metrics.options.lateThresholdUs');
  const maxBuckets = check.count(options.maxSeriesBuckets, 'metrics.options.maxSeriesBuckets');
  if (maxBuckets < 2 || maxBuckets > MAX_SERIES_BUCKETS) check.fail('metrics.options.maxSeriesBuckets', `must be 2..${MAX_SERIES_BUCKETS}`);
  for (const k of ['firstIntendedUs', 'lastIntendedUs', 'firstSentUs', 'lastSentUs', 'lastDoneUs', 'plannedRate', 'achievedRate']) check.number(m[k], `metrics.${k}`);
  check.group(m.overall, 'metrics.overall');
  const endpoints = check.object(m.endpoints, 'metrics.endpoints');
  const names = Object.keys(endpoints);
  if (names.length > maxEndpoints) check.fail('metrics.endpoints', `${names.length} endpoints, more than maxEndpoints (${maxEndpoints})`);
  for (const name of names) check.group(endpoints[name], `metrics.endpoints[${JSON.stringify(name)}]`);
  const overall = m.overall as Json;
  const endpointRequests = names.reduce((n, k) => n + ((endpoints[k] as Json).requests as number), 0);
  if (names.length > 0 && endpointRequests !== overall.requests) check.fail('metrics.endpoints', `endpoint requests add up to ${endpointRequests}, overall is ${String(overall.requests)}`);

  const series = check.object(m.series, 'metrics.series');
  const bucketS = check.count(series.bucketS, 'metrics.series.bucketS');
  if (bucketS < 1 || bucketS > 2 ** 40 || (bucketS & (bucketS - 1)) !== 0) check.fail('metrics.series.bucketS', `must be a power of two ≥ 1, got ${bucketS}`);
  if (series.maxBuckets !== maxBuckets) check.fail('metrics.series.maxBuckets', `differs from metrics.options.maxSeriesBuckets (${maxBuckets})`);
  check.array(series.points, 'metrics.series.points', maxBuckets).forEach((p, i) => {
    const path = `metrics.series.points[${i}]`;
    const o = check.object(p, path);
    for (const k of ['planned', 'sent', 'errors']) check.count(o[k], `${path}.${k}`);
    for (const k of ['startS', 'p50Us', 'p99Us']) check.number(o[k], `${path}.${k}`);
    check.histogram(o.histogram, `${path}.histogram`, 1, undefined);
  });
  const planned = (series.points as Json[]).reduce((n, p) => n + (p.planned as number), 0);
  if (planned !== overall.requests) check.fail('metrics.series.points', `planned sends add up to ${planned}, overall requests is ${String(overall.requests)}`);
  return top as unknown as ReplaySummaryJson;
}

/**
 * @example
 * const shards = await Promise.all(paths.map(readReplaySummary));
 */
export async function readReplaySummary(path: string): Promise<ReplaySummaryJson> {
  let text: string;
  try {
    const buf = await readFile(path);
    if (buf.length > MAX_FILE_BYTES) throw new RepriseError('REPLAY_SUMMARY_INVALID', `larger than ${MAX_FILE_BYTES >> 20} MiB; not a summary.json`, { location: { file: path } });
    text = buf.toString('utf8');
  } catch (err) {
    if (err instanceof RepriseError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new RepriseError(code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE', `cannot read replay summary: ${(err as Error).message}`, { cause: err, location: { file: path } });
  }
  return parseReplaySummary(text, path);
}
