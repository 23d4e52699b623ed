import { openRecorder, type RecorderOptions } from '../../capture/proxy/exchange-recorder.js';
import { formatProxyStats, type ProxyStats } from '../../capture/proxy/proxy-stats.js';
import { startReverseProxy } from '../../capture/proxy/reverse-proxy.js';
import { DEFAULT_ADMIN_PATH, validateReverseProxyOptions, type ReverseProxyOptions } from '../../capture/proxy/reverse-proxy-options.js';
import { RepriseError } from '../../errors.js';
import { requirePositionals, requireString, type Command, type CommandContext, type OptionSpec, type ParsedArgs } from '../command.js';
import { REDACT_OPTIONS, redactHeadersFromArgs } from '../redact-options.js';
import { FORWARD_PROXY_OPTIONS, runForwardProxy } from './forward-proxy-command.js';
import { parseListenAddress } from '../../capture/listen-address.js';

/**
 * `reprise capture proxy`: a recording proxy that runs until SIGINT/SIGTERM.
 * Reverse mode (--upstream) is built here; forward mode (--forward) plugs
 * into run() as its own branch and shares the recorder flags and
 * `serveUntilSignal`.
 */

const PROXY_OPTIONS: Record<string, OptionSpec> = {
  listen: { type: 'string', hint: 'addr:port', description: 'address to accept clients on, e.g. 127.0.0.1:8080 (a bare port means 127.0.0.1)' },
  upstream: { type: 'string', hint: 'url', description: 'reverse mode: where every request goes, http://host:port' },
  forward: { type: 'boolean', description: 'forward mode (set as HTTP_PROXY/HTTPS_PROXY) instead of --upstream' },
  out: { type: 'string', short: 'o', hint: 'store', description: 'store directory to append to (created if missing)' },
  sample: { type: 'string', hint: 'rate', description: 'fraction of exchanges recorded, 0–1 (default 1)' },
  'per-endpoint-rate': { type: 'string', hint: 'n', description: 'record at most n exchanges per second per endpoint template (GET /users/:id)' },
  'no-keep-errors': { type: 'boolean', description: 'let sampling drop 5xx responses and upstream failures too (kept by default)' },
  'body-cap': { type: 'string', hint: 'bytes', description: 'bytes of each body stored (default 1048576); clients always get the whole body' },
  'queue-limit': { type: 'string', hint: 'n', description: 'records waiting for a slow store before new ones are dropped and counted (default 10000)' },
  'segment-bytes': { type: 'string', hint: 'bytes', description: 'rotate to a new store segment at this compressed size (default 64 MiB)' },
  'upstream-timeout': { type: 'string', hint: 'ms', description: 'wait for the upstream response head, and for each body pause, at most this long: then 504 (default 30000)' },
  'admin-path': { type: 'string', hint: 'path', description: `GET here on the proxy port returns live stats as JSON (default ${DEFAULT_ADMIN_PATH}; "off" disables)` },
  ...REDACT_OPTIONS,
  json: { type: 'boolean', description: 'print the final stats as JSON' },
  ...FORWARD_PROXY_OPTIONS,
};

export const captureProxyCommand: Command = {
  path: ['capture', 'proxy'],
  args: '',
  summary: 'Run a recording proxy: every request goes to --upstream and back unchanged while the exchanges are written to the store. Runs until SIGINT/SIGTERM; SIGUSR1 logs stats.',
  options: PROXY_OPTIONS,
  examples: [
    'reprise capture proxy --listen 127.0.0.1:8080 --upstream http://127.0.0.1:3000 --out ./store',
    'reprise capture proxy --listen 0.0.0.0:8080 --upstream http://app:3000 --out ./store --sample 0.1 --per-endpoint-rate 5',
    'curl -s localhost:8080/__reprise/stats   # live stats while it runs',
  ],
  async run(parsed, ctx) {
    requirePositionals(this, parsed, []);
    if (parsed.values.forward) {
      const flags = new FlagReader(this, parsed);
      return runForwardProxy(this, parsed, ctx, { flags, recorderOptions: recorderOptionsFromArgs(flags), serve: serveUntilSignal });
    }
    return runReverseProxy(this, parsed, ctx);
  },
};

