import { RepriseError } from '../../errors.js';
import { loadTemplateVars } from '../../transform/templates/resolve-templates.js';
import type { DiffReport } from '../../replay/diff/diff-report.js';
import { parseArrayRule } from '../../replay/diff/array-rules.js';
import type { ArrayMode, DiffRulesInput } from '../../replay/diff/diff-rules.js';
import { loadDiffRulesFile, type DiffRulesFile } from '../../replay/diff/diff-rules-file.js';
import { DEFAULT_DIFF_THRESHOLDS, judgeDiff, parseDiffThresholds } from '../../replay/diff/diff-thresholds.js';
import { renderDiffTerminal } from '../../replay/diff/report/render-terminal.js';
import { writeDiffReports } from '../../replay/diff/report/write-diff-reports.js';
import { diffLive, diffStores, type DiffCommonOptions } from '../../replay/diff/run-diff.js';
import { requirePositionals, type Command, type ParsedArgs } from '../command.js';
import { FILTER_OPTIONS, filterFromArgs } from '../filter-options.js';

/** Exit code when thresholds fail: distinct from user errors (1) and usage (2), so CI can tell "the candidate differs" from "the run was wrong". */
export const EXIT_DIFF_FAILED = 4;

export const diffCommand: Command = {
  path: ['diff'],
  args: '[<store>]',
  summary: 'Diff responses between releases: live (replay <store> to --baseline, --candidate and optionally --baseline2) or offline (--left and --right stores). Noise is measured or set aside; thresholds set the exit code (4 when broken).',
  options: {
    rules: { type: 'string', hint: 'diff.yaml', description: 'comparison rules from a file (ignore, arrays, tolerance, headers, noise, thresholds; see docs/diff.md); flags add to it' },
    left: { type: 'string', hint: 'store', description: 'offline: the baseline store (e.g. recorded)' },
    right: { type: 'string', hint: 'store', description: 'offline: the candidate store (e.g. replayed); paired by exchange id, else by request identity' },
    baseline: { type: 'string', hint: 'url', description: 'live: the current release' },
    candidate: { type: 'string', hint: 'url', description: 'live: the release under test' },
    baseline2: { type: 'string', hint: 'url', description: 'live: a second instance of the current release, to measure noise' },
    'allow-method': { type: 'string', multiple: true, hint: 'METHOD', description: 'live: also send this method (only GET, HEAD, OPTIONS by default: others have side effects)' },
    'set-header': { type: 'string', multiple: true, hint: 'Name: value', description: 'live: set this header on every request, replacing the recorded one (e.g. a staging token; never logged)' },
    'secrets-file': { type: 'string', hint: 'file', description: 'live: values for ${NAME} templates left by transform parameterize (NAME=value lines, or YAML/JSON); the environment is used too' },
    concurrency: { type: 'string', hint: 'n', description: 'live: recorded requests in flight (default 8)' },
    'timeout-ms': { type: 'string', hint: 'ms', description: 'live: per-request timeout (default 10000)' },
    limit: { type: 'string', hint: 'n', description: 'live: stop after n pairs' },
    ignore: { type: 'string', multiple: true, hint: 'path', description: 'never report this field: $.meta, $.**.updatedAt, header.x-*' },
    array: { type: 'string', multiple: true, hint: '$.path=mode', description: 'pair array elements by index (default), multiset, or key:<field>' },
    tolerance: { type: 'string', hint: 'n', description: 'numbers within this absolute difference are equal' },
    'relative-tolerance': { type: 'string', hint: 'f', description: 'numbers within this fraction are equal (0.001 = 0.1%)' },
    'strict-numbers': { type: 'boolean', description: '1 and 1.0 differ (compare number text)' },
    'null-is-missing': { type: 'boolean', description: 'a null field and an absent one are the same' },
    'header-allow': { type: 'string', multiple: true, hint: 'name', description: 'compare only these headers' },
    'header-deny': { type: 'string', multiple: true, hint: 'name', description: 'never compare this header' },
    'volatile-header': { type: 'string', multiple: true, hint: 'name', description: 'compare this header on presence only (Date, X-Request-Id … already are)' },
    'body-cap': { type: 'string', hint: 'bytes', description: 'decoded bytes kept per body; larger bodies compare by size and sha256 (default 1048576)' },
    'noise-absolute': { type: 'string', hint: 'f', description: 'report a noisy field only if raw rate − noise rate ≥ this (default 0.03)' },
    'noise-relative': { type: 'string', hint: 'f', description: '… and (raw − noise) ÷ raw ≥ this (default 0.2)' },
    threshold: { type: 'string', multiple: true, hint: 'rule', description: 'fail (exit 4) unless: "no high" (default), "no medium", "no diff", "max_medium=5", "max_low=N", "max_total=N"; "none" disables' },
    report: { type: 'string', hint: 'dir', description: 'write diff-report.json, diff-junit.xml and diff-report.html there' },
    json: { type: 'boolean', description: 'print the report as JSON instead of text' },
    ...FILTER_OPTIONS,
  },
  examples: [
    'reprise diff ./recorded --baseline http://10.0.0.5:8080 --candidate http://10.0.0.6:8080 --baseline2 http://10.0.0.7:8080 --report out/',
    'reprise diff --left ./recorded --right ./replayed --ignore \'$.meta\' --array \'$.items=key:id\' --threshold "no high, max_medium=5"',
  ],
  async run(parsed, ctx) {
    const v = parsed.values;
    const file: DiffRulesFile = typeof v.rules === 'string' ? await loadDiffRulesFile(v.rules) : { rules: {}, noise: {}, thresholds: [] };
    const common: DiffCommonOptions = {
      rules: mergeRules(file.rules, rulesFromArgs(parsed)),
      noise: {
        ...file.noise,
        ...(v['noise-absolute'] !== undefined ? { absolute: num(parsed, 'noise-absolute') } : {}),
        ...(v['noise-relative'] !== undefined ? { relative: num(parsed, 'noise-relative') } : {}),
      },
      filter: filterFromArgs(parsed),
      onProgress: (pairs) => ctx.log?.info({ pairs }, 'diffing'),
    };
    const thresholds = parseDiffThresholds(list(parsed, 'threshold')?.join(',') ?? (file.thresholds.length > 0 ? file.thresholds.join(',') : DEFAULT_DIFF_THRESHOLDS));
    let report: DiffReport;
    if (v.left !== undefined || v.right !== undefined) {
      if (typeof v.left !== 'string' || typeof v.right !== 'string') throw usage('offline mode needs both --left and --right');
      if (parsed.positionals.length > 0 || v.baseline !== undefined || v.candidate !== undefined) throw usage('give either --left/--right (offline) or <store> --baseline --candidate (live), not both');
      // Dropping them would run a different diff than the one asked for (no noise measurement for --baseline2).
      const liveOnly = LIVE_ONLY_FLAGS.filter((f) => v[f] !== undefined).map((f) => `--${f}`);
      if (liveOnly.length > 0) throw usage(`${liveOnly.join(', ')} ${liveOnly.length === 1 ? 'is' : 'are'} for a live diff (<store> --baseline --candidate); an offline diff (--left/--right) sends nothing`);
      report = await diffStores({ ...common, baselineStore: v.left, candidateStore: v.right });
    } else {
      const [store] = requirePositionals(this, parsed, ['<store>']);
      if (typeof v.baseline !== 'string' || typeof v.candidate !== 'string') throw usage('live mode needs --baseline and --candidate (or use --left/--right for two stores)');
      report = await diffLive({
        ...common,
        store: store!,
        baseline: v.baseline,
        candidate: v.candidate,
        ...(typeof v.baseline2 === 'string' ? { baseline2: v.baseline2 } : {}),
        ...(list(parsed, 'allow-method') ? { allowMethods: list(parsed, 'allow-method')! } : {}),
        ...(v.concurrency !== undefined ? { concurrency: num(parsed, 'concurrency') } : {}),
        ...(v['timeout-ms'] !== undefined ? { timeoutMs: num(parsed, 'timeout-ms') } : {}),
        ...(v.limit !== undefined ? { limit: num(parsed, 'limit') } : {}),
        ...(list(parsed, 'set-header', false) ? { setHeaders: list(parsed, 'set-header', false)! } : {}),
        vars: await loadTemplateVars({ env: process.env, ...(typeof v['secrets-file'] === 'string' && { secretsFile: v['secrets-file'] }) }),
        ...(ctx.log && { log: ctx.log }),
      });
    }
    const verdicts = judgeDiff(report, thresholds);
    if (typeof v.report === 'string') {
      const files = await writeDiffReports(report, verdicts, v.report);
      ctx.log?.info(files, 'reports written');
    }
    ctx.stdout.write(v.json ? `${JSON.stringify({ ...report, thresholds: verdicts }, null, 2)}\n` : renderDiffTerminal(report, verdicts));
    return verdicts.every((x) => x.passed) ? 0 : EXIT_DIFF_FAILED;
  },
};

