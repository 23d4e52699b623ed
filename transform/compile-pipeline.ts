import { RepriseError } from '../errors.js';
import type { Exchange } from '../store/exchange.js';
import type { PipelineDefinition } from './config/load-pipeline.js';
import { stepKind, stepLabel } from './step-registry.js';
import { newTransformStats, type BufferingStepRunner, type PreparedStep, type StepContext, type StepResult, type StepRunner, type TransformStats } from './step-types.js';

/**
 * A pipeline definition made runnable: each step's kind prepares it once
 * (keys read, plugins imported); each run (`transform`, or `reset` then
 * `apply`/`push`) gets fresh step state and fresh stats.
 *
 * Exchanges go through the steps one at a time and synchronously, unless a
 * step (a plugin) returns a promise; then the rest of that exchange's way
 * waits for it. A buffering step (correlate) holds exchanges back for a
 * bounded while, so one input can bring out several outputs later; the
 * plain `(ex) => ex | null` form, `apply`, exists for pipelines without one.
 */

export interface CompileOptions {
  /** Environment for hash keys (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface CompiledPipeline {
  readonly definition: PipelineDefinition;
  /** `step 3 (redact headers authorization)` for each step. */
  readonly labels: readonly string[];
  /** True when a step holds exchanges back (correlate): use `push`/`end` or `transform`, not `apply`. */
  readonly buffers: boolean;
  /** Counters of the current (or last) run. */
  readonly stats: TransformStats;
  /** Start a new run: fresh step state and stats. `transform` does this itself. */
  reset(): void;
  /** One exchange through every step: the result, or null when a step dropped it. Only without buffering steps. */
  apply(ex: Exchange): StepResult;
  /** One exchange in; the exchanges that come out now (none, it, or earlier ones a buffering step released). */
  push(ex: Exchange): Exchange[] | Promise<Exchange[]>;
  /** The input ended: what buffering steps still held, through the rest of the pipeline. */
  end(): Exchange[] | Promise<Exchange[]>;
  /** A stream through every step (a new run). */
  transform(source: Iterable<Exchange> | AsyncIterable<Exchange>): AsyncGenerator<Exchange>;
  /** The steps in words, then what they learned (after a run). */
  explain(): string;
}

type Runner = StepRunner | BufferingStepRunner;
const isBuffering = (r: Runner): r is BufferingStepRunner => 'push' in r;

/**
 * @example
 * const pipeline = await compilePipeline(await loadTransformPipeline('transforms.yaml'));
 * for await (const ex of pipeline.transform(readExchanges('./in'))) await writer.write(ex);
 */
