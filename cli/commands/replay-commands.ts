import { redactHeadersFromArgs } from '../redact-options.js';
import { RepriseError } from '../../errors.js';
import type { Header } from '../../store/exchange.js';
import { parseDuration } from '../../transform/config/field-spec.js';
import { loadTemplateVars } from '../../transform/templates/resolve-templates.js';
import { parseHeaderOption } from '../../replay/dispatch/build-request.js';
import { formatReplaySummary } from '../../replay/report/format-summary.js';
import { runReplayJob, type ReplayJobResult } from '../../replay/replay-job.js';
import { planReplay, type ReplayOptions } from '../../replay/run-replay.js';
import { parseExcludeMethods } from '../../replay/safety/target-policy.js';
import { MAX_AMPLIFY, MAX_PLAN_MS, MAX_SPEED, MIN_SPEED } from '../../replay/schedule/plan-bounds.js';
import { summarizePlan, type PlanSummary } from '../../replay/schedule/plan-summary.js';
import { loadProfile } from '../../replay/schedule/rate-profile.js';
import { parseThresholds } from '../../replay/thresholds/parse-threshold.js';
import { requirePositionals, requireString, type Command, type ParsedArgs } from '../command.js';
import { FILTER_OPTIONS, filterFromArgs } from '../filter-options.js';
import { HTTP_TOKEN } from '../../store/http-token.js';

/** A threshold failed: its own exit code, so CI can tell "slow" from "broken". */
export const EXIT_THRESHOLD_FAILED = 3;

