import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CaPem } from '../../capture/proxy/ca-create.js';
import { CA_CERT_FILE, DEFAULT_CA_DIR, loadCa } from '../../capture/proxy/ca-files.js';
import type { RecorderOptions } from '../../capture/proxy/exchange-recorder.js';
import { openRecorder } from '../../capture/proxy/exchange-recorder.js';
import { startForwardProxy } from '../../capture/proxy/forward-proxy.js';
import { validateForwardProxyOptions, type ForwardProxyOptions } from '../../capture/proxy/forward-proxy-options.js';
import { DEFAULT_ADMIN_PATH } from '../../capture/proxy/reverse-proxy-options.js';
import { RepriseError } from '../../errors.js';
import { requireString, type Command, type CommandContext, type OptionSpec, type ParsedArgs } from '../command.js';
// Type-only: proxy-commands.ts imports this file, and hands its shared pieces in (ForwardKit).
import type { FlagReader, RunningProxy } from './proxy-commands.js';

/**
 * `reprise capture proxy --forward`: the forward-mode branch of
 * `capture proxy` (proxy-commands.ts owns the command, the recorder flags and
 * the run-until-signal loop, and passes them in). With a CA — `--ca-dir`, or
 * ~/.reprise/ca when it exists — CONNECT tunnels are intercepted and HTTPS is
 * recorded; without one they are tunnelled unread and a warning says so.
 */

export const FORWARD_PROXY_OPTIONS: Record<string, OptionSpec> = {
  forward: { type: 'boolean', description: 'forward mode (set as HTTP_PROXY/HTTPS_PROXY) instead of --upstream' },
  'ca-dir': { type: 'string', hint: 'dir', description: `forward mode: CA made by \`reprise ca init\` for HTTPS interception (default ${DEFAULT_CA_DIR} when it exists)` },
  'pass-through': { type: 'string', multiple: true, hint: 'glob', description: 'forward mode: hosts never intercepted nor recorded, e.g. "*.bank.example" (CONNECT tunnelled as raw TCP)' },
  'no-intercept': { type: 'boolean', description: 'forward mode: tunnel every CONNECT unread, even with a CA' },
  'upstream-ca': { type: 'string', hint: 'file', description: 'forward mode: also trust this CA (PEM) for upstream TLS' },
};

/** What `capture proxy` shares with its forward branch. */
export interface ForwardKit {
  flags: FlagReader;
  recorderOptions: RecorderOptions & { writer: { segmentBytes?: number } };
  serve(proxy: RunningProxy, ctx: CommandContext, options: { json: boolean; store: string }): Promise<number>;
}

/**
 * Run the recording forward proxy until SIGINT/SIGTERM.
 *
 * @example
 * if (parsed.values.forward) return runForwardProxy(this, parsed, ctx, { flags, recorderOptions, serve: serveUntilSignal });
 */
export async function runForwardProxy(cmd: Command, parsed: ParsedArgs, ctx: CommandContext, kit: ForwardKit): Promise<number> {
  const v = parsed.values;
  if (typeof v.upstream === 'string') throw new RepriseError('CLI_USAGE', `${cmd.path.join(' ')}: --forward and --upstream do not go together (forward mode goes wherever each request names)`);
  const out = requireString(cmd, parsed, 'out');
  const { flags } = kit;
  const listen = flags.listen();
  const bodyCap = flags.int('body-cap', 0);
  const upstreamTimeoutMs = flags.int('upstream-timeout', 1);
  flags.done();
  const admin = v['admin-path'];
  const ca = await caFromArgs(parsed);
  const upstreamCaFile = typeof v['upstream-ca'] === 'string' ? v['upstream-ca'] : undefined;
  const options: Omit<ForwardProxyOptions, 'recorder'> = {
    listen,
    passThrough: (v['pass-through'] as string[] | undefined) ?? [],
    ...(ca ? { ca: ca.pem } : {}),
    ...(upstreamCaFile ? { upstreamCa: await readPem(upstreamCaFile) } : {}),
    ...(bodyCap !== undefined ? { bodyCap } : {}),
    ...(upstreamTimeoutMs !== undefined ? { upstreamTimeoutMs } : {}),
    ...(typeof admin === 'string' ? { adminPath: admin === 'off' ? false : admin } : {}),
  };
  validateForwardProxyOptions(options); // before the store is created
  const recorder = await openRecorder(out, kit.recorderOptions);
  const proxy = await startForwardProxy({ ...options, recorder }).catch(async (err: unknown) => {
    await recorder.closeAfterError(); // a proxy that never started leaves no empty store it created
    throw err;
  });
  ctx.log?.info({
    listen: proxy.address.url,
    store: out,
    captureId: proxy.captureId,
    intercept: ca ? ca.certPath : false,
    passThrough: options.passThrough,
    admin: options.adminPath === false ? null : (options.adminPath ?? DEFAULT_ADMIN_PATH),
  }, `recording forward proxy listening: HTTP_PROXY=${proxy.address.url} HTTPS_PROXY=${proxy.address.url}`);
  if (!ca && v['no-intercept'] !== true) {
    ctx.log?.warn(`no CA in ${DEFAULT_CA_DIR}: HTTPS is tunnelled, not recorded (create one with reprise ca init)`);
  }
  return kit.serve(proxy, ctx, { json: v.json === true, store: out });
}

/** The CA to intercept with: --ca-dir (must exist), else the default directory if it has one; none with --no-intercept. */
async function caFromArgs(parsed: ParsedArgs): Promise<{ pem: CaPem; certPath: string } | null> {
  if (parsed.values['no-intercept'] === true) return null;
  const explicit = typeof parsed.values['ca-dir'] === 'string' ? parsed.values['ca-dir'] : null;
  try {
    const dir = explicit ?? DEFAULT_CA_DIR;
    return { pem: await loadCa(dir), certPath: join(dir, CA_CERT_FILE) };
  } catch (err) {
    if (explicit === null && err instanceof RepriseError && err.code === 'CA_NOT_FOUND') return null;
    throw err;
  }
}

async function readPem(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE';
    throw new RepriseError(code, `--upstream-ca ${file}: ${(err as Error).message}`, { cause: err });
  }
}