/** Flags that shape what a live diff sends; offline, where nothing is sent, they are usage errors. */
const LIVE_ONLY_FLAGS = ['baseline2', 'allow-method', 'set-header', 'secrets-file', 'concurrency', 'timeout-ms', 'limit'] as const;

/** File rules, then flags: lists add up, single values from flags win. */
function mergeRules(file: DiffRulesInput, flags: DiffRulesInput): DiffRulesInput {
  const both = (a?: string[], b?: string[]) => (a || b ? [...(a ?? []), ...(b ?? [])] : undefined);
  const merged: DiffRulesInput = { ...file, ...flags, arrays: { ...file.arrays, ...flags.arrays } };
  const ignore = both(file.ignore, flags.ignore);
  const allow = both(file.headerAllow, flags.headerAllow);
  const deny = both(file.headerDeny, flags.headerDeny);
  const volatile = both(file.volatileHeaders, flags.volatileHeaders);
  if (ignore) merged.ignore = ignore;
  if (allow) merged.headerAllow = allow;
  if (deny) merged.headerDeny = deny;
  if (volatile) merged.volatileHeaders = volatile;
  merged.strictNumberText = (file.strictNumberText ?? false) || (flags.strictNumberText ?? false);
  merged.nullEqualsMissing = (file.nullEqualsMissing ?? false) || (flags.nullEqualsMissing ?? false);
  return merged;
}

