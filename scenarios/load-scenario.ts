import { dirname, isAbsolute, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { RepriseError } from '../errors.js';
import { checkObject, formatConfigPath, parseDuration, typeName, type ConfigPath, type ConfigProblem, type ProblemSink } from '../transform/config/field-spec.js';
import { validatePipeline, type PipelineDefinition } from '../transform/config/load-pipeline.js';
import { checkArrayRulePath, parseArrayStrategy } from '../replay/diff/array-rules.js';
import type { DiffRulesInput } from '../replay/diff/diff-rules.js';
import { parseDiffThresholds } from '../replay/diff/diff-thresholds.js';
import { validateProfile } from '../replay/schedule/rate-profile.js';
import { parseThreshold } from '../replay/thresholds/parse-threshold.js';
import { readScenarioDocument } from './scenario-yaml.js';
import { SCENARIO_SCHEMA } from './scenario-schema.js';
import type { CaptureSection, DiffSection, ReplayPhase, ReplaySection, ReportsSection, Scenario, SourceSection } from './scenario-types.js';
import { HTTP_TOKEN } from '../store/http-token.js';

/**
 * scenarios/<name>.yaml → a validated Scenario. Nothing runs before the
 * whole file (and its includes) is checked; every problem is listed at once
 * as `file:line:col path: message`, and the first line alone is already a
 * complete error for a terminal or a CI log.
 */

export interface LoadScenarioOptions {
  env?: NodeJS.ProcessEnv;
  /** Grammar checks owned by other stages: return a message, or null when the expression is fine. */
  checkReplayThreshold?: (expr: string) => string | null;
  checkDiffThreshold?: (expr: string) => string | null;
  checkProfile?: (profile: unknown) => string | null;
}

export class ScenarioError extends RepriseError {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    const head = problems.length === 1 ? problems[0]! : `${problems[0]!} (and ${problems.length - 1} more problem${problems.length === 2 ? '' : 's'}:\n  ${problems.slice(1).join('\n  ')})`;
    super('SCENARIO_INVALID', head); // the message starts with file:line:col already
    this.problems = problems;
  }
}

/** The grammars of thresholds and profiles, from the stages that evaluate them. */
const DEFAULT_CHECKS: Required<Pick<LoadScenarioOptions, 'checkReplayThreshold' | 'checkDiffThreshold' | 'checkProfile'>> = {
  checkReplayThreshold: (t) => messageOf(() => parseThreshold(t)),
  checkDiffThreshold: (t) => messageOf(() => parseDiffThresholds(t)),
  checkProfile: (p) => messageOf(() => validateProfile(p, 'profile'))?.replace(/^profile: /, '') ?? null,
};

function messageOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (err instanceof RepriseError) return err.message.split('\n')[0]!;
    throw err;
  }
}

export function loadScenario(file: string, given: LoadScenarioOptions = {}): Scenario {
  const options = { ...DEFAULT_CHECKS, ...given };
  const abs = resolve(file);
  const baseDir = dirname(abs);
  const doc = readScenarioDocument(abs, options.env ?? process.env);
  const problems: ConfigProblem[] = [];
  const sink: ProblemSink = {
    add: (path, message, atKey) => void problems.push({ path, message, ...(atKey && { atKey }) }),
    fileExists: (p) => existsSync(isAbsolute(p) ? p : resolve(baseDir, p)),
  };
  // An unset variable leaves an empty value behind; its own message says it all.
  if (doc.problems.length > 0) throw new ScenarioError(doc.problems);
  const raw = doc.value;
  checkObject(SCENARIO_SCHEMA, raw, [], sink);
  const shapeOk = problems.length === 0;
  // Cross-field and grammar checks only on a well-shaped file: one problem, not a cascade.
  if (shapeOk) crossChecks(raw, sink, options);
  let transform: PipelineDefinition | undefined;
  if (raw.transform !== undefined) {
    try {
      transform = transformOf(raw.transform, baseDir, doc.locate);
    } catch (err) {
      if (!(err instanceof RepriseError)) throw err;
      const lines = 'problems' in err ? (err as { problems: string[] }).problems : [err.message];
      for (const line of lines) doc.problems.push(line);
    }
  }
  const lines = [
    ...doc.problems,
    ...problems.map((p) => `${doc.locate(p.path, p.atKey ?? false) ?? abs} ${formatConfigPath(p.path) || '(document)'}: ${p.message}`),
  ];
  if (lines.length > 0) throw new ScenarioError(lines);
  const at = (p: string): string => (isAbsolute(p) || p.startsWith('s3://') ? p : resolve(baseDir, p));
  return Object.freeze({
    version: 1,
    name: raw.name as string,
    ...(typeof raw.description === 'string' && { description: raw.description }),
    file: abs,
    ...(raw.capture !== undefined && { capture: captureOf(raw.capture as Record<string, unknown>, at) }),
    ...(raw.source !== undefined && { source: sourceOf(raw.source as Record<string, string>, at) }),
    ...(transform && { transform }),
    allow: (raw.allow as string[] | undefined) ?? [],
    ...(raw.replay !== undefined && { replay: replayOf(raw.replay as Record<string, unknown>, at) }),
    ...(raw.diff !== undefined && { diff: diffOf(raw.diff as Record<string, unknown>, at) }),
    thresholds: (raw.thresholds as string[] | undefined) ?? [],
    reports: reportsOf(raw.reports as Record<string, unknown> | undefined, at),
  } satisfies Scenario);
}

