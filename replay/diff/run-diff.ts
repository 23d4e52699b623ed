import { RepriseError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { fillHeaderOverrides, warnRedactedPlaceholders } from '../dispatch/header-overrides.js';
import { endpointKey } from '../../store/endpoint-template.js';
import { getHeader, type Exchange } from '../../store/exchange.js';
import type { ExchangeFilter } from '../../store/exchange-filter.js';
import { readExchanges } from '../../store/segment-reader.js';
import { DEFAULT_NOISE_THRESHOLDS, DiffAccumulator, type NoiseThresholds } from './diff-accumulator.js';
import type { DiffReport } from './diff-report.js';
import { compileDiffRules, type DiffRulesInput } from './diff-rules.js';
import { checkTargetSet, parseLiveTarget, type LiveTarget } from './live-targets.js';
import { LiveSender } from './live-sender.js';
import { pairStores, sideFromExchange } from './offline-pairs.js';
import { HTTP_TOKEN } from '../../store/http-token.js';

/**
 * The two ways to diff, as library calls the CLI wraps: two stores offline,
 * or one store replayed live against baseline, candidate and optionally a
 * second baseline. Both stream: memory does not grow with the store.
 */

export interface DiffCommonOptions {
  rules?: DiffRulesInput;
  noise?: Partial<NoiseThresholds>;
  /** Which recorded exchanges take part (method, path glob, status, time). */
  filter?: ExchangeFilter;
  /** Called every 1,000 pairs. */
  onProgress?: (pairs: number) => void;
}

export interface OfflineDiffOptions extends DiffCommonOptions {
  baselineStore: string;
  candidateStore: string;
  /** Records per side that may wait for a partner (default 50,000). */
  maxPending?: number;
}

export interface LiveDiffOptions extends DiffCommonOptions {
  store: string;
  baseline: string;
  candidate: string;
  baseline2?: string;
  /** Methods sent besides GET, HEAD and OPTIONS (side-effecting ones must be asked for). */
  allowMethods?: string[];
  /** Recorded requests in flight at once (each one goes to every target in turn). Default 8. */
  concurrency?: number;
  /** Per request, headers and body each. Default 10 s. */
  timeoutMs?: number;
  /** Stop after this many pairs. */
  limit?: number;
  /** `Name: value` headers set on every live request, replacing recorded ones (values never logged or reported). */
  setHeaders?: string[];
  /** Values for `${NAME}` templates in the transformed requests (e.g. `loadTemplateVars({ env: process.env })`). */
  vars?: Readonly<Record<string, string>>;
  /** Where the warning about credentials redacted at capture goes. */
  log?: Logger;
}

const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS'];

/**
 * Diff two stores, paired by exchange id or request identity.
 *
 * @example
 * const report = await diffStores({ baselineStore: './recorded', candidateStore: './replayed' });
 * console.log(report.totals);
 */
export async function diffStores(options: OfflineDiffOptions): Promise<DiffReport> {
  const rules = compileDiffRules(options.rules);
  const acc = new DiffAccumulator(rules, noiseThresholds(options.noise));
  const counts = { unmatchedBaseline: 0, unmatchedCandidate: 0 };
  const pairs = pairStores(options.baselineStore, options.candidateStore, counts, {
    read: options.filter ? { filter: options.filter } : {},
    ...(options.maxPending !== undefined ? { maxPending: options.maxPending } : {}),
  });
  for await (const { baseline, candidate } of pairs) {
    if (baseline.incomplete !== undefined || candidate.incomplete !== undefined) {
      // A capture gap leaves a body with bytes missing: comparing it would report the gap, not the release.
      acc.skip('capture incomplete (bytes missing) on a side');
      continue;
    }
    acc.addPair({
      endpoint: endpointKey(baseline.request.method, baseline.request.path),
      exchangeId: baseline.id,
      baseline: sideFromExchange(baseline, rules.bodyCap),
      candidate: sideFromExchange(candidate, rules.bodyCap),
      ...(baseline.redactions || candidate.redactions ? { redactions: [...(baseline.redactions ?? []), ...(candidate.redactions ?? [])] } : {}),
    });
    if (acc.pairs % 1000 === 0) options.onProgress?.(acc.pairs);
  }
  return acc.finish({
    mode: 'offline',
    sides: { baseline: options.baselineStore, candidate: options.candidateStore },
    unmatched: { baseline: counts.unmatchedBaseline, candidate: counts.unmatchedCandidate },
  });
}

/**
 * Replay a store's requests against live baseline, candidate (and second
 * baseline) and diff the responses.
 *
 * @example
 * const report = await diffLive({ store: './recorded', baseline: 'http://127.0.0.1:8001', candidate: 'http://127.0.0.1:8002' });
 */
export async function diffLive(options: LiveDiffOptions): Promise<DiffReport> {
  const rules = compileDiffRules(options.rules);
  const concurrency = options.concurrency ?? 8;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const problems: string[] = [];
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) problems.push(`concurrency: must be an integer 1-1024, got ${concurrency}`);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) problems.push(`timeout: must be > 0 ms, got ${timeoutMs}`);
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 1)) problems.push(`limit: must be a positive integer, got ${options.limit}`);
  if (problems.length > 0) throw new RepriseError('DIFF_OPTIONS_INVALID', problems.join('; '));
  const targets: LiveTarget[] = [parseLiveTarget('baseline', options.baseline), parseLiveTarget('candidate', options.candidate)];
  if (options.baseline2 !== undefined) targets.push(parseLiveTarget('baseline2', options.baseline2));
  checkTargetSet(targets[0]!, targets[1]!, targets[2]);
  const allowed = new Set([...SAFE_METHODS, ...(options.allowMethods ?? []).map((m) => m.toUpperCase())]);
  const acc = new DiffAccumulator(rules, noiseThresholds(options.noise));
  const setHeaders = fillHeaderOverrides((options.setHeaders ?? []).map(parseSetHeader), options.vars, Date.now(), '--set-header');
  if (options.log) await warnRedactedPlaceholders({ store: options.store, ...(options.filter && { filter: options.filter }), headers: setHeaders }, options.log, '--set-header');
  const sender = new LiveSender(targets, { connections: concurrency, timeoutMs, bodyCap: rules.bodyCap, setHeaders, ...(options.vars && { vars: options.vars }) });
  const inflight = new Set<Promise<void>>();
  let started = 0;
  try {
    for await (const ex of readExchanges(options.store, options.filter ? { filter: options.filter } : {})) {
      const reason = skipReason(ex, allowed);
      if (reason) {
        acc.skip(reason);
        continue;
      }
      if (options.limit !== undefined && started >= options.limit) break;
      started++;
      const job = sender.send(ex).then(([baseline, candidate, baseline2]) => {
        acc.addPair({
          endpoint: endpointKey(ex.request.method, ex.request.path),
          exchangeId: ex.id,
          baseline: baseline!,
          candidate: candidate!,
          ...(baseline2 ? { baseline2 } : {}),
          // No redactions here: they mark values missing from *stored* responses, and live responses are whole.
        });
        if (acc.pairs % 1000 === 0) options.onProgress?.(acc.pairs);
      });
      inflight.add(job);
      void job.finally(() => inflight.delete(job));
      if (inflight.size >= concurrency) await Promise.race(inflight);
      failIfUnreachable(sender, targets, 20);
    }
    await Promise.all(inflight);
    failIfUnreachable(sender, targets, 1);
  } finally {
    await Promise.allSettled(inflight);
    await sender.close();
  }
  return acc.finish({
    mode: 'live',
    sides: { baseline: targets[0]!.label, candidate: targets[1]!.label, ...(targets[2] ? { baseline2: targets[2].label } : {}) },
  });
}

