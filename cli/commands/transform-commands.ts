import { compilePipeline } from '../../transform/compile-pipeline.js';
import { loadTransformPipeline } from '../../transform/config/load-pipeline.js';
import { formatTransformSummary, transformStore } from '../../transform/transform-store.js';
import { requirePositionals, requireString, type Command } from '../command.js';

export const transformCommand: Command = {
  path: ['transform'],
  args: '<in-store>',
  summary: 'Run a transforms.yaml pipeline (redact, parameterize, correlate, filter, sample, dedupe, plugins) from one store into another.',
  options: {
    out: { type: 'string', short: 'o', hint: 'store', description: 'store to write (created if missing; must not be the input)' },
    with: { type: 'string', short: 'w', hint: 'transforms.yaml', description: 'the pipeline to run' },
    explain: { type: 'boolean', description: 'print each step in words, and what correlate learned (values masked)' },
    'dry-run': { type: 'boolean', description: 'run the pipeline but write nothing; --out is not needed' },
    json: { type: 'boolean', description: 'print the summary as JSON' },
  },
  examples: [
    'reprise transform ./raw --out ./clean --with transforms.yaml',
    'reprise transform ./raw --with transforms.yaml --dry-run --explain',
  ],
  async run(parsed, ctx) {
    const [input] = requirePositionals(this, parsed, ['<in-store>']);
    const dryRun = parsed.values['dry-run'] === true;
    const output = dryRun && parsed.values.out === undefined ? '' : requireString(this, parsed, 'out');
    const file = requireString(this, parsed, 'with');
    const pipeline = await compilePipeline(await loadTransformPipeline(file));
    const summary = await transformStore(input!, output, pipeline, {
      dryRun,
      onProgress: (count) => ctx.log?.info({ count }, 'transforming'),
    });
    if (parsed.values.json) {
      ctx.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      return 0;
    }
    if (parsed.values.explain) ctx.stdout.write(`${summary.explanation}\n\n`);
    ctx.stdout.write(`${formatTransformSummary(summary)}\n`);
    return 0;
  },
};
