/**
 * The threshold language (docs/replay-reports.md):
 *
 *   threshold := [ "endpoint[" template "]." ] metric op limit
 *   op        := "<" | "<=" | ">" | ">=" | "=="
 *   limit     := number unit            latency: us | µs | ms | s (required)
 *              | number "%" | number    ratio (a plain number is a fraction, ≤ 1)
 *              | number ["/s"] | [number "*"] "target"     throughput
 *              | integer                count
 *
 * Spaces are allowed between tokens. A hand-written scanner rather than a
 * regex, so that every error names the 1-based column where the expression
 * stopped making sense.
 */
import { RepriseError } from '../../errors.js';
import { lookupMetric, THRESHOLD_METRICS, type MetricKind } from './threshold-metrics.js';

export type ThresholdOp = '<' | '<=' | '>' | '>=' | '==';

export interface Threshold {
  /** The expression as written (trimmed), for reports. */
  expression: string;
  /** Endpoint template the threshold is scoped to; absent for the whole run. */
  endpoint?: string;
  metric: string;
  kind: MetricKind;
  op: ThresholdOp;
  /**
   * The limit in base units: µs (latency), a fraction (ratio), sends/s
   * (throughput), a count. When `ofTarget` is set, the limit is
   * `limit × targetRate` and this holds the factor.
   */
  limit: number;
  ofTarget?: true;
}

// Longer than any real expression; keeps a hostile argument out of error messages.
const MAX_LENGTH = 1000;
const LATENCY_UNITS: Record<string, number> = { us: 1, µs: 1, ms: 1000, s: 1_000_000 };

class Scanner {
  pos = 0;
  constructor(
    readonly text: string,
    readonly original: string,
    readonly offset: number,
  ) {}

  fail(message: string, at = this.pos): never {
    const column = this.offset + at + 1;
    throw new RepriseError('REPLAY_THRESHOLD_INVALID', `threshold ${quote(this.original)}, column ${column}: ${message}`, {
      location: { column },
    });
  }

  skipSpaces(): void {
    while (this.text[this.pos] === ' ' || this.text[this.pos] === '\t') this.pos++;
  }

  peekIs(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }

  eat(s: string): boolean {
    if (!this.peekIs(s)) return false;
    this.pos += s.length;
    return true;
  }

  /**
   * A metric name: letters, digits, '_' and '.' (p99.9), k6's `p(95)`; '-'
   * too, only to say "did you mean error_rate".
   */
  word(): string {
    const m = /^[A-Za-z0-9_.-]+(?:\([0-9.]*\))?/.exec(this.text.slice(this.pos));
    const w = m ? m[0] : '';
    this.pos += w.length;
    return w;
  }

  /** An unsigned decimal number, optionally with an exponent; null when there is none. */
  number(): number | null {
    const m = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.pos));
    if (!m) return null;
    const n = Number(m[0]);
    if (!Number.isFinite(n)) this.fail(`${m[0]} is too large`);
    this.pos += m[0].length;
    return n;
  }

  rest(): string {
    return this.text.slice(this.pos);
  }
}

/** JSON quoting shows control characters and quotes unambiguously on one line. */
function quote(s: string): string {
  return JSON.stringify(s);
}

/**
 * Parses one threshold expression.
 *
 * @example
 * parseThreshold('p99<250ms');                        // { metric: 'p99', op: '<', limit: 250000, ... }
 * parseThreshold('rate>=0.99*target');                // { metric: 'rate', limit: 0.99, ofTarget: true, ... }
 * parseThreshold('endpoint[GET /users/:id].p99<100ms');
 */
export function parseThreshold(text: string): Threshold {
  const lead = text.length - text.trimStart().length;
  const trimmed = text.trim();
  // Annotated so that `s.fail()` (returns never) narrows the checks after it.
  const s: Scanner = new Scanner(trimmed, text.length > MAX_LENGTH ? `${text.slice(0, 40)}…` : text, lead);
  if (text.length > MAX_LENGTH) s.fail(`longer than ${MAX_LENGTH} characters`, MAX_LENGTH - lead);
  if (trimmed === '') s.fail('empty threshold; write e.g. p99<250ms or error_rate<1%');
  const bad = /[\u0000-\u001f\u007f]/.exec(trimmed);
  if (bad) s.fail(`control character ${quote(bad[0])}`, bad.index);

  let endpoint: string | undefined;
  if (s.eat('endpoint[')) {
    const close = trimmed.indexOf('].', s.pos);
    if (close < 0) s.fail('unclosed endpoint[...]: expected "]." followed by a metric, as in endpoint[GET /users/:id].p99<100ms');
    endpoint = trimmed.slice(s.pos, close).trim();
    if (endpoint === '') s.fail('empty endpoint template inside endpoint[]');
    s.pos = close + 2;
  }

  s.skipSpaces();
  const metricAt = s.pos;
  const written = s.word();
  if (written === '') s.fail(`expected a metric name (p99, error_rate, rate, …), found ${quote(s.rest().slice(0, 20))}`);
  const found = lookupMetric(written);
  if (!found) s.fail(`unknown metric ${quote(written)}${suggest(written)}`, metricAt);
  const { name: metric, def } = found;
  if (def.runOnly && endpoint !== undefined) s.fail(`${metric} is measured for the whole run, not per endpoint`, metricAt);

  s.skipSpaces();
  const opAt = s.pos;
  const op = (['<=', '>=', '==', '<', '>'] as const).find((o) => s.eat(o));
  if (!op) s.fail(s.pos >= trimmed.length ? 'missing operator and limit (expected <, <=, >, >= or ==)' : `expected an operator (<, <=, >, >=, ==), found ${quote(s.rest().slice(0, 10))}`, opAt);

  s.skipSpaces();
  const limit = parseLimit(s, def.kind, endpoint !== undefined);
  s.skipSpaces();
  if (s.pos < trimmed.length) s.fail(`unexpected ${quote(s.rest().slice(0, 20))} after the limit`);

  return {
    expression: trimmed,
    ...(endpoint !== undefined ? { endpoint } : {}),
    metric,
    kind: def.kind,
    op,
    limit: limit.value,
    ...(limit.ofTarget ? { ofTarget: true as const } : {}),
  };
}

