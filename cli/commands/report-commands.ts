import { formatReplaySummary } from '../../replay/report/format-summary.js';
import { mergeReplaySummaries } from '../../replay/report/merge-summaries.js';
import { readReplaySummary } from '../../replay/report/read-summary.js';
import { buildSummaryJson } from '../../replay/report/summary-json.js';
import { writeReplayReports } from '../../replay/report/write-reports.js';
import { RepriseError } from '../../errors.js';
import type { Command } from '../command.js';

/** Same code as `reprise replay` (cli/commands/replay-commands.ts): a threshold failed. */
const EXIT_THRESHOLD_FAILED = 3;

export const reportMergeCommand: Command = {
  path: ['report', 'merge'],
  args: '<summary.json>…',
  summary: 'Merge the summary.json files of a sharded replay into one report: exact histogram merge, plans added, thresholds evaluated again on the merged metrics.',
  options: {
    out: { type: 'string', short: 'o', hint: 'dir', description: 'write the merged summary.json, junit.xml and report.html here' },
    threshold: { type: 'string', multiple: true, hint: 'expr', description: "also evaluate this threshold ('p99<250ms'); the shards' own are always evaluated (exit 3 on failure)" },
    json: { type: 'boolean', description: 'print the merged summary.json instead of the text summary' },
  },
  examples: ['reprise report merge shard-*/summary.json --out merged/ --threshold "p99<250ms"'],
  async run(parsed, ctx) {
    if (parsed.positionals.length === 0) throw new RepriseError('CLI_USAGE', 'report merge: give one or more summary.json files (see --help)');
    const summaries = [];
    for (const path of parsed.positionals) summaries.push(await readReplaySummary(path));
    const extra = (parsed.values.threshold as string[] | undefined) ?? [];
    const input = mergeReplaySummaries(summaries, extra);
    if (typeof parsed.values.out === 'string') {
      const files = await writeReplayReports(parsed.values.out, input);
      ctx.log?.info({ files }, 'merged replay reports written');
    }
    ctx.stdout.write(parsed.values.json ? `${JSON.stringify(buildSummaryJson(input), null, 2)}\n` : formatReplaySummary(input));
    return input.thresholds.every((t) => t.passed) ? 0 : EXIT_THRESHOLD_FAILED;
  },
};
