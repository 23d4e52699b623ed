import { Client, Pool, type Dispatcher } from 'undici';
import type { Header } from '../../store/exchange.js';
import { endpointKey } from '../../store/endpoint-template.js';
import type { RequestResult } from '../replay-result.js';
import type { PlannedSend } from '../schedule/replay-plan.js';
import type { RunClock } from '../schedule/run-clock.js';
import type { ReplayTarget } from '../safety/target-policy.js';
import { buildRequest, type SendableRequest } from './build-request.js';
import { classifySendError, describeSendError } from './error-kinds.js';
import { SendHandler } from './send-handler.js';
import { SendVariables } from './send-variables.js';
import { CorrelationGate } from './correlation-gate.js';
import { replayAnnotations } from '../../transform/exchange-editor.js';
import { MissingVariableError } from '../../transform/templates/template-string.js';

/**
 * Sends planned requests through undici's dispatcher API (no fetch, no
 * stream wrappers: one small handler object per request) and turns each into
 * one RequestResult.
 *
 * Connections: a shared keep-alive Pool sized to the scheduler's concurrency
 * cap, so a request handed to it goes on the wire at once and `sentUs` is
 * the real send time (a pool smaller than the cap would queue inside undici,
 * where lag cannot be seen). With per-connection fidelity each recorded
 * connection gets its own single-socket Client instead; the scheduler keeps
 * its requests in order, one at a time.
 */

export interface DispatchOptions {
  target: ReplayTarget;
  clock: RunClock;
  /** Keep-alive sockets of the shared pool; set it to the concurrency cap. */
  connections: number;
  /** Connect, response-head and between-body-chunks timeout, ms (default 30,000). */
  timeoutMs?: number;
  /** PEM CA bundle to trust for an https target (staging CAs). */
  ca?: string | Buffer;
  /** Accept any certificate (never for production; the CLI says so). */
  insecure?: boolean;
  /** Headers set on every request (replacing a recorded one of the same name). */
  headers?: readonly Header[];
  /** Fixed template variables (environment, secrets file). */
  vars?: Readonly<Record<string, string>>;
  /** Amplify factor of the plan, so `${REPRISE_LAP}` can be derived from the copy number. */
  amplify?: number;
  /** Keep live responses (headers, first `bodyCap` bytes) on the outcome, for --record-out. */
  keepResponses?: boolean;
  /** Bytes of each live response body kept (default 1 MiB). */
  bodyCap?: number;
  /** Per-connection clients kept open at once (fidelity mode); the least recently used idle one is closed beyond it. Default 1024. */
  maxLaneClients?: number;
  /** Sends held at once waiting for a correlation value (see correlation-gate.ts). Default 10,000. */
  maxHeld?: number;
}

export interface LiveResponseCapture {
  status: number;
  statusText: string;
  headers: Header[];
  body: Buffer;
  /** Body bytes received, even beyond the cap. */
  bodyBytes: number;
}

export interface SendOutcome {
  result: RequestResult;
  /** The request as sent (null when it never was: a template could not be filled). */
  request: SendableRequest | null;
  response: LiveResponseCapture | null;
}

const DEFAULT_BODY_CAP = 1024 * 1024;
// Below this, undici's ~1 s timer granularity is a large share of the timeout, so the wait for the response
// head gets a native timer of its own (SendHandler.expireAfter); above it, a timer per send is not worth its cost.
const PRECISE_TIMEOUT_BELOW_MS = 10_000;

export class ReplayDispatcher {
  private readonly pool: Pool;
  private readonly lanes = new Map<string, { client: Client; busy: number }>();
  private readonly variables: SendVariables;
  private readonly o: DispatchOptions;
  private readonly clientOptions: Pool.Options;
  private readonly timeoutMs: number;
  private readonly bodyCap: number;
  /** Give it to the scheduler (`gate`) so sends wait for the correlation values they need. */
  readonly gate: CorrelationGate;

  constructor(o: DispatchOptions) {
    this.o = o;
    this.timeoutMs = o.timeoutMs ?? 30_000;
    this.bodyCap = o.bodyCap ?? DEFAULT_BODY_CAP;
    this.clientOptions = {
      pipelining: 1,
      connectTimeout: this.timeoutMs,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      keepAliveTimeout: 4_000,
      // undici stops reusing a socket this long before the server's announced keep-alive ends (default 2 s,
      // which makes a server announcing `timeout=2` cost a new connection per request); 1 s still avoids the race.
      keepAliveTimeoutThreshold: 1_000,
      ...(o.target.url.protocol === 'https:' && { connect: { ...(o.ca !== undefined && { ca: o.ca }), rejectUnauthorized: o.insecure !== true } }),
    };
    this.pool = new Pool(o.target.origin, { ...this.clientOptions, connections: Math.max(1, o.connections) });
    this.variables = new SendVariables(o.vars ?? {}, o.amplify ?? 1, o.clock.startedAtMs);
    this.gate = new CorrelationGate(this.variables, { clock: o.clock, maxWaitMs: this.timeoutMs, maxHeld: o.maxHeld ?? 10_000 });
  }