function parseLimit(s: Scanner, kind: MetricKind, scoped: boolean): { value: number; ofTarget: boolean } {
  const numberAt = s.pos;
  if (kind === 'throughput' && s.peekIs('target')) return targetLimit(s, 1, scoped);
  if (s.peekIs('-')) s.fail('a limit cannot be negative');
  const n = s.number();
  if (n === null) s.fail(s.pos >= s.text.length ? 'missing limit after the operator' : `expected a number, found ${quote(s.rest().slice(0, 10))}`);
  s.skipSpaces();
  const unitAt = s.pos;
  switch (kind) {
    case 'latency': {
      const unit = /^(?:us|µs|ms|s)(?![A-Za-z])/.exec(s.rest())?.[0];
      if (unit === undefined) {
        s.fail(s.pos >= s.text.length ? `a latency needs a unit: ${n}ms, ${n}us or ${n}s` : `unknown latency unit ${quote(s.rest().slice(0, 10))}; use us, ms or s`, unitAt);
      }
      s.pos += unit.length;
      return { value: n * LATENCY_UNITS[unit]!, ofTarget: false };
    }
    case 'ratio': {
      const fraction = s.eat('%') ? n / 100 : n;
      if (fraction > 1) s.fail(`a rate cannot exceed 100% (${s.text[s.pos - 1] === '%' ? `${n}%` : `${n} as a fraction; did you mean ${n}%?`})`, numberAt);
      return { value: fraction, ofTarget: false };
    }
    case 'throughput': {
      if (s.eat('*')) {
        s.skipSpaces();
        if (!s.peekIs('target')) s.fail('expected "target" after "*" (as in 0.99*target)');
        return targetLimit(s, n, scoped);
      }
      if (s.peekIs('%')) s.fail('a send rate is per second or relative to the plan: write 0.99*target, not a percentage', unitAt);
      s.eat('/s');
      return { value: n, ofTarget: false };
    }
    case 'count': {
      if (!Number.isInteger(n)) s.fail(`a count must be a whole number, not ${n}`, numberAt);
      return { value: n, ofTarget: false };
    }
  }
}

function targetLimit(s: Scanner, factor: number, scoped: boolean): { value: number; ofTarget: boolean } {
  // `target` is the plan's rate for the whole run; an endpoint has no planned rate of its own.
  if (scoped) s.fail('target is the whole run\'s planned rate; an endpoint threshold takes an absolute rate (e.g. rate>=100/s)');
  s.pos += 'target'.length;
  return { value: factor, ofTarget: true };
}

/** "did you mean" for the common slips: p99ms, p999, error-rate, latency_p99. */
function suggest(name: string): string {
  const candidates = [...THRESHOLD_METRICS.keys()];
  const normal = name.toLowerCase().replace(/-/g, '_').replace(/^latency_/, '');
  const hit =
    candidates.find((c) => c === normal) ??
    candidates.find((c) => c.replace('.', '') === normal) ??
    candidates.find((c) => normal.startsWith(c) && /^p\d/.test(c));
  return hit ? `; did you mean ${quote(hit)}?` : '; known: p50 … p99.99 (any percentile), max, mean, min (also uncorrected_… and lag_…), error_rate, late_rate, drop_rate, 1xx_rate … 5xx_rate, rate, rate_error, requests, sent, completed, errors, dropped, late';
}

/**
 * Parses several expressions, reporting every bad one in one error.
 *
 * @example
 * const ts = parseThresholds(['p99<250ms', 'error_rate<1%']);
 */
export function parseThresholds(texts: readonly string[]): Threshold[] {
  const out: Threshold[] = [];
  const problems: RepriseError[] = [];
  for (const t of texts) {
    try {
      out.push(parseThreshold(t));
    } catch (err) {
      if (err instanceof RepriseError) problems.push(err);
      else throw err;
    }
  }
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) {
    throw new RepriseError('REPLAY_THRESHOLD_INVALID', `${problems.length} invalid thresholds: ${problems.map((p) => p.message).join('; ')}`, {
      cause: problems,
    });
  }
  return out;
}
