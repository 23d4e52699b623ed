import { secretHeaderNames } from '../transform/redact-headers.js';
import { RepriseError } from '../errors.js';
import type { Logger } from '../log.js';
import { openRecorder, type RecorderStats } from '../capture/proxy/exchange-recorder.js';
import { closeAfterFailure } from '../store/close-after-failure.js';
import type { Exchange, Header } from '../store/exchange.js';
import type { ExchangeFilter } from '../store/exchange-filter.js';
import { endpointKey as endpointOf } from '../store/endpoint-template.js';
import { listSegments, readExchanges } from '../store/segment-reader.js';
import { ReplayDispatcher } from './dispatch/replay-dispatcher.js';
import { warmUpEngine } from './dispatch/warm-up.js';
import { checkRecordOut } from './dispatch/record-out-store.js';
import { toReplayedExchange } from './dispatch/replayed-exchange.js';
import { noteErrorExample, type ErrorExamples } from './metrics/error-examples.js';
import { ReplayMetrics, type MetricsSnapshot } from './metrics/replay-metrics.js';
import type { RequestResult } from './replay-result.js';
import { checkRecordedHost, checkRecordedHosts, checkTarget, methodAllowed, type TargetPolicy } from './safety/target-policy.js';
import { runOpenModel, type DropReason, type SchedulerStats } from './schedule/open-model-scheduler.js';
import { recordedSpanProblem } from './schedule/plan-bounds.js';
import { planProblems, planSends } from './schedule/plan-sends.js';
import type { ExchangeSource, PlanOptions, PlannedSend, ReplayPlan } from './schedule/replay-plan.js';
import { fillHeaderOverrides } from './dispatch/header-overrides.js';
import { readCa } from './dispatch/read-ca.js';
import { startRunClock, waitForWallClock, type RunClock } from './schedule/run-clock.js';

// Distinct reasons a request could not be built that are logged (each names a field and a variable).
const MAX_UNSENT_REASONS = 10;

/**
 * One replay run, end to end: store → safety → plan → open-model scheduler →
 * undici dispatch → one RequestResult per send, fed to ReplayMetrics and to
 * the caller's `onResult`. The CLI, scenarios and tests all call this.
 */

export interface ReplayOptions extends PlanOptions, TargetPolicy {
  /** Store directory, segment file or `s3://` URL. */
  store: string;
  /** `http(s)://host[:port]` every request goes to. */
  target: string;
  /** Which recorded exchanges take part (time window and the usual store filters). */
  filter?: ExchangeFilter;
  /** Most requests in flight (default 256); a due send beyond it waits and goes out late. */
  concurrency?: number;
  /** Sends waiting for a slot before new ones are dropped (default 10,000). */
  maxQueue?: number;
  /** Drop a waiting send once it is this far behind schedule instead of sending it late (ms). */
  maxLateMs?: number;
  /** Requests of one recorded connection go on one connection, in order. */
  connectionFidelity?: boolean;
  timeoutMs?: number;
  /** PEM file of CAs to trust for an https target. */
  caFile?: string;
  insecure?: boolean;
  /** Headers set on every request, replacing recorded ones of the same name. */
  headers?: readonly Header[];
  /** Values for `${NAME}` templates (environment, secrets). */
  vars?: Readonly<Record<string, string>>;
  /** Store the replayed exchanges (request as sent + live response) here. */
  recordOut?: string;
  /** Add to a `recordOut` store that already holds exchanges; without it such a store is refused (STORE_EXISTS) so runs are not mixed. */
  recordOutAppend?: boolean;
  /**
   * Headers redacted in the `recordOut` store, as at capture (default: the secret headers —
   * Authorization, Cookie, Set-Cookie, API keys: a `--header 'Authorization: Bearer ${TOKEN}'` run
   * would otherwise write the live token into every record); false stores them as sent.
   */
  recordOutRedact?: readonly string[] | false;
  /** Called once per send, in completion order. */
  onResult?: (r: RequestResult) => void;
  /** Metrics to feed (e.g. one the progress bar already watches); created when absent. */
  metrics?: ReplayMetrics;
  /** Send only this shard's part of the plan: sends whose index along the plan ≡ `index` mod `count` (see run-sharded.ts). */
  shard?: { index: number; count: number };
  /** Start the run clock at this wall-clock time (ms since the epoch), so shards start together. */
  startAtMs?: number;
  /** Warm the engine up on a loopback sink before the clock starts (default true; see dispatch/warm-up.ts). */
  warmUp?: boolean;
  /** Stops the run: no new sends; in-flight ones finish. */
  signal?: AbortSignal;
  log?: Logger;
}

