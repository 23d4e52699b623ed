import type { Exchange } from '../store/exchange.js';
import type { FieldSpec, ProblemSink } from './config/field-spec.js';
import type { StepDefinition } from './step-definitions.js';

/**
 * The contract between the pipeline engine and the code that runs a step.
 * A step *definition* is plain data (step-definitions.ts); its *kind*, looked
 * up by `type` in the registry, knows how to validate, explain and run it.
 */

/** What a step does with one exchange: a (possibly new) exchange, or null to drop it. */
export type StepResult = Exchange | null | Promise<Exchange | null>;

/** Runs one step over a stream, in order. Holds the step's per-pass state (counters, windows). */
export interface StepRunner {
  apply(ex: Exchange): StepResult;
}

/**
 * A step that holds exchanges back for a while (correlate: it attaches an
 * extraction rule to a response once a later request is seen using the
 * value). Order is kept; what it holds is bounded.
 */
export interface BufferingStepRunner {
  /** Take one exchange; return the exchanges that leave the step now, oldest first. */
  push(ex: Exchange): Exchange[];
  /** The stream ended: everything still held. */
  flush(): Exchange[];
}

export interface PreparedStep {
  /** A runner with fresh state; called once per run of the pipeline. */
  start(): StepRunner | BufferingStepRunner;
  /** Lines for `--explain` about what the step learned while running (empty when nothing). */
  learned?(): string[];
}

/** Counters the whole pipeline shares; steps add to `redactions` and `templated`. */
export interface TransformStats {
  in: number;
  out: number;
  /** Exchanges dropped, per step index. */
  dropped: number[];
  /** Replacements by kind: `header`, `cookie`, `query`, `jsonPath`, `formField`, `detector:email`, … */
  redactions: Record<string, number>;
  /** Values turned into `${…}` templates, by kind: `set`, `target`, `path`, `time`, `correlation`. */
  templated: Record<string, number>;
  /** Extraction rules attached to producing exchanges. */
  extractRules: number;
  /** Things the user should know that are not errors (a random hash key, a cap reached). */
  warnings: string[];
}

export function newTransformStats(steps: number): TransformStats {
  return { in: 0, out: 0, dropped: new Array<number>(steps).fill(0), redactions: {}, templated: {}, extractRules: 0, warnings: [] };
}

export function countInto(record: Record<string, number>, key: string, n = 1): void {
  record[key] = (record[key] ?? 0) + n;
}

export interface StepContext {
  /** 0-based position in the pipeline. */
  index: number;
  /** `step 3 (redact headers authorization, cookie)`, for messages. */
  label: string;
  /** Directory relative paths in the definition are resolved against. */
  baseDir: string;
  env: Readonly<Record<string, string | undefined>>;
  /** The live counters of the current run (replaced by each run: read them through this getter). */
  stats(): TransformStats;
  warn(message: string): void;
}

/** How a step type is validated, described and run. */
export interface StepKind<D extends StepDefinition = StepDefinition> {
  type: D['type'];
  /** One line for `reprise transform --help` and the docs. */
  summary: string;
  /** The step's fields besides `type` and `name`. */
  fields: Record<string, FieldSpec>;
  /** Checks that span several fields (after each field passed its own). */
  check?(def: D, problems: ProblemSink): void;
  /** What the step does, in words: `redact headers authorization, cookie`. */
  explain(def: D): string;
  prepare(def: D, ctx: StepContext): PreparedStep | Promise<PreparedStep>;
}