function rulesFromArgs(parsed: ParsedArgs): DiffRulesInput {
  const v = parsed.values;
  const arrays: Record<string, ArrayMode> = {};
  for (const rule of list(parsed, 'array', false) ?? []) {
    const [path, mode] = parseArrayRule(rule);
    arrays[path] = mode;
  }
  const rules: DiffRulesInput = { arrays, strictNumberText: v['strict-numbers'] === true, nullEqualsMissing: v['null-is-missing'] === true };
  const ignore = list(parsed, 'ignore', false);
  if (ignore) rules.ignore = ignore;
  const allow = list(parsed, 'header-allow');
  if (allow) rules.headerAllow = allow;
  const deny = list(parsed, 'header-deny');
  if (deny) rules.headerDeny = deny;
  const volatile = list(parsed, 'volatile-header');
  if (volatile) rules.volatileHeaders = volatile;
  if (v.tolerance !== undefined) rules.absoluteTolerance = num(parsed, 'tolerance');
  if (v['relative-tolerance'] !== undefined) rules.relativeTolerance = num(parsed, 'relative-tolerance');
  if (v['body-cap'] !== undefined) rules.bodyCap = num(parsed, 'body-cap');
  return rules;
}

/** Repeated flags; comma lists too, except for paths, which may hold commas. */
function list(parsed: ParsedArgs, name: string, splitCommas = true): string[] | undefined {
  const x = parsed.values[name];
  if (x === undefined) return undefined;
  const all = Array.isArray(x) ? x : [String(x)];
  return (splitCommas ? all.flatMap((s) => s.split(',')) : all).map((s) => s.trim()).filter(Boolean);
}

function num(parsed: ParsedArgs, name: string): number {
  const raw = String(parsed.values[name]);
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new RepriseError('DIFF_OPTIONS_INVALID', `--${name} "${raw}": not a number`);
  return n;
}

function usage(message: string): RepriseError {
  return new RepriseError('CLI_USAGE', `diff: ${message}`);
}
