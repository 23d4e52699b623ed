import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { RepriseError } from '../../errors.js';
import type { Exchange, Header } from '../../store/exchange.js';
import { endpointKey } from '../../store/endpoint-template.js';
import type { ExchangeFilter } from '../../store/exchange-filter.js';
import { readExchanges } from '../../store/segment-reader.js';
import { resolveTemplates } from '../../transform/templates/resolve-templates.js';
import { MissingVariableError } from '../../transform/templates/template-string.js';
import { buildRequest } from '../dispatch/build-request.js';
import { fillHeaderOverrides } from '../dispatch/header-overrides.js';
import { classifySendError, describeSendError } from '../dispatch/error-kinds.js';
import { noteErrorExample, type ErrorExamples } from '../metrics/error-examples.js';
import { ReplayMetrics, type MetricsSnapshot } from '../metrics/replay-metrics.js';
import type { RequestResult } from '../replay-result.js';
import { checkRecordedHost, checkTarget, methodAllowed, type TargetPolicy } from '../safety/target-policy.js';
import { startRunClock, waitForWallClock } from '../schedule/run-clock.js';
import { verifyTargetTls } from './verify-target-tls.js';

/**
 * `--max`: how much can the target take? The recorded request mix is driven
 * through autocannon — a closed model: each of `connections` sockets sends
 * its next request as soon as the previous response arrived (`pipelining`
 * at a time) — for a fixed duration. Each autocannon response event becomes
 * a RequestResult, so the metrics and reports are the same as a timed
 * replay's (there is no schedule here, so intended = actual send and lag is
 * zero; coordinated omission does not apply to a throughput test).
 *
 * The mix is read from the first `mixLimit` exchanges that pass the filters
 * and the safety policy, and sent in store order round-robin by every
 * connection. Autocannon copies the whole list into every connection and
 * builds each request's bytes there (~15 µs each, inside the measured run):
 * 50 connections × 10,000 exchanges took ~8 s of CPU and cut the measured
 * rate to a quarter. So a connection gets at most `MAX_PREBUILT` ÷
 * connections entries (at least MIN_MIX): evenly spaced over what was read,
 * in store order, so the mix still spans it. Declared differences from the recording: autocannon takes
 * headers as an object, so duplicate request headers are joined with ", "
 * (`; ` for Cookie); correlation variables are not filled (no sessions in a
 * closed loop); fixed variables are, with REPRISE_COPY=0.
 */

export interface MaxOptions extends TargetPolicy {
  store: string;
  target: string;
  filter?: ExchangeFilter;
  /** Concurrent connections (default 50). */
  connections?: number;
  /** Requests in flight per connection (default 1). */
  pipelining?: number;
  /** How long to run, ms (default 10,000). */
  durationMs?: number;
  /** Exchanges read for the mix (default 10,000); at most MAX_PREBUILT ÷ connections of them are sent. */
  mixLimit?: number;
  timeoutMs?: number;
  headers?: readonly Header[];
  vars?: Readonly<Record<string, string>>;
  ca?: Buffer;
  insecure?: boolean;
  onResult?: (r: RequestResult) => void;
  metrics?: ReplayMetrics;
  signal?: AbortSignal;
  /** Start sending at this wall-clock time (ms since the epoch), so the workers of one run start together. */
  startAtMs?: number;
}

export interface MaxRunSummary {
  target: string;
  startedAt: string;
  elapsedMs: number;
  /** Exchanges in the mix each connection cycles through. */
  mix: number;
  /** Exchanges read for the mix (more than `mix` when it was thinned for the connection count). */
  mixRead: number;
  /** Exchanges left out of the mix because they need a correlation value from a live session. */
  skippedCorrelated: number;
  metrics: MetricsSnapshot;
  /** The first message of each error kind (the metrics count kinds only). */
  errorExamples: ErrorExamples;
  /** autocannon's own totals, for cross-checking the converted results. */
  autocannon: { requests: number; errors: number; timeouts: number; non2xx: number; rps: number };
}

interface AutocannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** The parts of autocannon's per-connection client that tell which request was answered. */
interface AutocannonClient {
  requestIterator?: { currentRequestIndex?: number };
  pipelinedRequests?: { size(): number };
}

/**
 * Each autocannon connection walks the request list in order and answers
 * come back in order, so when a response event fires, the answered request is
 * the latest one written minus those still pipelined behind it. (A request
 * `onResponse` callback would say so directly, but then autocannon turns
 * every response's headers into an object first: measurably slower.)
 */
function answeredIndex(client: AutocannonClient, n: number): number {
  const current = client.requestIterator?.currentRequestIndex ?? 0;
  const behind = client.pipelinedRequests?.size() ?? 0;
  return (((current - behind) % n) + n) % n;
}