export const replayCommand: Command = {
  path: ['replay'],
  args: '<store>',
  summary: 'Replay a store against a target: speed, amplify or a rate profile, open-model scheduling, coordinated-omission-correct latency, thresholds and reports.',
  options: {
    target: { type: 'string', short: 't', hint: 'url', description: 'where requests go: http(s)://host[:port] (required)' },
    speed: { type: 'string', hint: 'N', description: 'divide recorded gaps by N (10 = the same requests in a tenth of the time; default 1)' },
    amplify: { type: 'string', hint: 'N', description: 'send each request N times, spread over the gap to the next (default 1)' },
    profile: { type: 'string', hint: 'file.yaml', description: 'absolute rate shape (constant, ramp, spike, steps); the recorded mix is drawn in order' },
    loop: { type: 'boolean', description: 'start over when the recording ends (needs --duration unless --profile)' },
    duration: { type: 'string', hint: 'time', description: 'stop after this much replay time (30s, 5m); with --max, how long to run (default 10s)' },
    'max-gap': { type: 'string', hint: 'time', description: 'cap any single gap (after --speed), e.g. 2s' },
    ...FILTER_OPTIONS,
    'dry-run': { type: 'boolean', description: 'print the plan (sends, duration, rate per second) and send nothing' },
    concurrency: { type: 'string', hint: 'N', description: 'most requests in flight (default 256); a due send beyond it waits and is counted late' },
    'max-queue': { type: 'string', hint: 'N', description: 'sends waiting for a slot before new ones are dropped (default 10000)' },
    'max-late': { type: 'string', hint: 'time', description: 'drop a waiting send this far behind schedule instead of sending it late' },
    'connection-fidelity': { type: 'boolean', description: 'requests of one recorded connection go on one connection, in order' },
    timeout: { type: 'string', hint: 'time', description: 'connect / response / body-idle timeout (default 30s)' },
    header: { type: 'string', short: 'H', multiple: true, hint: 'K: V', description: 'set a header on every request (replaces a recorded one)' },
    'secrets-file': { type: 'string', hint: 'file', description: 'values for ${NAME} templates (NAME=value lines, or YAML/JSON); the environment is used too' },
    'ca-file': { type: 'string', hint: 'pem', description: 'trust these CAs for an https target (staging)' },
    insecure: { type: 'boolean', description: 'accept any TLS certificate (never for production)' },
    'allow-host': { type: 'string', multiple: true, hint: 'host', description: 'hosts a target may name; when given, any other target is refused' },
    'allow-recorded-host': { type: 'boolean', description: 'permit a target on the host the traffic was recorded from (production!)' },
    'exclude-methods': { type: 'string', hint: 'list', description: 'never send these methods: POST,DELETE or "unsafe" (all but GET, HEAD, OPTIONS, TRACE)' },
    'record-out': { type: 'string', hint: 'store', description: 'store the replayed exchanges (request as sent + live response) in a new or empty store' },
    append: { type: 'boolean', description: '--record-out: add this run to a store that already holds exchanges (refused otherwise, so runs are not mixed)' },
    'redact-header': { type: 'string', multiple: true, hint: 'name', description: '--record-out: also redact this header (Authorization, Cookie, Set-Cookie, API keys always are)' },
    'no-redact': { type: 'boolean', description: '--record-out: store the default secret headers as sent (--redact-header ones are still redacted)' },
    threshold: { type: 'string', multiple: true, hint: 'expr', description: "pass/fail gate: 'p99<250ms', 'error_rate<1%', 'rate>=0.99*target' (exit 3 on failure)" },
    report: { type: 'string', hint: 'dir', description: 'write summary.json, junit.xml and report.html here' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress line' },
    json: { type: 'boolean', description: 'print the summary (or the --dry-run plan) as JSON' },
    workers: { type: 'string', hint: 'N', description: 'send from N processes, for rates one process cannot reach: a timed plan is split by send, --max splits --connections (no progress line, no --record-out)' },
    max: { type: 'boolean', description: 'throughput mode: the recorded mix through autocannon, closed model, as fast as the target answers' },
    connections: { type: 'string', hint: 'N', description: '--max: concurrent connections (default 50)' },
    pipelining: { type: 'string', hint: 'N', description: '--max: requests in flight per connection (default 1)' },
  },
  examples: [
    'reprise replay ./store --target http://staging.internal:8080 --speed 10 --amplify 3',
    "reprise replay ./store --target http://staging.internal:8080 --profile spike.yaml --threshold 'p99<250ms' --report out/",
    'reprise replay ./store --target https://staging.internal --ca-file staging-ca.pem --exclude-methods unsafe --dry-run',
    'reprise replay ./store --target http://127.0.0.1:8080 --max --connections 100 --duration 30s',
  ],
  async run(parsed, ctx) {
    const [store] = requirePositionals(this, parsed, ['<store>']);
    const v = parsed.values;
    const target = requireString(this, parsed, 'target');
    const thresholds = parseThresholds(strings(v.threshold));
    const options = await replayOptions(parsed, store!, target);
    const ac = new AbortController();
    // First Ctrl-C: stop sending, let in-flight requests finish, still report. Second: the default (exit).
    const onSigint = (): void => {
      ctx.log?.warn('stopping: no new sends, waiting for in-flight requests (Ctrl-C again to quit now)');
      ac.abort();
      process.off('SIGINT', onSigint);
    };

    if (v['dry-run']) {
      if (v.max) throw new RepriseError('CLI_USAGE', 'replay: --dry-run plans a timed replay; --max has no plan');
      const plan = await summarizePlan(planReplay(options));
      ctx.stdout.write(v.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
      return 0;
    }

    const workers = v.workers === undefined ? 1 : integer(v.workers, '--workers');
    process.on('SIGINT', onSigint);
    let result: ReplayJobResult;
    try {
      result = await runReplayJob({
        replay: options,
        ...(v.max && {
          max: {
            durationMs: v.duration === undefined ? 10_000 : duration(v.duration, '--duration'),
            ...(v.connections !== undefined && { connections: integer(v.connections, '--connections') }),
            ...(v.pipelining !== undefined && { pipelining: integer(v.pipelining, '--pipelining') }),
          },
        }),
        workers,
        thresholds,
        ...(v.report !== undefined && { reportDir: String(v.report) }),
        progress: v.quiet || v.json ? null : (ctx.stderr as NodeJS.WritableStream),
        reportOptions: reportableOptions(parsed),
        signal: ac.signal,
        ...(ctx.log && { log: ctx.log }),
      });
    } finally {
      process.off('SIGINT', onSigint);
    }
    const { input, outcomes, extra } = result;
    ctx.stdout.write(v.json ? `${JSON.stringify({ ...extra, metrics: input.snapshot, thresholds: outcomes }, null, 2)}\n` : `${formatReplaySummary(input)}\n`);
    if (ac.signal.aborted) ctx.log?.warn('the run was stopped early; the figures cover what was sent');
    return result.passed ? 0 : EXIT_THRESHOLD_FAILED;
  },
};

/** Flags → the library's options; every value checked here, with the flag's name in the message. */
async function replayOptions(parsed: ParsedArgs, store: string, target: string): Promise<ReplayOptions> {
  const v = parsed.values;
  const o: ReplayOptions = { store, target };
  const filter = filterFromArgs(parsed);
  if (Object.keys(filter).length > 0) o.filter = filter;
  if (v.speed !== undefined) o.speed = within(number(v.speed, '--speed'), v.speed, '--speed', MIN_SPEED, MAX_SPEED, `from ${MIN_SPEED} to ${MAX_SPEED}`);
  if (v.amplify !== undefined) o.amplify = within(integer(v.amplify, '--amplify'), v.amplify, '--amplify', 1, MAX_AMPLIFY, `from 1 to ${MAX_AMPLIFY}`);
  if (typeof v.profile === 'string') o.profile = await loadProfile(v.profile);
  if (v.loop) o.loop = true;
  if (v.duration !== undefined && !v.max) o.maxDurationMs = within(duration(v.duration, '--duration'), v.duration, '--duration', 0, MAX_PLAN_MS, 'at most 30d');
  if (v['max-gap'] !== undefined) o.maxGapMs = duration(v['max-gap'], '--max-gap');
  if (v.concurrency !== undefined) o.concurrency = integer(v.concurrency, '--concurrency');
  if (v['max-queue'] !== undefined) o.maxQueue = integer(v['max-queue'], '--max-queue');
  if (v['max-late'] !== undefined) o.maxLateMs = duration(v['max-late'], '--max-late');
  if (v['connection-fidelity']) o.connectionFidelity = true;
  if (v.timeout !== undefined) o.timeoutMs = duration(v.timeout, '--timeout');
  const headers = strings(v.header).map((h): Header => {
    const pair = parseHeaderOption(h);
    // The value may be a secret: the message names the flag, never echoes it.
    if (!pair || !HTTP_TOKEN.test(pair[0]) || /[\r\n]/.test(pair[1])) throw new RepriseError('CLI_USAGE', 'replay: --header must look like "Name: value" (a token name, no line breaks)');
    return pair;
  });
  if (headers.length > 0) o.headers = headers;
  o.vars = await loadTemplateVars({ env: process.env, ...(typeof v['secrets-file'] === 'string' && { secretsFile: v['secrets-file'] }) });
  if (typeof v['ca-file'] === 'string') o.caFile = v['ca-file'];
  if (v.insecure) o.insecure = true;
  const allow = strings(v['allow-host']).flatMap((h) => h.split(',')).map((h) => h.trim()).filter(Boolean);
  if (allow.length > 0) o.allowHosts = allow;
  if (v['allow-recorded-host']) o.allowRecordedHost = true;
  if (typeof v['exclude-methods'] === 'string') Object.assign(o, parseExcludeMethods(v['exclude-methods']));
  if (typeof v['record-out'] === 'string') {
    if (v.max) throw new RepriseError('CLI_USAGE', 'replay: --record-out works with timed replay, not --max');
    o.recordOut = v['record-out'];
    if (v.append) o.recordOutAppend = true;
    o.recordOutRedact = redactHeadersFromArgs(v);
  } else {
    const only = v.append ? '--append' : v['no-redact'] ? '--no-redact' : v['redact-header'] !== undefined ? '--redact-header' : undefined;
    if (only) throw new RepriseError('CLI_USAGE', `replay: ${only} applies to the --record-out store; give --record-out too`);
  }
  return o;
}

/** The flags as given, for the report (the report module redacts headers and secrets). */
function reportableOptions(parsed: ParsedArgs): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(parsed.values)) if (val !== undefined && k !== 'help' && k !== 'debug') out[k] = val;
  return out;
}

