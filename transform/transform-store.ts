import { RepriseError } from '../errors.js';
import { sameStore } from '../store/same-store.js';
import { listSegments, newReadReport, readExchanges, type ReadReport } from '../store/segment-reader.js';
import type { StoreWriterOptions } from '../store/segment-writer.js';
import { writeExchanges } from '../store/write-exchanges.js';
import { compilePipeline, type CompiledPipeline, type CompileOptions } from './compile-pipeline.js';
import { loadTransformPipeline, type PipelineDefinition } from './config/load-pipeline.js';
import type { TransformStats } from './step-types.js';

/**
 * Store → pipeline → store, streaming, in one read of the input: memory holds
 * one read chunk, one write batch and the steps' bounded state (correlate's
 * lookahead buffer is the largest), whatever the store's size. What a crash
 * loses is the writer's: the output store keeps everything flushed before it
 * (see segment-writer.ts); rerun into a fresh store.
 */

export interface TransformStoreOptions extends CompileOptions {
  /** Run everything but write nothing (counts and `--explain` still work). */
  dryRun?: boolean;
  writer?: StoreWriterOptions;
  /** Called every 10,000 written exchanges. */
  onProgress?: (written: number) => void;
}

export interface TransformSummary {
  input: string;
  output: string;
  dryRun: boolean;
  /** Exchanges read, and written (or that would be written on a dry run). */
  in: number;
  out: number;
  /** Per step: its label and how many exchanges it dropped. */
  steps: Array<{ label: string; dropped: number }>;
  redactions: Record<string, number>;
  templated: Record<string, number>;
  extractRules: number;
  warnings: string[];
  read: ReadReport;
  /** The pipeline's explanation, with what correlate learned. */
  explanation: string;
}

/**
 * @example
 * const summary = await transformStore('./raw', './clean', 'transforms.yaml');
 * console.log(formatTransformSummary(summary));
 */
export async function transformStore(input: string, output: string, pipeline: string | PipelineDefinition | CompiledPipeline, options: TransformStoreOptions = {}): Promise<TransformSummary> {
  if (!options.dryRun && (await sameStore(input, output))) {
    throw new RepriseError('OUTPUT_UNWRITABLE', 'the output store must not be the input store (it is read while the output is written)', { location: { file: output } });
  }
  const compiled = isCompiled(pipeline) ? pipeline : await compilePipeline(typeof pipeline === 'string' ? await loadTransformPipeline(pipeline) : pipeline, options);
  // Fail on a missing input before an output store is created.
  await listSegments(input);
  const read = newReadReport();
  const stream = compiled.transform(readExchanges(input, { report: read }));
  if (options.dryRun) {
    for await (const _ of stream) { /* counted by the pipeline */ }
  } else {
    await writeExchanges(stream, output, { ...options.writer, ...(options.onProgress && { onProgress: options.onProgress }) });
  }
  return summarize(input, output, options.dryRun ?? false, compiled, read);
}

function isCompiled(p: string | PipelineDefinition | CompiledPipeline): p is CompiledPipeline {
  return typeof p === 'object' && 'apply' in p;
}

function summarize(input: string, output: string, dryRun: boolean, p: CompiledPipeline, read: ReadReport): TransformSummary {
  const s: TransformStats = p.stats;
  return {
    input,
    output,
    dryRun,
    in: s.in,
    out: s.out,
    steps: p.labels.map((label, i) => ({ label, dropped: s.dropped[i] ?? 0 })),
    redactions: { ...s.redactions },
    templated: { ...s.templated },
    extractRules: s.extractRules,
    warnings: [...s.warnings],
    read,
    explanation: p.explain(),
  };
}

/** The summary as the CLI prints it. */
export function formatTransformSummary(s: TransformSummary): string {
  const lines = [`${s.dryRun ? 'would write' : 'wrote'} ${s.out} of ${s.in} exchanges from ${s.input}${s.dryRun ? '' : ` to ${s.output}`} (${s.in - s.out} dropped)`];
  const drops = s.steps.filter((x) => x.dropped > 0);
  if (drops.length > 0) lines.push('dropped by step:', ...drops.map((x) => `  ${x.label}: ${x.dropped}`));
  const kinds = (r: Record<string, number>): string => Object.entries(r).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  if (Object.keys(s.redactions).length > 0) lines.push(`redactions: ${kinds(s.redactions)}`);
  if (Object.keys(s.templated).length > 0) lines.push(`templated: ${kinds(s.templated)}`);
  if (s.extractRules > 0) lines.push(`extraction rules attached: ${s.extractRules}`);
  if (s.read.tornTails > 0 || s.read.skippedLines > 0) lines.push(`input damage: ${s.read.tornTails} torn records, ${s.read.skippedLines} skipped lines`);
  for (const w of s.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