export interface ReplayRunSummary {
  target: string;
  /** Wall-clock start, ISO 8601. */
  startedAt: string;
  /** Wall-clock run time including the drain of the last responses, ms. */
  elapsedMs: number;
  metrics: MetricsSnapshot;
  scheduler: SchedulerStats;
  /** Exchanges skipped by the method policy (never sent, not counted as requests). */
  excludedByMethod: number;
  /** Where --record-out went, and how it fared. */
  recordOut?: { store: string; stats: RecorderStats };
  /** The first error message of each kind, when there were errors. */
  errorExamples?: ErrorExamples;
}

/**
 * @example
 * const summary = await runReplay({ store: './store', target: 'http://127.0.0.1:8080', speed: 10, amplify: 3 });
 * console.log(summary.metrics.overall.latency.p99);
 */
export async function runReplay(options: ReplayOptions): Promise<ReplayRunSummary> {
  const target = checkTarget(options.target, options);
  if (options.insecure && options.caFile) throw new RepriseError('REPLAY_OPTIONS_INVALID', '--insecure and --ca-file together: pick one');
  const concurrency = options.concurrency ?? 256;
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new RepriseError('REPLAY_OPTIONS_INVALID', `concurrency: must be an integer >= 1 (got ${options.concurrency})`);
  if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) throw new RepriseError('REPLAY_OPTIONS_INVALID', `timeout: must be > 0 ms (got ${options.timeoutMs})`);
  // Every plan problem at once, before any I/O.
  const planIssues = planProblems(options);
  if (planIssues.length > 0) throw new RepriseError('REPLAY_OPTIONS_INVALID', planIssues.join('; '));
  const headers = options.headers && fillHeaderOverrides(options.headers, options.vars, Date.now());
  if (options.recordOut !== undefined) await checkRecordOut({ recordOut: options.recordOut, store: options.store, append: options.recordOutAppend === true });
  const ca = options.caFile === undefined ? undefined : await readCa(options.caFile);

  const { firstStart, lastStart } = await refuseRecordedHosts(options);
  // A plan that would outlast the bound is refused now, not 30 days into the run (the plan itself checks as it goes).
  // Filters can shorten the span the manifest shows; those plans are checked as they are walked.
  const tooLong = options.profile || options.filter || !(lastStart > firstStart) ? undefined : recordedSpanProblem(lastStart - firstStart, options);
  if (tooLong) throw new RepriseError('REPLAY_OPTIONS_INVALID', tooLong);

  let excludedByMethod = 0;
  const source: ExchangeSource = () => guardedSource(options, (ex) => {
    checkRecordedHost(ex, target, options);
    if (methodAllowed(ex, options)) return true;
    excludedByMethod++;
    return false;
  });
  // The first record is read, and the engine warmed up on loopback, before the clock starts: neither is schedule lag.
  const shardPlan = (p: AsyncIterable<PlannedSend>): AsyncIterable<PlannedSend> => (options.shard ? shardOf(p, options.shard) : p);
  const { first, plan } = await primed(shardPlan(planSends(source, options)));
  if (first && options.warmUp !== false) {
    // The paced phase reads the start of the store again (without the safety checks and counts, which the run does).
    const warmSource: ExchangeSource = () => guardedSource(options, (ex) => methodAllowed(ex, options));
    await warmUpEngine(first.exchange, { paced: shardPlan(planSends(warmSource, options)) });
  }

  // Shards of one run start their clocks at one agreed wall-clock instant.
  if (options.startAtMs !== undefined) await waitForWallClock(options.startAtMs);
  const clock = startRunClock();
  const metrics = options.metrics ?? new ReplayMetrics();
  const dispatcher = new ReplayDispatcher({
    target,
    clock,
    connections: concurrency,
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    ...(ca !== undefined && { ca }),
    ...(options.insecure !== undefined && { insecure: options.insecure }),
    ...(headers && { headers }),
    ...(options.vars && { vars: options.vars }),
    amplify: options.amplify ?? 1,
    keepResponses: options.recordOut !== undefined,
    ...(options.maxQueue !== undefined && { maxHeld: options.maxQueue }),
  });
  // Opened last, so that nothing between opening and the first send can fail.
  const recorder = options.recordOut === undefined ? undefined : await openRecorder(options.recordOut, { redactHeaders: options.recordOutRedact ?? secretHeaderNames() });
  const captureId = `replay-${new Date(clock.startedAtMs).toISOString()}`;
  // A request that could not even be built (a template variable with no value) is counted as an
  // "other" error; without its reason the user cannot tell which variable to set. Each distinct reason
  // is said once (they name the field and the variable, never a value), and only the first few.
  const unsentReasons = new Set<string>();
  const errorExamples: ErrorExamples = {};
  const emit = (r: RequestResult): void => {
    metrics.record(r);
    noteErrorExample(errorExamples, r);
    options.onResult?.(r);
    if (r.sentUs === null && r.error?.kind === 'other' && unsentReasons.size < MAX_UNSENT_REASONS && !unsentReasons.has(r.error.message)) {
      unsentReasons.add(r.error.message);
      options.log?.warn(`not sent: ${r.endpoint}: ${r.error.message}`);
    }
  };
  const laneOf = options.connectionFidelity ? laneKey : undefined;
  let scheduler: SchedulerStats;
  try {
    scheduler = await runOpenModel(
      plan,
      {
        send: async (s) => {
          const out = await dispatcher.send(s, laneOf?.(s));
          emit(out.result);
          if (recorder && out.request) recorder.offer(toReplayedExchange(s, out, { captureId, clock, target: target.authority, scheme: target.url.protocol === 'https:' ? 'https' : 'http' }));
        },
        drop: (s, reason) => emit(droppedResult(s, clock, reason)),
      },
      { clock, concurrency, ...(options.maxQueue !== undefined && { maxQueue: options.maxQueue }), ...(options.maxLateMs !== undefined && { maxLateMs: options.maxLateMs }), ...(laneOf && { laneOf }), ...(options.signal && { signal: options.signal }), gate: dispatcher.gate },
    );
  } catch (err) {
    // The run stopped (a corrupt store, a refused recorded host; in-flight sends have finished):
    // the --record-out store is closed as a failed import closes its --out — what was recorded is
    // kept and sealed, a store opening created and nothing reached is removed — and the run's
    // error stays the one thrown.
    if (recorder) throw await closeAfterFailure(recorder, err, options.recordOut!);
    throw err;
  } finally {
    await dispatcher.close();
  }
  const recorded = recorder ? await recorder.close() : undefined;
  const summary: ReplayRunSummary = {
    target: target.origin,
    startedAt: new Date(clock.startedAtMs).toISOString(),
    elapsedMs: Math.round(clock.nowUs() / 1000),
    metrics: metrics.snapshot(),
    scheduler,
    excludedByMethod,
  };
  if (recorded && options.recordOut) summary.recordOut = { store: options.recordOut, stats: recorded };
  if (Object.keys(errorExamples).length > 0) summary.errorExamples = errorExamples;
  options.log?.debug({ scheduler, excludedByMethod }, 'replay finished');
  return summary;
}