interface AutocannonResult {
  requests: { total: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}

type Autocannon = ((opts: Record<string, unknown>, cb: (err: Error | null, result: AutocannonResult) => void) => EventEmitter & { stop(): void }) & {
  track?: unknown;
};

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/**
 * @example
 * const s = await runMax({ store: './store', target: 'http://127.0.0.1:8080', connections: 100, durationMs: 30_000 });
 * console.log(s.autocannon.rps, s.metrics.overall.latency.p99);
 */
export async function runMax(o: MaxOptions): Promise<MaxRunSummary> {
  const target = checkTarget(o.target, o);
  const connections = o.connections ?? 50;
  const pipelining = o.pipelining ?? 1;
  const durationMs = o.durationMs ?? 10_000;
  const problems: string[] = [];
  if (!(Number.isInteger(connections) && connections >= 1)) problems.push(`connections: must be an integer >= 1 (got ${o.connections})`);
  if (!(Number.isInteger(pipelining) && pipelining >= 1)) problems.push(`pipelining: must be an integer >= 1 (got ${o.pipelining})`);
  if (!(durationMs >= 1000)) problems.push(`duration: must be at least 1 s for --max (got ${durationMs} ms)`);
  if (problems.length > 0) throw new RepriseError('REPLAY_OPTIONS_INVALID', problems.join('; '));

  const skipped = { correlated: 0 };
  const headers = o.headers && fillHeaderOverrides(o.headers, o.vars, Date.now());
  const read = await loadMix({ ...o, ...(headers && { headers }) }, target, skipped);
  const mix = evenlySpaced(read, Math.max(MIN_MIX, Math.floor(MAX_PREBUILT / connections)));
  if (mix.length === 0) throw new RepriseError('REPLAY_OPTIONS_INVALID', `store ${o.store} has no exchange to send (after filters and --exclude-methods)`);

  if (o.insecure !== true) await verifyTargetTls(target, { ...(o.ca && { ca: o.ca }), timeoutMs: o.timeoutMs ?? 10_000 });
  // The clock starts with the load, not with reading the mix: the per-second series of workers line up.
  if (o.startAtMs !== undefined) await waitForWallClock(o.startAtMs);
  const clock = startRunClock();
  const metrics = o.metrics ?? new ReplayMetrics();
  const errorExamples: ErrorExamples = {};
  const requests: AutocannonRequest[] = mix.map((m) => ({ method: m.method, path: m.path, headers: m.headers, ...(m.body && { body: m.body }) }));
  const startUs = clock.nowUs();
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.origin,
        connections,
        pipelining,
        duration: durationMs / 1000,
        timeout: Math.max(1, Math.ceil((o.timeoutMs ?? 10_000) / 1000)),
        requests,
        ...(target.url.protocol === 'https:' && { tlsOptions: { ...(o.ca && { ca: o.ca }), rejectUnauthorized: o.insecure !== true } }),
      },
      (err, res) => (err ? reject(new RepriseError('REPLAY_OPTIONS_INVALID', `--max: autocannon refused the run: ${err.message}`, { cause: err })) : resolve(res)),
    );
    instance.on('response', (client: AutocannonClient, statusCode: number, resBytes: number, responseTime: number) => {
      const m = mix[answeredIndex(client, mix.length)]!;
      const doneUs = clock.nowUs();
      const sentUs = Math.max(startUs, doneUs - responseTime * 1000);
      emit({ endpoint: m.endpoint, exchangeId: m.id, copy: 0, intendedUs: sentUs, sentUs, doneUs, status: statusCode, bytesSent: m.bytes, bytesReceived: resBytes });
    });
    instance.on('reqError', (err: Error) => {
      const doneUs = clock.nowUs();
      // autocannon does not say which request failed; the error is counted against the run as a whole.
      emit({ endpoint: '(connection error)', exchangeId: '', copy: 0, intendedUs: doneUs, sentUs: doneUs, doneUs, status: null, error: { kind: classifySendError(err), message: describeSendError(err) }, bytesSent: 0, bytesReceived: 0 });
    });
    o.signal?.addEventListener('abort', () => instance.stop(), { once: true });
  });

  function emit(r: RequestResult): void {
    metrics.record(r);
    if (r.error) noteErrorExample(errorExamples, r);
    o.onResult?.(r);
  }

  return {
    target: target.origin,
    startedAt: new Date(clock.startedAtMs).toISOString(),
    elapsedMs: Math.round(clock.nowUs() / 1000),
    mix: mix.length,
    mixRead: read.length,
    skippedCorrelated: skipped.correlated,
    metrics: metrics.snapshot(),
    errorExamples,
    autocannon: { requests: result.requests.total, errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, rps: result.duration > 0 ? result.requests.total / result.duration : 0 },
  };
}

interface MixEntry {
  id: string;
  endpoint: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | null;
  bytes: number;
}

async function loadMix(o: MaxOptions, target: ReturnType<typeof checkTarget>, skipped: { correlated: number }): Promise<MixEntry[]> {
  const limit = o.mixLimit ?? 10_000;
  const mix: MixEntry[] = [];
  for await (const ex of readExchanges(o.store, o.filter ? { filter: o.filter } : {})) {
    checkRecordedHost(ex, target, o);
    if (!methodAllowed(ex, o)) continue;
    let ready: Exchange;
    try {
      ready = resolveTemplates(ex, { ...o.vars, REPRISE_COPY: '0', REPRISE_LAP: '0' }, Date.now());
    } catch (err) {
      // A correlated request needs a live session; a closed throughput loop has none, so it stays out of the mix.
      if (err instanceof MissingVariableError && err.variable.startsWith('corr.')) {
        skipped.correlated++;
        continue;
      }
      throw err;
    }
    const req = buildRequest(ready, target.authority, o.headers);
    mix.push({ id: ex.id, endpoint: endpointKey(ex.request.method, ex.request.path), method: req.method, path: req.path, headers: headerObject(req.headers), body: req.body, bytes: req.bytes });
    if (mix.length >= limit) break;
  }
  return mix;
}

/** Requests autocannon builds in all, over every connection (see the top of this file): ~0.2 s. */
export const MAX_PREBUILT = 10_000;
const MIN_MIX = 100;

/** At most `n` of `items`, evenly spaced, in their order (all of them when there are no more than `n`). */
export function evenlySpaced<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return [...items];
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]!);
}

function headerObject(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const names = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i]!;
    const lower = name.toLowerCase();
    const existing = names.get(lower);
    if (existing === undefined) {
      names.set(lower, name);
      out[name] = flat[i + 1]!;
    } else {
      out[existing] += `${lower === 'cookie' ? '; ' : ', '}${flat[i + 1]!}`;
    }
  }
  return out;
}