/** `Name: value` → [name, value]; the value is left out of any error message (it may be a token). */
function parseSetHeader(text: string): [string, string] {
  const colon = text.indexOf(':');
  const name = colon > 0 ? text.slice(0, colon).trim() : '';
  if (!HTTP_TOKEN.test(name) || /[\r\n]/.test(text)) {
    throw new RepriseError('DIFF_OPTIONS_INVALID', `--set-header: expected "Name: value" with a valid header name, got "${name || text.slice(0, 20)}…"`);
  }
  return [name, text.slice(colon + 1).trim()];
}

function noiseThresholds(input: Partial<NoiseThresholds> | undefined): NoiseThresholds {
  const t = { ...DEFAULT_NOISE_THRESHOLDS, ...input };
  const bad = Object.entries(t).filter(([, v]) => !Number.isFinite(v) || v < 0 || v > 1);
  if (bad.length > 0) throw new RepriseError('DIFF_OPTIONS_INVALID', bad.map(([k, v]) => `noise ${k} threshold: must be 0-1, got ${v}`).join('; '));
  return t;
}

/** Why a recorded exchange is not sent live, or undefined to send it. */
function skipReason(ex: Exchange, allowed: ReadonlySet<string>): string | undefined {
  const method = ex.request.method.toUpperCase();
  if (!allowed.has(method)) return `method ${method} not allowed (side effects; --allow-method ${method})`;
  if (ex.request.body?.truncated) return 'request body truncated in the store';
  if (getHeader(ex.request.headers, 'upgrade') !== undefined) return 'upgrade (WebSocket) request';
  return undefined;
}

/** Every request to a target failed: the run would only report that, so stop and say it. */
function failIfUnreachable(sender: LiveSender, targets: readonly LiveTarget[], atLeast: number): void {
  for (const t of targets) {
    const c = sender.counters.get(t.role)!;
    if (c.sent >= atLeast && c.sent > 0 && c.failed === c.sent) {
      throw new RepriseError('DIFF_TARGET_UNREACHABLE', `--${t.role} ${t.label}: all ${c.sent} requests failed (first: ${c.firstError ?? 'unknown'})`);
    }
  }
}