  /** Send one planned request (on `lane`'s own connection when given); never rejects. */
  send(s: PlannedSend, lane?: string): Promise<SendOutcome> {
    const ex = s.exchange;
    const endpoint = endpointKey(ex.request.method, ex.request.path);
    let req: SendableRequest;
    try {
      req = this.requestFor(ex, s.copy);
    } catch (err) {
      // A template with no value yet (say, a correlated token whose producer failed): never sent.
      const message = err instanceof MissingVariableError ? (this.gate.reasonFor(s) ?? describeSendError(err)) : describeSendError(err);
      const result: RequestResult = { endpoint, exchangeId: ex.id, copy: s.copy, intendedUs: s.intendedUs, sentUs: null, doneUs: this.o.clock.nowUs(), status: null, bytesSent: 0, bytesReceived: 0, error: { kind: 'other', message } };
      this.gate.noteOutcome(s, 'was never sent itself (a value it needs was missing)');
      return Promise.resolve({ result, request: null, response: null });
    }
    const keep = this.o.keepResponses === true || this.variables.needsResponse(ex);
    const dispatcher = lane === undefined ? this.pool : this.laneClient(lane);
    return new Promise<SendOutcome>((resolve) => {
      const sentUs = this.o.clock.nowUs();
      const handler = new SendHandler(keep, this.bodyCap, (h, err) => {
        const doneUs = this.o.clock.nowUs();
        // Every field written out, in one order: an object spread here was ~7 % of the engine's CPU at 20k sends/s.
        const result: RequestResult = { endpoint, exchangeId: ex.id, copy: s.copy, intendedUs: s.intendedUs, sentUs, doneUs, status: h.status, bytesSent: h.connected ? req.bytes : 0, bytesReceived: h.received };
        if (err !== undefined) result.error = { kind: classifySendError(err), message: describeSendError(err) };
        const response = h.status === null || !keep ? null : { status: h.status, statusText: h.statusText, headers: h.headers, body: h.body(), bodyBytes: h.bodyBytes };
        if (response && err === undefined) {
          const missing = this.variables.learn(ex, s.copy, { status: response.status, headers: response.headers, body: response.body });
          if (missing.length > 0) this.gate.noteOutcome(s, `answered ${response.status} without ${missing.map((m) => `\${${m}}`).join(', ')}`);
          else this.gate.noteOutcome(s, '', true);
        } else if (err !== undefined && this.variables.needsResponse(ex)) {
          this.gate.noteOutcome(s, `failed (${result.error?.kind}: ${result.error?.message})`);
        }
        if (lane !== undefined) this.releaseLane(lane);
        resolve({ result, request: req, response });
      });
      if (this.timeoutMs < PRECISE_TIMEOUT_BELOW_MS) handler.expireAfter(this.timeoutMs);
      try {
        dispatcher.dispatch(
          {
            origin: this.o.target.origin,
            method: req.method,
            path: req.path,
            headers: req.headers,
            body: req.body,
            headersTimeout: this.timeoutMs,
            bodyTimeout: this.timeoutMs,
          },
          handler,
        );
      } catch (err) {
        handler.onError(err as Error);
      }
    });
  }

  // Amplified copies of an exchange without templates are the same bytes: build them once.
  // Keyed by the exchange object, so a lap's records (new objects) do not pin earlier ones.
  private readonly built = new WeakMap<object, SendableRequest>();

  private requestFor(ex: PlannedSend['exchange'], copy: number): SendableRequest {
    if (replayAnnotations(ex).templates) return buildRequest(this.variables.resolve(ex, copy), this.o.target.authority, this.o.headers);
    let req = this.built.get(ex);
    if (!req) {
      req = buildRequest(ex, this.o.target.authority, this.o.headers);
      this.built.set(ex, req);
    }
    return req;
  }

  private laneClient(lane: string): Dispatcher {
    let l = this.lanes.get(lane);
    if (l) {
      // Most recently used at the back: eviction takes idle ones from the front.
      this.lanes.delete(lane);
      this.lanes.set(lane, l);
    } else {
      l = { client: new Client(this.o.target.origin, this.clientOptions), busy: 0 };
      this.lanes.set(lane, l);
      this.evictIdleLanes();
    }
    l.busy++;
    return l.client;
  }

  private releaseLane(lane: string): void {
    const l = this.lanes.get(lane);
    if (l) l.busy--;
  }

  private evictIdleLanes(): void {
    const max = this.o.maxLaneClients ?? 1024;
    if (this.lanes.size <= max) return;
    for (const [key, l] of this.lanes) {
      if (this.lanes.size <= max) break;
      if (l.busy > 0) continue;
      this.lanes.delete(key);
      void l.client.close().catch(() => undefined);
    }
  }

  /** Close every connection (waits for in-flight requests). */
  async close(): Promise<void> {
    const all = [this.pool.close(), ...[...this.lanes.values()].map((l) => l.client.close())];
    this.lanes.clear();
    await Promise.allSettled(all);
  }

  /** Abort everything now (a second Ctrl-C). */
  async destroy(): Promise<void> {
    const all = [this.pool.destroy(), ...[...this.lanes.values()].map((l) => l.client.destroy())];
    this.lanes.clear();
    await Promise.allSettled(all);
  }
}