/**
 * Cheap refusal before anything is read or sent: the target is checked against the policy, and
 * against the hosts that the sealed segments' manifests list (a local store; records are checked
 * again one by one as they are read). Returns the recorded time span the manifests give.
 *
 * @example
 * await refuseRecordedHosts({ store: './store', target: 'http://api.prod.example' }); // REPLAY_RECORDED_HOST
 */
export async function refuseRecordedHosts(options: ReplayOptions): Promise<{ firstStart: number; lastStart: number }> {
  const target = checkTarget(options.target, options);
  const hosts: string[] = [];
  let firstStart = Infinity;
  let lastStart = -Infinity;
  if (!options.store.startsWith('s3://')) {
    for (const seg of await listSegments(options.store)) {
      hosts.push(...Object.keys(seg.entry?.stats.hosts ?? {}));
      if (seg.entry) [firstStart, lastStart] = [Math.min(firstStart, seg.entry.stats.firstStart ?? Infinity), Math.max(lastStart, seg.entry.stats.lastStart ?? -Infinity)];
    }
  }
  checkRecordedHosts(hosts, target, options);
  return { firstStart, lastStart };
}

/**
 * The plan a run with these options sends — the same filters, method exclusions and target checks —
 * for `--dry-run` and the report's planned-rate line, so neither shows sends the run would skip or refuse.
 *
 * @example
 * const s = await summarizePlan(planReplay({ store: './store', target: 'http://127.0.0.1:8080', excludeMethods: ['POST'] }));
 */
