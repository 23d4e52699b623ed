// One transform benchmark phase in its own process, so its peak RSS is its own:
//   transform-worker.ts pipeline <n> [none]   in-memory records through every step (or none: the anchor)
//   transform-worker.ts make <dir> <n>        write the input store (not timed)
//   transform-worker.ts store <in> <out> [none]  transformStore, store → store
//   transform-worker.ts steps <n>             each step of the pipeline alone, in memory: CPU µs per record
import { fileURLToPath } from 'node:url';
import { writeExchanges } from '../store/write-exchanges.js';
import { compilePipeline } from '../transform/compile-pipeline.js';
import { parsePipelineYaml, validatePipeline, type PipelineDefinition } from '../transform/config/load-pipeline.js';
import { transformStore } from '../transform/transform-store.js';
import { BENCH_PIPELINE, benchExchanges } from './transform-records.js';

const [phase, a, b, c] = process.argv.slice(2);
const here = fileURLToPath(new URL('.', import.meta.url));
const env = { REPRISE_REDACT_KEY: 'bench-key-0123456789abcdef' };
// BENCH_LOOKAHEAD=n tries another correlate window (for experiments; the reported runs use the default).
const yaml = process.env.BENCH_LOOKAHEAD ? BENCH_PIPELINE.replace('type: correlate', `type: correlate\n    lookahead: ${process.env.BENCH_LOOKAHEAD}`) : BENCH_PIPELINE;
const definition = (none: boolean) => (none ? validatePipeline({ steps: [] }) : parsePipelineYaml(yaml, 'bench', here));

let t0 = process.hrtime.bigint();
let cpu0 = process.cpuUsage();
let count = 0;
let out = 0;
let extra: Record<string, unknown> = {};
if (phase === 'pipeline') {
  const n = Number(a);
  const pipeline = await compilePipeline(definition(b === 'none'), { env });
  cpu0 = process.cpuUsage();
  t0 = process.hrtime.bigint(); // compiling (reading keys, importing the plugin through tsx) is not throughput
  // The library's synchronous form (push/end): no plugin here returns a promise, so no async hop per record.
  for (const ex of benchExchanges(n)) {
    const r = pipeline.push(ex);
    out += (r instanceof Promise ? await r : r).length;
  }
  const rest = pipeline.end();
  out += (rest instanceof Promise ? await rest : rest).length;
  count = n;
  extra = { dropped: pipeline.stats.dropped, redactions: pipeline.stats.redactions, templated: pipeline.stats.templated };
} else if (phase === 'make') {
  const s = await writeExchanges(benchExchanges(Number(b)), a!);
  count = s.exchanges;
} else if (phase === 'store') {
  const pipeline = await compilePipeline(definition(c === 'none'), { env });
  cpu0 = process.cpuUsage();
  t0 = process.hrtime.bigint();
  const s = await transformStore(a!, b!, pipeline);
  count = s.in;
  out = s.out;
} else if (phase === 'steps') {
  // Where the time goes: the same records through one step at a time, and through no step (the generator's
  // own cost, included in each step's figure). Steps after a dropping step see more records here than in
  // the pipeline.
  const n = Number(a);
  const full = definition(false);
  const cpuPerRecord = async (def: PipelineDefinition): Promise<number> => {
    const pipeline = await compilePipeline(def, { env });
    const c0 = process.cpuUsage();
    for (const ex of benchExchanges(n)) {
      const r = pipeline.push(ex);
      if (r instanceof Promise) await r;
    }
    pipeline.end();
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / n;
  };
  await cpuPerRecord(validatePipeline({ steps: [] })); // warm up the generator
  const base = await cpuPerRecord(validatePipeline({ steps: [] }));
  const steps: Record<string, number> = {};
  for (const step of full.steps) {
    steps[step.type] = await cpuPerRecord(validatePipeline({ steps: [step] }, { baseDir: full.baseDir }));
  }
  count = n;
  extra = { generatorUs: base, stepUs: steps };
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
// CPU time as well as wall time: on a shared machine the wall clock counts other processes' turns too.
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
process.stdout.write(`${JSON.stringify({ phase, count, out, seconds, perSecond: count / seconds, perCpuSecond: count / cpuSeconds, maxRssMB: process.resourceUsage().maxRSS / 1024, ...extra })}\n`);
