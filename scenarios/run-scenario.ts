import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RepriseError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Header } from '../store/exchange.js';
import { diffLive, diffStores } from '../replay/diff/run-diff.js';
import type { DiffReport } from '../replay/diff/diff-report.js';
import { DEFAULT_DIFF_THRESHOLDS, judgeDiff, parseDiffThresholds, type ThresholdVerdict } from '../replay/diff/diff-thresholds.js';
import { renderDiffTerminal } from '../replay/diff/report/render-terminal.js';
import { writeDiffReports } from '../replay/diff/report/write-diff-reports.js';
import { formatReplaySummary } from '../replay/report/format-summary.js';
import { runReplayJob, type ReplayJobResult } from '../replay/replay-job.js';
import type { ReplayOptions } from '../replay/run-replay.js';
import { loadProfile, validateProfile, type RateProfile } from '../replay/schedule/rate-profile.js';
import { parseThresholds } from '../replay/thresholds/parse-threshold.js';
import { loadTemplateVars } from '../transform/templates/resolve-templates.js';
import { formatTransformSummary } from '../transform/transform-store.js';
import { runCapture, type CaptureOutcome } from './run-capture.js';
import { prepareTraffic, type PreparedTraffic } from './prepare-traffic.js';
import type { ReplayPhase, Scenario } from './scenario-types.js';
import { makeDirs } from '../store/make-dirs.js';

/**
 * Runs a validated scenario, stage by stage: capture → source → transform →
 * replay phases → diff, then reports and a verdict. A stage's failure stops
 * the run with its own error; thresholds do not stop it (every phase runs and
 * is reported), they decide the exit code.
 */