export function planReplay(options: ReplayOptions): ReplayPlan {
  const target = checkTarget(options.target, options);
  return planSends(() => guardedSource(options, (ex) => {
    checkRecordedHost(ex, target, options);
    return methodAllowed(ex, options);
  }), options);
}

/** The recorded connection a send belongs to; a copy or a later lap is a connection of its own. */
export function laneKey(s: PlannedSend): string | undefined {
  const src = s.exchange.source;
  if (src.connection === undefined) return undefined;
  return `${s.copy}\u0000${src.captureId}\u0000${src.connection}`;
}

const DROP_MESSAGES: Record<DropReason, string> = {
  'queue-full': 'wait queue full (raise --concurrency or --max-queue)',
  'too-late': 'too far behind schedule (--max-late)',
  'gate-full': 'too many sends already waiting for a correlation value (raise --max-queue)',
};

function droppedResult(s: PlannedSend, clock: RunClock, reason: DropReason): RequestResult {
  const { method, path } = s.exchange.request;
  return {
    endpoint: endpointOf(method, path),
    exchangeId: s.exchange.id,
    copy: s.copy,
    intendedUs: s.intendedUs,
    sentUs: null,
    doneUs: clock.nowUs(),
    status: null,
    error: { kind: 'dropped', message: DROP_MESSAGES[reason] },
    bytesSent: 0,
    bytesReceived: 0,
  };
}


async function* shardOf<T>(plan: AsyncIterable<T>, shard: { index: number; count: number }): AsyncGenerator<T> {
  let i = 0;
  for await (const s of plan) if (i++ % shard.count === shard.index) yield s;
}

async function primed<T>(iterable: AsyncIterable<T>): Promise<{ first: T | undefined; plan: AsyncIterable<T> }> {
  const it = iterable[Symbol.asyncIterator]();
  const first = await it.next();
  const plan = (async function* () {
    if (first.done) return;
    try {
      yield first.value;
      for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
    } finally {
      // A stopped run closes the store reader too.
      await it.return?.();
    }
  })();
  return { first: first.done ? undefined : first.value, plan };
}

async function* guardedSource(o: ReplayOptions, keep: (ex: Exchange) => boolean): AsyncGenerator<Exchange> {
  for await (const ex of readExchanges(o.store, o.filter ? { filter: o.filter } : {})) if (keep(ex)) yield ex;
}
