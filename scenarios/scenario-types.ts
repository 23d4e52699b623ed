import type { DiffRulesInput } from '../replay/diff/diff-rules.js';
import type { PipelineDefinition } from '../transform/config/load-pipeline.js';

/**
 * A scenario, as written in scenarios/<name>.yaml and validated by
 * load-scenario.ts: where the traffic comes from, how it is transformed, what
 * is done with it (replay phases and/or a diff), what must hold (thresholds)
 * and where the reports go. docs/scenarios.md documents every field.
 *
 * Durations are already milliseconds here; paths are already absolute
 * (relative ones are resolved against the scenario file's folder), and
 * `${env:NAME}` references are already filled in.
 */
export interface Scenario {
  version: 1;
  name: string;
  description?: string;
  /** The file the scenario came from (messages), and its folder (relative paths). */
  file: string;
  capture?: CaptureSection;
  source?: SourceSection;
  transform?: PipelineDefinition;
  /** Targets replay and diff may send to (host:port), besides the ones named in the scenario. */
  allow: string[];
  replay?: ReplaySection;
  diff?: DiffSection;
  thresholds: string[];
  reports: ReportsSection;
}

/** Exactly one kind of source. A store path may be `s3://bucket/prefix`. */
export type SourceSection =
  | { kind: 'store'; path: string }
  | { kind: 'har'; path: string }
  | { kind: 'pcap'; path: string }
  | { kind: 'apigw'; path: string };

/** Record through the reverse (or forward) proxy for a while, into a store. */
export interface CaptureSection {
  listen: string;
  upstream?: string;
  forward: boolean;
  out: string;
  /** Stop after this long (ms); without it the capture runs until SIGINT/SIGTERM. */
  durationMs?: number;
  /** Headers redacted besides the defaults; `redactDefaults: false` turns the defaults off. */
  redactHeaders: string[];
  redactDefaults: boolean;
  /** Keep this fraction of exchanges (0–1]; errors are always kept. */
  sample?: number;
  /** Per-endpoint cap, exchanges per second. */
  maxPerEndpointPerSecond?: number;
  segmentBytes?: number;
  bodyCapBytes?: number;
  /** The bundled demo client sent through the proxy while it records (demo and tests). */
  workload?: { requests: number; rate: number };
}

export interface ReplaySection {
  target: string;
  concurrency?: number;
  timeoutMs?: number;
  headers: Record<string, string>;
  allowRecordedHost: boolean;
  excludeMethods: string[];
  /** Store the replayed exchanges (request + live response) here. */
  recordOut?: string;
  /** Add to a recordOut store that already holds exchanges (refused otherwise). */
  recordOutAppend: boolean;
  phases: ReplayPhase[];
}

export type ReplayPhase =
  | {
      kind: 'timed';
      name: string;
      speed: number;
      amplify: number;
      /** An absolute-rate profile (validated by replay/schedule/rate-profile.ts). */
      profile?: unknown;
      loop: boolean;
      maxGapMs?: number;
      durationMs?: number;
      /** Sending processes (the plan split by send). */
      workers?: number;
    }
  | { kind: 'max'; name: string; connections: number; pipelining: number; durationMs: number; /** Processes the connections are split over. */ workers?: number };

export interface DiffSection {
  /** Live: each request to baseline, candidate and (optionally) a second baseline. */
  baseline?: string;
  candidate?: string;
  baseline2?: string;
  /** Offline: two stores. */
  left?: string;
  right?: string;
  /** Side-effecting methods sent in a live diff (only GET, HEAD, OPTIONS otherwise). */
  allowMethods: string[];
  concurrency?: number;
  timeoutMs?: number;
  limit?: number;
  /** Set on every live request, replacing recorded ones; values may name `${VARS}`. */
  headers: Record<string, string>;
  /** Comparison rules, as replay/diff/diff-rules.ts takes them. */
  rules: DiffRulesInput;
  noise?: { absolute?: number; relative?: number };
  /** e.g. `no high`, `max_medium=5`. */
  thresholds: string[];
}

export interface ReportsSection {
  /** Folder for every phase's summary.json, junit.xml and report.html, the diff's reports and scenario.json; none → terminal summary only. */
  dir?: string;
}
