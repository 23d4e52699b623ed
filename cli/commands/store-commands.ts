import { readExchanges, newReadReport } from '../../store/segment-reader.js';
import { formatStoreSummary, inspectStore } from '../../store/inspect-store.js';
import { writeNdjson } from '../../store/write-exchanges.js';
import { positiveNumber, requirePositionals, type Command } from '../command.js';
import { FILTER_OPTIONS, filterFromArgs } from '../filter-options.js';
import { S3_OPTIONS } from '../s3-options.js';

export const storeInspect: Command = {
  path: ['store', 'inspect'],
  args: '<store>',
  summary: 'Summarize a store: exchanges, time range, top endpoint templates, status mix, bytes.',
  options: {
    json: { type: 'boolean', description: 'print the summary as JSON' },
    top: { type: 'string', hint: 'n', description: 'how many endpoint templates to list (default 10)' },
    ...S3_OPTIONS,
  },
  examples: ['reprise store inspect ./store', 'reprise store inspect ./store --json --top 50', 'reprise store inspect s3://traffic/prod'],
  async run(parsed, ctx) {
    const [store] = requirePositionals(this, parsed, ['<store>']);
    const summary = await inspectStore(store!, { top: positiveNumber(this, parsed, 'top', true) ?? 10 });
    ctx.stdout.write(parsed.values.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatStoreSummary(summary)}\n`);
    return 0;
  },
};

export const storeCat: Command = {
  path: ['store', 'cat'],
  args: '<store>',
  summary: 'Print the exchanges of a store as NDJSON on stdout, in write order, optionally filtered.',
  options: {
    ...FILTER_OPTIONS,
    limit: { type: 'string', hint: 'n', description: 'stop after n exchanges' },
    'skip-corrupt': { type: 'boolean', description: 'skip corrupt lines and segments (counted on stderr) instead of stopping' },
    ...S3_OPTIONS,
  },
  examples: ['reprise store cat ./store --status 5xx --path "/api/**" | jq .request.path'],
  async run(parsed, ctx) {
    const [store] = requirePositionals(this, parsed, ['<store>']);
    const report = newReadReport();
    const limit = positiveNumber(this, parsed, 'limit', true) ?? Infinity;
    const source = readExchanges(store!, { filter: filterFromArgs(parsed), report, onCorrupt: parsed.values['skip-corrupt'] ? 'skip' : 'throw' });
    await writeNdjson(take(source, limit), ctx.stdout);
    if (report.problems.length > 0) {
      ctx.log?.warn({ skippedLines: report.skippedLines, tornTails: report.tornTails, problems: report.problems }, 'store has damaged records; the rest was read');
    }
    return 0;
  },
};

async function* take<T>(it: AsyncIterable<T>, n: number): AsyncGenerator<T> {
  if (n <= 0) return;
  let i = 0;
  for await (const x of it) {
    yield x;
    if (++i >= n) return;
  }
}