export interface ScenarioRunOptions {
  /** Where the run's summary goes (stdout). */
  out: NodeJS.WritableStream;
  /** Progress lines (stderr); null for none. */
  progress: (NodeJS.WritableStream & { isTTY?: boolean; columns?: number }) | null;
  log?: Logger;
  signal?: AbortSignal;
  /** Keep the work folder (imported and transformed stores) instead of removing it. */
  keepWork?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface ScenarioOutcome {
  name: string;
  capture?: CaptureOutcome;
  traffic?: PreparedTraffic;
  phases: Array<{ name: string; result: ReplayJobResult }>;
  diff?: { report: DiffReport; verdicts: ThresholdVerdict[]; files: string[] };
  /** 0 all held; 3 a replay threshold failed; 4 a diff threshold failed (3 wins when both). */
  exitCode: number;
}

/** Exit codes shared with `reprise replay` and `reprise diff` (docs/cli.md). */
export const SCENARIO_EXIT = { ok: 0, replayThresholdFailed: 3, diffThresholdFailed: 4 } as const;

export async function runScenario(s: Scenario, options: ScenarioRunOptions): Promise<ScenarioOutcome> {
  const say = (text: string): void => void options.out.write(`${text}\n`);
  const work = await mkdtemp(join(tmpdir(), `reprise-scenario-${s.name}-`));
  const outcome: ScenarioOutcome = { name: s.name, phases: [], exitCode: 0 };
  try {
    say(`scenario ${s.name}${s.description ? ` — ${s.description.trim()}` : ''}`);
    if (s.capture) {
      say(`\n── capture: ${s.capture.forward ? 'forward proxy' : `reverse proxy → ${s.capture.upstream}`} on ${s.capture.listen} → ${s.capture.out}`);
      outcome.capture = await runCapture(s.capture, options.log, options.signal);
      const r = outcome.capture.recorder;
      say(`recorded ${r.recorded} exchanges (seen ${r.seen}, sampled out ${r.sampledOut}, dropped ${r.dropped}) in ${(outcome.capture.durationMs / 1000).toFixed(1)} s`);
    }
    const traffic = await prepareTraffic(s, work, outcome.capture?.store);
    if (traffic) outcome.traffic = traffic;
    if (traffic?.imported) say(`\n── source: imported ${traffic.imported.kind} ${traffic.imported.from}`);
    if (traffic?.transform) say(`\n── transform\n${formatTransformSummary(traffic.transform)}`);

    if (s.replay) {
      const thresholds = parseThresholds(s.thresholds);
      for (const [i, phase] of s.replay.phases.entries()) {
        say(`\n── replay ${phase.name} → ${s.replay.target}`);
        const replay = await replayOptions(s, phase, traffic!.store, options.env ?? process.env);
        const result = await runReplayJob({
          replay,
          ...(phase.kind === 'max' && { max: { connections: phase.connections, pipelining: phase.pipelining, durationMs: phase.durationMs } }),
          ...(phase.workers !== undefined && { workers: phase.workers }),
          thresholds,
          ...(s.reports.dir !== undefined && { reportDir: join(s.reports.dir, phaseFolder(phase, i)) }),
          progress: options.progress,
          reportOptions: { scenario: s.name, phase: phase.name, ...phaseSettings(phase) },
          ...(options.signal && { signal: options.signal }),
          ...(options.log && { log: options.log }),
        });
        outcome.phases.push({ name: phase.name, result });
        say(formatReplaySummary(result.input));
        if (!result.passed) outcome.exitCode = SCENARIO_EXIT.replayThresholdFailed;
      }
    }

    if (s.diff) {
      const d = s.diff;
      const common = { rules: d.rules, ...(d.noise && { noise: d.noise }) };
      say(`\n── diff ${d.left !== undefined ? `${d.left} ↔ ${d.right}` : `${d.baseline} ↔ ${d.candidate}${d.baseline2 ? ` (noise: ${d.baseline2})` : ''}`}`);
      const report = d.left !== undefined
        ? await diffStores({ ...common, baselineStore: d.left, candidateStore: d.right! })
        : await diffLive({
            ...common,
            store: traffic!.store,
            baseline: d.baseline!,
            candidate: d.candidate!,
            ...(d.baseline2 !== undefined && { baseline2: d.baseline2 }),
            allowMethods: d.allowMethods,
            ...(d.concurrency !== undefined && { concurrency: d.concurrency }),
            ...(d.timeoutMs !== undefined && { timeoutMs: d.timeoutMs }),
            ...(d.limit !== undefined && { limit: d.limit }),
            setHeaders: Object.entries(d.headers).map(([k, v]) => `${k}: ${v}`),
            vars: await loadTemplateVars({ env: options.env ?? process.env }),
            ...(options.log && { log: options.log }),
          });
      // Judged as `reprise diff` judges: without thresholds, a high-risk difference fails the run.
      const thresholds = d.thresholds.length > 0 ? d.thresholds : [DEFAULT_DIFF_THRESHOLDS];
      const verdicts = judgeDiff(report, thresholds.flatMap((t) => parseDiffThresholds(t)));
      const files = s.reports.dir === undefined ? [] : Object.values(await writeDiffReports(report, verdicts, join(s.reports.dir, 'diff')));
      outcome.diff = { report, verdicts, files };
      say(renderDiffTerminal(report, verdicts));
      if (verdicts.some((v) => !v.passed) && outcome.exitCode === 0) outcome.exitCode = SCENARIO_EXIT.diffThresholdFailed;
    }

    if (s.reports.dir !== undefined) {
      await makeDirs(s.reports.dir);
      await writeFile(join(s.reports.dir, 'scenario.json'), `${JSON.stringify(scenarioJson(s, outcome), null, 2)}\n`);
      say(`\nreports: ${s.reports.dir}`);
    }
    say(`\nscenario ${s.name}: ${outcome.exitCode === 0 ? 'passed' : outcome.exitCode === SCENARIO_EXIT.replayThresholdFailed ? 'FAILED (replay thresholds)' : 'FAILED (diff thresholds)'}`);
    return outcome;
  } finally {
    if (options.keepWork) say(`work folder kept: ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

async function replayOptions(s: Scenario, phase: ReplayPhase, store: string, env: NodeJS.ProcessEnv): Promise<ReplayOptions> {
  const r = s.replay!;
  const allowHosts = s.allow.map((a) => hostOf(a));
  const o: ReplayOptions = {
    store,
    target: r.target,
    ...(r.concurrency !== undefined && { concurrency: r.concurrency }),
    ...(r.timeoutMs !== undefined && { timeoutMs: r.timeoutMs }),
    ...(allowHosts.length > 0 && { allowHosts: [hostOf(new URL(r.target).host), ...allowHosts] }),
    allowRecordedHost: r.allowRecordedHost,
    ...(r.excludeMethods.length > 0 && { excludeMethods: r.excludeMethods }),
    headers: Object.entries(r.headers).map(([k, v]): Header => [k, v]),
    vars: await loadTemplateVars({ env }),
  };
  if (phase.kind === 'timed') {
    o.speed = phase.speed;
    o.amplify = phase.amplify;
    if (phase.profile !== undefined) o.profile = await profileOf(phase.profile);
    if (phase.loop) o.loop = true;
    if (phase.maxGapMs !== undefined) o.maxGapMs = phase.maxGapMs;
    if (phase.durationMs !== undefined) o.maxDurationMs = phase.durationMs;
    if (r.recordOut !== undefined) o.recordOut = r.phases.length > 1 ? join(r.recordOut, phase.name) : r.recordOut;
    if (r.recordOutAppend) o.recordOutAppend = true;
  }
  return o;
}

async function profileOf(p: unknown): Promise<RateProfile> {
  return typeof p === 'string' ? loadProfile(p) : validateProfile(p);
}

function hostOf(hostPort: string): string {
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(hostPort);
  if (!m) throw new RepriseError('SCENARIO_INVALID', `allow: "${hostPort}" is not host or host:port`);
  return m[1]!.toLowerCase();
}

function phaseFolder(p: ReplayPhase, i: number): string {
  return `${String(i + 1).padStart(2, '0')}-${p.name.replace(/[^\w.-]+/g, '-')}`;
}

function phaseSettings(p: ReplayPhase): Record<string, unknown> {
  const { kind: _kind, name: _name, ...rest } = p;
  return rest;
}

function scenarioJson(s: Scenario, o: ScenarioOutcome): unknown {
  return {
    format: 'reprise-scenario-summary',
    version: 1,
    scenario: s.name,
    file: s.file,
    exitCode: o.exitCode,
    ...(o.capture && { capture: { store: o.capture.store, recorder: o.capture.recorder, workload: o.capture.workload } }),
    ...(o.traffic && { traffic: { store: o.traffic.store, imported: o.traffic.imported, transform: o.traffic.transform && { in: o.traffic.transform.in, out: o.traffic.transform.out, steps: o.traffic.transform.steps } } }),
    phases: o.phases.map((p) => ({
      name: p.name,
      passed: p.result.passed,
      files: p.result.files,
      requests: p.result.input.snapshot.overall.requests,
      achievedRate: p.result.input.snapshot.achievedRate,
      thresholds: p.result.outcomes.map((t) => ({ expression: t.expression, passed: t.passed, message: t.message })),
    })),
    ...(o.diff && { diff: { totals: o.diff.report.totals, pairs: o.diff.report.pairs, verdicts: o.diff.verdicts, files: o.diff.files } }),
  };
}
