import { performance } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import type { Exchange } from '../../store/exchange.js';
import { bodyToBuffer } from '../../store/body.js';
import { isRepriseError } from '../../errors.js';
import { SendVariables } from '../dispatch/send-variables.js';
import { collectBody } from './comparable-body.js';
import type { ResponseSide } from './diff-types.js';
import type { LiveTarget } from './live-targets.js';

/**
 * Sends one recorded request to each live target, in the order baseline →
 * candidate → second baseline, one after the other: the second baseline is
 * always the latest, so clock-like fields differ between the baselines at
 * least as often as between baseline and candidate, and noise is never
 * under-estimated. Redirects are not followed; nothing but the given targets
 * is contacted.
 */

export interface LiveSenderOptions {
  /** Requests in flight per target. */
  connections: number;
  timeoutMs: number;
  bodyCap: number;
  /**
   * Headers set on every request, replacing recorded ones of the same name
   * (e.g. a staging token where capture redacted the real one). Values are
   * never logged or reported.
   */
  setHeaders?: ReadonlyArray<readonly [string, string]>;
  /**
   * Values for `${NAME}` templates left by parameterize (environment, secrets).
   * Correlation values (`${corr.…}`) are learned per target from that
   * target's own responses: each release issues its own tokens and ids.
   */
  vars?: Readonly<Record<string, string>>;
}

export interface TargetCounters {
  sent: number;
  failed: number;
  firstError?: string;
}

/** Request headers never forwarded: per-hop framing, and Host (the target's own is used). */
const DROP_REQUEST_HEADERS = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'proxy-connection', 'te', 'trailer', 'expect', 'http2-settings']);

export class LiveSender {
  private readonly pools = new Map<string, Pool>();
  private readonly overridden: ReadonlySet<string>;
  private readonly variables = new Map<LiveTarget['role'], SendVariables>();
  readonly counters = new Map<LiveTarget['role'], TargetCounters>();

  constructor(
    private readonly targets: readonly LiveTarget[],
    private readonly options: LiveSenderOptions,
  ) {
    this.overridden = new Set((options.setHeaders ?? []).map(([n]) => n.toLowerCase()));
    for (const t of targets) {
      this.pools.set(t.role, new Pool(t.origin, {
        connections: options.connections,
        // Short keep-alive: a diff run is a burst, idle sockets should not outlive it.
        keepAliveTimeout: 4_000,
        // undici stops reusing a socket this long before the server's announced keep-alive timeout ends
        // (default 2 s): against a server announcing 2 s that would be a new connection per request.
        keepAliveTimeoutThreshold: 1_000,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      }));
      this.counters.set(t.role, { sent: 0, failed: 0 });
      this.variables.set(t.role, new SendVariables(options.vars ?? {}, 1, Date.now()));
    }
  }

  /** One response per target, in target order. */
  async send(ex: Exchange): Promise<ResponseSide[]> {
    const sides: ResponseSide[] = [];
    for (const t of this.targets) sides.push(await this.sendOne(t, ex));
    return sides;
  }

  private async sendOne(target: LiveTarget, recorded: Exchange): Promise<ResponseSide> {
    const pool = this.pools.get(target.role)!;
    const counters = this.counters.get(target.role)!;
    const variables = this.variables.get(target.role)!;
    let ex: Exchange;
    try {
      ex = variables.resolve(recorded, 0);
    } catch (err) {
      // A template with no value (an unset variable, a token no earlier response of this target gave):
      // not sent, and said so, rather than sent with a literal `${…}`.
      if (!isRepriseError(err)) throw err;
      counters.failed++;
      counters.firstError ??= err.message;
      return { status: null, headers: [], body: null, latencyMs: null, error: `not sent: ${err.message}` };
    }
    const req = ex.request;
    const headers: string[] = [];
    const overridden = this.overridden;
    for (const [name, value] of req.headers) {
      const lower = name.toLowerCase();
      if (DROP_REQUEST_HEADERS.has(lower) || overridden.has(lower)) continue;
      // The store holds the decoded request body; say so rather than claim an encoding it no longer has.
      if (lower === 'content-encoding' && req.body?.contentEncoding) continue;
      headers.push(name, value);
    }
    for (const [name, value] of this.options.setHeaders ?? []) headers.push(name, value);
    const path = `${target.basePath}${req.path}${req.query === '' ? '' : `?${req.query}`}`;
    const body = req.body ? bodyToBuffer(req.body) : undefined;
    counters.sent++;
    const t0 = performance.now();
    try {
      const res = await pool.request({ path, method: req.method as Dispatcher.HttpMethod, headers, body, signal: AbortSignal.timeout(this.options.timeoutMs) });
      const resHeaders = flattenHeaders(res.headers);
      const encoding = resHeaders.find(([n]) => n === 'content-encoding')?.[1];
      const comparable = req.method === 'HEAD' ? null : await collectBody(res.body, encoding, this.options.bodyCap);
      if (variables.needsResponse(recorded)) {
        variables.learn(recorded, 0, { status: res.statusCode, headers: resHeaders, body: comparable ? (comparable.text ?? comparable.bytes) : null });
      }
      return {
        status: res.statusCode,
        headers: resHeaders,
        body: comparable && comparable.size === 0 ? null : comparable,
        latencyMs: performance.now() - t0,
      };
    } catch (err) {
      counters.failed++;
      const error = describeSendError(err);
      counters.firstError ??= error;
      return { status: null, headers: [], body: null, latencyMs: null, error };
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }
}

function flattenHeaders(h: Record<string, string | string[] | undefined>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [name, v] of Object.entries(h)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.push([name.toLowerCase(), x]);
    else out.push([name.toLowerCase(), v]);
  }
  return out;
}

/** `refused`, `timeout`, `reset` …: a stable word first, so the same failure groups in reports. */
function describeSendError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e?.code ?? e?.cause?.code ?? '';
  if (code === 'ECONNREFUSED') return 'error: refused';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'error: timeout';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return 'error: reset';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'error: dns';
  return `error: ${code || e?.message || String(err)}`;
}