const SCHEDULE_KEYS = ['speed', 'amplify', 'profile', 'loop', 'maxGap', 'duration'] as const;

function crossChecks(raw: Record<string, unknown>, sink: ProblemSink, options: LoadScenarioOptions): void {
  if (raw.capture === undefined && raw.replay === undefined && raw.diff === undefined) {
    sink.add([], 'does nothing: give at least one of capture, replay, diff');
  }
  const capture = raw.capture as Record<string, unknown> | undefined;
  if (capture) {
    if (capture.forward === true && capture.upstream !== undefined) sink.add(['capture', 'upstream'], 'a forward proxy has no upstream (clients name their targets)');
    if (capture.forward !== true && capture.upstream === undefined) sink.add(['capture'], 'is missing "upstream" (or set forward: true)');
    if (capture.workload !== undefined && capture.duration !== undefined) sink.add(['capture', 'duration'], 'a capture with a workload ends when the workload does; remove duration');
  }
  const replay = raw.replay as Record<string, unknown> | undefined;
  const diff = raw.diff as Record<string, unknown> | undefined;
  const hasTraffic = raw.source !== undefined || capture !== undefined;
  if (replay) {
    if (!hasTraffic) sink.add(['replay'], 'needs traffic: a source (store, har, pcap, apigw) or a capture before it');
    const flat = [...SCHEDULE_KEYS, 'workers'].filter((k) => replay[k] !== undefined);
    const phases = replay.phases as Array<Record<string, unknown>> | undefined;
    if (phases && flat.length > 0) sink.add(['replay', flat[0]!], `goes inside a phase when "phases" is given`, true);
    if (!phases) checkSchedule(replay, ['replay'], sink, options);
    (phases ?? [replay]).forEach((p, i) => {
      const at: ConfigPath = phases ? ['replay', 'phases', i, 'workers'] : ['replay', 'workers'];
      if (typeof p.workers !== 'number' || p.workers <= 1) return;
      // Caught here rather than after the earlier phases have run.
      if (replay.recordOut !== undefined) sink.add(at, 'sends from several processes; recordOut needs one (remove one of them)');
      const connections = (p.max as Record<string, unknown> | undefined)?.connections;
      if (p.max !== undefined && p.workers > ((connections as number | undefined) ?? 64)) sink.add(at, `needs at least one connection per worker (max.connections is ${(connections as number | undefined) ?? 64})`);
    });
    phases?.forEach((p, i) => {
      if (p.max !== undefined) {
        const mixed = SCHEDULE_KEYS.find((k) => p[k] !== undefined);
        if (mixed) sink.add(['replay', 'phases', i, mixed], 'a max-throughput phase (max:) has no schedule; remove it', true);
      } else checkSchedule(p, ['replay', 'phases', i], sink, options);
    });
    checkHeaderMap(replay.headers, ['replay', 'headers'], sink);
  }
  if (diff) {
    const live = diff.baseline !== undefined || diff.candidate !== undefined;
    const offline = diff.left !== undefined || diff.right !== undefined;
    if (live && offline) sink.add(['diff'], 'is either live (baseline, candidate) or offline (left, right), not both');
    else if (live) {
      if (diff.baseline === undefined) sink.add(['diff'], 'is missing "baseline"');
      if (diff.candidate === undefined) sink.add(['diff'], 'is missing "candidate"');
      if (!hasTraffic) sink.add(['diff'], 'live diff needs traffic: a source or a capture before it');
    } else if (offline) {
      if (diff.left === undefined) sink.add(['diff'], 'is missing "left"');
      if (diff.right === undefined) sink.add(['diff'], 'is missing "right"');
    } else sink.add(['diff'], 'needs baseline and candidate (live) or left and right (offline)');
    checkHeaderMap(diff.headers, ['diff', 'headers'], sink);
    if (diff.headers !== undefined && offline && !live) sink.add(['diff', 'headers'], 'are set on live requests; an offline diff (left, right) sends none', true);
    if (offline && !live) {
      // Dropped silently, they would run another diff than the one written (no noise measurement for baseline2).
      for (const k of ['baseline2', 'concurrency', 'timeout', 'limit', 'allowMethods']) {
        if (diff[k] !== undefined) sink.add(['diff', k], 'is for a live diff (baseline, candidate); an offline diff (left, right) sends nothing', true);
      }
    }
    const arrays = diff.arrays;
    if (arrays !== undefined) {
      if (arrays === null || typeof arrays !== 'object' || Array.isArray(arrays)) sink.add(['diff', 'arrays'], `must map JSON paths to index, multiset or key:<field>, got ${typeName(arrays)}`);
      else for (const [k, v] of Object.entries(arrays)) {
        const why = checkArrayRulePath(k);
        if (why !== null) sink.add(['diff', 'arrays', k], why, true);
        const strategy = parseArrayStrategy(v);
        if (!strategy.ok) sink.add(['diff', 'arrays', k], strategy.problem);
      }
    }
    (diff.thresholds as string[] | undefined)?.forEach((t, i) => {
      const msg = options.checkDiffThreshold?.(t);
      if (msg) sink.add(['diff', 'thresholds', i], msg);
    });
  }
  (raw.thresholds as string[] | undefined)?.forEach((t, i) => {
    const msg = options.checkReplayThreshold?.(t);
    if (msg) sink.add(['thresholds', i], msg);
  });
  if (raw.thresholds !== undefined && !replay) sink.add(['thresholds'], 'are replay thresholds; there is no replay (diff thresholds go under diff.thresholds)', true);
}