export async function compilePipeline(def: PipelineDefinition, options: CompileOptions = {}): Promise<CompiledPipeline> {
  const env = options.env ?? process.env;
  const labels = def.steps.map(stepLabel);
  let stats = newTransformStats(def.steps.length);
  const warnings: string[] = [];
  const prepared: PreparedStep[] = [];
  for (let i = 0; i < def.steps.length; i++) {
    const step = def.steps[i]!;
    const kind = stepKind(step.type);
    if (!kind) throw new RepriseError('TRANSFORM_INVALID', `${labels[i]}: unknown step type "${step.type}"`);
    const ctx: StepContext = {
      index: i,
      label: labels[i]!,
      baseDir: def.baseDir,
      env,
      stats: () => stats,
      warn: (m) => {
        if (!warnings.includes(m)) warnings.push(m);
        if (!stats.warnings.includes(m)) stats.warnings.push(m);
      },
    };
    try {
      prepared.push(await kind.prepare(step, ctx));
    } catch (err) {
      throw stepError(labels[i]!, err, null, 'could not start');
    }
  }
  const n = prepared.length;
  let runners: Runner[] = [];
  let buffers = false;
  const reset = (): void => {
    stats = newTransformStats(n);
    stats.warnings.push(...warnings);
    runners = prepared.map((p) => p.start());
    buffers = runners.some(isBuffering);
  };
  reset();

  const dropped = (i: number): null => {
    stats.dropped[i]!++;
    return null;
  };

  /** Steps from..n-1 on one exchange, none of them buffering; sync until a step returns a promise. */
  const runPlain = (from: number, ex: Exchange): StepResult => {
    let cur = ex;
    for (let i = from; i < n; i++) {
      let r: StepResult;
      try {
        r = (runners[i] as StepRunner).apply(cur);
      } catch (err) {
        throw stepError(labels[i]!, err, cur.id);
      }
      if (r instanceof Promise) {
        const at = i;
        const id = cur.id;
        return r.then(
          (x) => (x === null ? dropped(at) : runPlain(at + 1, x)),
          (err: unknown) => {
            throw stepError(labels[at]!, err, id);
          },
        );
      }
      if (r === null) return dropped(i);
      cur = r;
    }
    return cur;
  };

  /** Steps from..n-1 on one exchange, buffering steps included; what comes out goes to `out`. */
  const feed = (from: number, ex: Exchange, out: Exchange[]): void | Promise<void> => {
    let cur = ex;
    for (let i = from; i < n; i++) {
      const runner = runners[i]!;
      if (isBuffering(runner)) {
        let released: Exchange[];
        try {
          released = runner.push(cur);
        } catch (err) {
          throw stepError(labels[i]!, err, cur.id);
        }
        return feedAll(i + 1, released, out);
      }
      let r: StepResult;
      try {
        r = runner.apply(cur);
      } catch (err) {
        throw stepError(labels[i]!, err, cur.id);
      }
      if (r instanceof Promise) {
        const at = i;
        const id = cur.id;
        return r.then(
          (x) => (x === null ? void dropped(at) : feed(at + 1, x, out)),
          (err: unknown) => {
            throw stepError(labels[at]!, err, id);
          },
        );
      }
      if (r === null) return void dropped(i);
      cur = r;
    }
    stats.out++;
    out.push(cur);
  };

  const feedAll = (from: number, list: Exchange[], out: Exchange[]): void | Promise<void> => {
    for (let k = 0; k < list.length; k++) {
      const r = feed(from, list[k]!, out);
      if (r instanceof Promise) {
        return r.then(() => feedAll(from, list.slice(k + 1), out));
      }
    }
  };

  const pipeline: CompiledPipeline = {
    definition: def,
    labels,
    get buffers() {
      return buffers;
    },
    get stats() {
      return stats;
    },
    reset,
    apply(ex) {
      if (buffers) throw new RepriseError('TRANSFORM_FAILED', `${labels[runners.findIndex(isBuffering)]} holds exchanges back: use push()/end() or transform(), not apply()`);
      stats.in++;
      const r = runPlain(0, ex);
      if (r instanceof Promise) return r.then((x) => (x && stats.out++, x));
      if (r !== null) stats.out++;
      return r;
    },
    push(ex) {
      stats.in++;
      const out: Exchange[] = [];
      if (!buffers) {
        const r = runPlain(0, ex);
        if (r instanceof Promise) return r.then((x) => (x ? (stats.out++, [x]) : []));
        if (r !== null) {
          stats.out++;
          out.push(r);
        }
        return out;
      }
      const r = feed(0, ex, out);
      return r instanceof Promise ? r.then(() => out) : out;
    },
    end() {
      const out: Exchange[] = [];
      // In step order: what one buffering step lets go may land in a later one, flushed after it.
      const flushFrom = (i: number): void | Promise<void> => {
        for (; i < n; i++) {
          const runner = runners[i]!;
          if (!isBuffering(runner)) continue;
          let released: Exchange[];
          try {
            released = runner.flush();
          } catch (err) {
            throw stepError(labels[i]!, err, null);
          }
          const r = feedAll(i + 1, released, out);
          if (r instanceof Promise) {
            const next = i + 1;
            return r.then(() => flushFrom(next));
          }
        }
      };
      const r = flushFrom(0);
      return r instanceof Promise ? r.then(() => out) : out;
    },
    async *transform(source) {
      reset();
      for await (const ex of source) {
        let out = pipeline.push(ex);
        if (out instanceof Promise) out = await out;
        for (const x of out) yield x;
      }
      let rest = pipeline.end();
      if (rest instanceof Promise) rest = await rest;
      for (const x of rest) yield x;
    },
    explain() {
      const lines = [...labels];
      prepared.forEach((p, i) => {
        const l = p.learned?.() ?? [];
        if (l.length > 0) lines.push('', `${labels[i]} learned:`, ...l.map((x) => `  ${x}`));
      });
      return lines.join('\n');
    },
  };
  return pipeline;
}

/**
 * A source through a pipeline, as a stream.
 *
 * @example
 * for await (const ex of runPipeline(pipeline, readExchanges('./in'))) …
 */
export function runPipeline(pipeline: CompiledPipeline, source: Iterable<Exchange> | AsyncIterable<Exchange>): AsyncGenerator<Exchange> {
  return pipeline.transform(source);
}

function stepError(label: string, err: unknown, exchangeId: string | null, what = 'failed'): Error {
  const on = exchangeId ? ` on exchange ${exchangeId}` : '';
  // A step's own checks already name the step ("step 3 (redact …): …"); say it once.
  const raw = (err as Error)?.message ?? String(err);
  const msg = raw.startsWith(`${label}: `) ? raw.slice(label.length + 2) : raw;
  if (err instanceof RepriseError) {
    return new RepriseError(err.code, `${label} ${what}${on}: ${msg}`, { cause: err, ...(err.location && { location: err.location }) });
  }
  // Not a user error: keep it a bug (the CLI prints the stack), but say where it happened.
  return new Error(`${label} ${what}${on}: ${msg}`, { cause: err });
}