function formatPlan(p: PlanSummary): string {
  const lines = [
    `plan: ${p.sends} sends of ${p.exchanges} recorded exchanges over ${(p.durationUs / 1e6).toFixed(3)} s`,
    `rate: mean ${p.meanRate.toFixed(1)}/s, peak ${Number.isInteger(p.peakRate) ? p.peakRate : p.peakRate.toFixed(1)}/s`,
    '',
    'second  sends',
  ];
  // A long plan is shown by its head and tail; --json has every second.
  const shown = p.perSecond.length <= 60 ? p.perSecond.map((n, i) => [i, n] as const) : [...p.perSecond.slice(0, 30).map((n, i) => [i, n] as const), [-1, 0] as const, ...p.perSecond.slice(-10).map((n, i) => [p.perSecond.length - 10 + i, n] as const)];
  for (const [s, n] of shown) lines.push(s === -1 ? `  …     (${p.perSecond.length - 40} more seconds; --json for all)` : `${String(s).padStart(6)}  ${n}`);
  return `${lines.join('\n')}\n`;
}

function strings(x: string | boolean | string[] | undefined): string[] {
  return x === undefined || typeof x === 'boolean' ? [] : Array.isArray(x) ? x : [x];
}

function number(x: unknown, flag: string): number {
  const n = Number(x);
  if (typeof x !== 'string' || x.trim() === '' || !Number.isFinite(n) || n <= 0) throw new RepriseError('REPLAY_OPTIONS_INVALID', `${flag} "${String(x)}": must be a number > 0`);
  return n;
}

function integer(x: unknown, flag: string): number {
  const n = number(x, flag);
  if (!Number.isInteger(n)) throw new RepriseError('REPLAY_OPTIONS_INVALID', `${flag} "${String(x)}": must be a whole number`);
  return n;
}

/** The schedule's limits (replay/schedule/plan-bounds.ts), said with the flag's name. */
function within(n: number, raw: unknown, flag: string, min: number, max: number, range: string): number {
  if (n < min || n > max) throw new RepriseError('REPLAY_OPTIONS_INVALID', `${flag} "${String(raw)}": must be ${range}`);
  return n;
}

function duration(x: unknown, flag: string): number {
  const ms = typeof x === 'string' ? parseDuration(x) : null;
  if (ms === null || ms <= 0) throw new RepriseError('REPLAY_OPTIONS_INVALID', `${flag} "${String(x)}": must be a duration like 500ms, 30s, 5m (a bare number is ms)`);
  return ms;
}