/** `headers:` of replay and diff: names to values, set on every request. */
function checkHeaderMap(headers: unknown, path: ConfigPath, sink: ProblemSink): void {
  if (headers === undefined) return;
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    sink.add(path, `must be a mapping of header names to values, got ${typeName(headers)}`);
    return;
  }
  for (const [k, v] of Object.entries(headers)) {
    if (!HTTP_TOKEN.test(k)) sink.add([...path, k], `"${k}" is not a valid header name`, true);
    else if (typeof v !== 'string' && typeof v !== 'number') sink.add([...path, k], `must be a string, got ${typeName(v)}`);
  }
}

function checkSchedule(s: Record<string, unknown>, path: ConfigPath, sink: ProblemSink, options: LoadScenarioOptions): void {
  if (s.profile !== undefined && s.speed !== undefined && s.speed !== 1) sink.add([...path, 'speed'], 'a rate profile sets absolute rates; speed does not apply (remove one)');
  if (s.loop === true && s.duration === undefined && s.profile === undefined) sink.add([...path, 'loop'], 'a looping replay needs a duration to end');
  if (s.profile !== undefined && typeof s.profile === 'object') {
    const msg = options.checkProfile?.(s.profile);
    if (msg) sink.add([...path, 'profile'], msg);
  }
}

function transformOf(value: unknown, baseDir: string, locate: (p: ConfigPath, k: boolean) => string | undefined): PipelineDefinition {
  return validatePipeline(value, { baseDir, source: 'transform', locate, pathPrefix: ['transform'], refuseEmpty: true });
}

function ms(v: unknown): number | undefined {
  return v === undefined ? undefined : (parseDuration(v as string | number) ?? undefined);
}

function captureOf(c: Record<string, unknown>, at: (p: string) => string): CaptureSection {
  const redact = (c.redact ?? {}) as { headers?: string[]; defaults?: boolean };
  const workload = c.workload as { requests: number; rate?: number } | undefined;
  return {
    listen: c.listen as string,
    ...(c.upstream !== undefined && { upstream: c.upstream as string }),
    forward: c.forward === true,
    out: at(c.out as string),
    ...(c.duration !== undefined && { durationMs: ms(c.duration)! }),
    redactHeaders: redact.headers ?? [],
    redactDefaults: redact.defaults !== false,
    ...(c.sample !== undefined && { sample: c.sample as number }),
    ...(c.maxPerEndpointPerSecond !== undefined && { maxPerEndpointPerSecond: c.maxPerEndpointPerSecond as number }),
    ...(c.segmentBytes !== undefined && { segmentBytes: c.segmentBytes as number }),
    ...(c.bodyCapBytes !== undefined && { bodyCapBytes: c.bodyCapBytes as number }),
    ...(workload && { workload: { requests: workload.requests, rate: workload.rate ?? 100 } }),
  };
}

