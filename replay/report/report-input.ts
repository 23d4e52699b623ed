/**
 * What every replay report is made from, and the one place that makes the
 * run's options and target safe to print: reports are attached to CI runs and
 * shared, so header values, variables and URL passwords never reach them.
 */
import type { MetricsSnapshot } from '../metrics/replay-metrics.js';
import type { ThresholdOutcome } from '../thresholds/evaluate-thresholds.js';

/**
 * The parts of the schedule's PlanSummary (replay/schedule/plan-summary.ts)
 * a report shows; declared structurally so a PlanSummary can be passed as is.
 */
export interface ReportPlan {
  sends: number;
  /** Intended time of the last send, µs. */
  durationUs: number;
  meanRate: number;
  peakRate: number;
  /** Planned sends per second of intended time. */
  perSecond?: readonly number[];
}

export interface ReplayReportInput {
  snapshot: MetricsSnapshot;
  thresholds: readonly ThresholdOutcome[];
  plan: ReportPlan | undefined;
  target: string;
  /** Wall-clock start, ISO 8601. */
  startedAt: string;
  /** The run's options as given; sanitized before they are shown (see `safeOptions`). */
  options: Record<string, unknown>;
  /** Planned sends per second (the recorded traffic as scheduled); defaults to `plan.perSecond`. */
  recordedRate?: readonly number[];
  /** The first error message seen of each error kind (one line, no request data), to say why sends failed. */
  errorExamples?: Readonly<Partial<Record<string, string>>>;
}

// Option names whose values can hold credentials: headers to add, template
// variables, anything named like a secret.
const SECRET_KEY = /header|^vars?$|variable|auth|token|secret|passw|passphrase|pwd|cookie|key$|credential|private|signature/i;
const REDACTED = '[redacted]';
// A report is not the place for a dumped object graph; deeper options are summarized.
const MAX_DEPTH = 4;

/**
 * The options as plain JSON with secrets replaced: functions, signals,
 * loggers and other class instances are left out (they are wiring, not
 * settings), `URL`s lose their password.
 *
 * @example
 * safeOptions({ speed: 10, headers: [['authorization', 'Bearer x']] }) // { speed: 10, headers: '[redacted]' }
 */
export function safeOptions(options: Record<string, unknown>): Record<string, unknown> {
  return sanitizeObject(options, 0);
}

function sanitizeObject(o: Record<string, unknown>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (SECRET_KEY.test(k)) {
      if (v !== undefined && v !== null && v !== false) out[k] = REDACTED;
      continue;
    }
    const clean = sanitizeValue(v, depth + 1);
    if (clean !== undefined) out[k] = clean;
  }
  return out;
}

function sanitizeValue(v: unknown, depth: number): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return typeof v === 'string' ? safeUrlText(v) : v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof URL) return safeTarget(v.href);
  if (v instanceof Date) return v.toISOString();
  if (depth > MAX_DEPTH) return '[…]';
  if (Array.isArray(v)) return v.map((x) => sanitizeValue(x, depth + 1) ?? null);
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return sanitizeObject(v as Record<string, unknown>, depth);
  return undefined;
}

/** Strings that look like URLs with credentials lose the password. */
function safeUrlText(s: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(s) ? safeTarget(s) : s;
}

/**
 * The target without userinfo password or query secrets.
 *
 * @example
 * safeTarget('http://ci:hunter2@staging:8080/') // 'http://ci:[redacted]@staging:8080/'
 */
export function safeTarget(target: string): string {
  let u: URL;
  try {
    u = new URL(target);
  } catch {
    return target.replace(/\/\/([^:/@]*):[^@/]*@/, `//$1:${REDACTED}@`);
  }
  const secretParams = [...u.searchParams.keys()].filter((key) => SECRET_KEY.test(key) || /^(key|sig|code)$/i.test(key));
  // Untouched targets are shown as the user wrote them (URL would add a trailing '/').
  if (!u.password && secretParams.length === 0) return target;
  if (u.password) u.password = REDACTED;
  for (const key of secretParams) u.searchParams.set(key, REDACTED);
  // URL percent-encodes the brackets; people read the plain form.
  return u.href.replace(/%5Bredacted%5D/g, REDACTED);
}

/** Planned sends per second for the charts: explicit, else from the plan, else what the metrics saw. */
export function plannedPerSecond(input: ReplayReportInput): readonly number[] | undefined {
  return input.recordedRate ?? input.plan?.perSecond;
}