async function runReverseProxy(cmd: Command, parsed: ParsedArgs, ctx: CommandContext): Promise<number> {
  const flags = new FlagReader(cmd, parsed);
  const out = requireString(cmd, parsed, 'out');
  const upstream = requireString(cmd, parsed, 'upstream');
  const listen = flags.listen();
  const recorderOptions = recorderOptionsFromArgs(flags);
  const bodyCap = flags.int('body-cap', 0);
  const upstreamTimeoutMs = flags.int('upstream-timeout', 1);
  const admin = parsed.values['admin-path'];
  flags.done();
  const options: Omit<ReverseProxyOptions, 'recorder'> = {
    listen,
    upstream,
    ...(bodyCap !== undefined ? { bodyCap } : {}),
    ...(upstreamTimeoutMs !== undefined ? { upstreamTimeoutMs } : {}),
    ...(typeof admin === 'string' ? { adminPath: admin === 'off' ? false : admin } : {}),
  };
  validateReverseProxyOptions(options); // before the store is created
  const recorder = await openRecorder(out, recorderOptions);
  const proxy = await startReverseProxy({ ...options, recorder }).catch(async (err: unknown) => {
    await recorder.closeAfterError(); // a proxy that never started leaves no empty store it created
    throw err;
  });
  ctx.log?.info({ listen: proxy.address.url, upstream, store: out, captureId: proxy.captureId, admin: options.adminPath === false ? null : (options.adminPath ?? DEFAULT_ADMIN_PATH) }, 'recording reverse proxy listening');
  return serveUntilSignal(proxy, ctx, { json: parsed.values.json === true, store: out });
}

/** What serveUntilSignal needs of a proxy (reverse or forward). */
export interface RunningProxy {
  readonly stats: ProxyStats;
  close(): Promise<ProxyStats>;
}

/**
 * Serve until SIGINT or SIGTERM, logging stats on SIGUSR1; then close
 * gracefully (in-flight requests finish, the store is flushed) and print the
 * final stats. The signal handlers are removed before closing, so a second
 * Ctrl-C during a slow shutdown kills the process the default way.
 */
export async function serveUntilSignal(proxy: RunningProxy, ctx: CommandContext, options: { json: boolean; store: string }): Promise<number> {
  const onStats = (): void => ctx.log?.info({ stats: proxy.stats }, 'proxy stats');
  process.on('SIGUSR1', onStats);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (s: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(s);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  ctx.log?.info({ signal }, 'shutting down: finishing in-flight requests, flushing the store');
  let final: ProxyStats;
  try {
    final = await proxy.close();
  } finally {
    process.off('SIGUSR1', onStats);
  }
  const level = final.recorder.dropped > 0 || final.recorder.writeErrors > 0 ? 'warn' : 'info';
  ctx.log?.[level]({ stats: final }, 'proxy stopped');
  ctx.stdout.write(options.json ? `${JSON.stringify(final, null, 2)}\n` : `${formatProxyStats(final)}\nstore           ${options.store}\n`);
  return 0;
}

/** Recorder flags shared by both modes: sampling, queue, redaction, segments. */
export function recorderOptionsFromArgs(flags: FlagReader): RecorderOptions & { writer: { segmentBytes?: number } } {
  const v = flags.parsed.values;
  const rate = flags.number('sample', 0, 1);
  const perEndpoint = flags.int('per-endpoint-rate', 1);
  const queueLimit = flags.int('queue-limit', 1);
  const segmentBytes = flags.int('segment-bytes', 1);
  return {
    sampling: {
      ...(rate !== undefined ? { rate } : {}),
      ...(perEndpoint !== undefined ? { perEndpointPerSecond: perEndpoint } : {}),
      keepErrors: v['no-keep-errors'] !== true,
    },
    ...(queueLimit !== undefined ? { queueLimit } : {}),
    redactHeaders: redactHeadersFromArgs(v),
    writer: segmentBytes !== undefined ? { segmentBytes } : {},
  };
}

/** Reads numeric flags, collecting every problem so one usage error lists them all. */
export class FlagReader {
  private readonly problems: string[] = [];
  constructor(readonly cmd: Command, readonly parsed: ParsedArgs) {}

  int(name: string, min: number): number | undefined {
    const raw = this.parsed.values[name];
    if (typeof raw !== 'string') return undefined;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(n) || n < min) this.problems.push(`--${name} "${raw}" must be a whole number ≥ ${min}`);
    return n;
  }

  number(name: string, min: number, max: number): number | undefined {
    const raw = this.parsed.values[name];
    if (typeof raw !== 'string') return undefined;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) this.problems.push(`--${name} "${raw}" must be a number from ${min} to ${max}`);
    return n;
  }

  /** --listen as `host:port`, `[v6]:port` or a bare port (127.0.0.1). */
  listen(): { host: string; port: number } {
    const raw = requireString(this.cmd, this.parsed, 'listen');
    const address = parseListenAddress(raw);
    if (!address) this.problems.push(`--listen "${raw}" must be addr:port (or a port)`);
    return address ?? { host: '127.0.0.1', port: NaN };
  }

  /** Throw one CLI_USAGE error naming every bad flag, if any. */
  done(): void {
    if (this.problems.length > 0) throw new RepriseError('CLI_USAGE', `${this.cmd.path.join(' ')}: ${this.problems.join('; ')}`);
  }
}