function sourceOf(s: Record<string, string>, at: (p: string) => string): SourceSection {
  for (const kind of ['store', 'har', 'pcap', 'apigw'] as const) {
    if (s[kind] !== undefined) return { kind, path: at(s[kind]) };
  }
  throw new Error('unreachable: the schema requires exactly one source');
}

function phaseOf(p: Record<string, unknown>, i: number, at: (p: string) => string): ReplayPhase {
  const name = (p.name as string | undefined) ?? `phase ${i + 1}`;
  const max = p.max as Record<string, unknown> | undefined;
  const workers = p.workers as number | undefined;
  if (max) return { kind: 'max', name, connections: (max.connections as number | undefined) ?? 64, pipelining: (max.pipelining as number | undefined) ?? 1, durationMs: ms(max.duration)!, ...(workers !== undefined && { workers }) };
  const profile = typeof p.profile === 'string' ? at(p.profile) : p.profile;
  return {
    kind: 'timed',
    name,
    speed: (p.speed as number | undefined) ?? 1,
    amplify: (p.amplify as number | undefined) ?? 1,
    ...(profile !== undefined && { profile }),
    loop: p.loop === true,
    ...(p.maxGap !== undefined && { maxGapMs: ms(p.maxGap)! }),
    ...(p.duration !== undefined && { durationMs: ms(p.duration)! }),
    ...(workers !== undefined && { workers }),
  };
}

function replayOf(r: Record<string, unknown>, at: (p: string) => string): ReplaySection {
  const phases = (r.phases as Array<Record<string, unknown>> | undefined) ?? [r];
  return {
    target: r.target as string,
    ...(r.concurrency !== undefined && { concurrency: r.concurrency as number }),
    ...(r.timeout !== undefined && { timeoutMs: ms(r.timeout)! }),
    headers: Object.fromEntries(Object.entries((r.headers ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)])),
    allowRecordedHost: r.allowRecordedHost === true,
    excludeMethods: ((r.excludeMethods as string[] | undefined) ?? []).map((m) => m.toUpperCase()),
    ...(r.recordOut !== undefined && { recordOut: at(r.recordOut as string) }),
    recordOutAppend: r.recordOutAppend === true,
    phases: phases.map((p, i) => phaseOf(p, i, at)),
  };
}

function diffOf(d: Record<string, unknown>, at: (p: string) => string): DiffSection {
  const rules: DiffRulesInput = {};
  const arrays = d.arrays as Record<string, unknown> | undefined;
  if (arrays) {
    rules.arrays = {};
    for (const [path, mode] of Object.entries(arrays)) {
      const strategy = parseArrayStrategy(mode);
      if (strategy.ok) rules.arrays[path] = strategy.mode; // checked by crossChecks: always ok here
    }
  }
  for (const key of ['ignore', 'absoluteTolerance', 'relativeTolerance', 'strictNumberText', 'nullEqualsMissing', 'headerAllow', 'headerDeny', 'volatileHeaders', 'bodyCap'] as const) {
    if (d[key] !== undefined) (rules as Record<string, unknown>)[key] = d[key];
  }
  return {
    ...(d.baseline !== undefined && { baseline: d.baseline as string }),
    ...(d.candidate !== undefined && { candidate: d.candidate as string }),
    ...(d.baseline2 !== undefined && { baseline2: d.baseline2 as string }),
    ...(d.left !== undefined && { left: at(d.left as string) }),
    ...(d.right !== undefined && { right: at(d.right as string) }),
    allowMethods: ((d.allowMethods as string[] | undefined) ?? []).map((m) => m.toUpperCase()),
    ...(d.concurrency !== undefined && { concurrency: d.concurrency as number }),
    ...(d.timeout !== undefined && { timeoutMs: ms(d.timeout)! }),
    ...(d.limit !== undefined && { limit: d.limit as number }),
    headers: Object.fromEntries(Object.entries((d.headers ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)])),
    rules,
    ...(d.noise !== undefined && { noise: d.noise as { absolute?: number; relative?: number } }),
    thresholds: (d.thresholds as string[] | undefined) ?? [],
  };
}

function reportsOf(r: Record<string, unknown> | undefined, at: (p: string) => string): ReportsSection {
  return r?.dir !== undefined ? { dir: at(r.dir as string) } : {};
}
