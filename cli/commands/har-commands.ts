import { importHar, newHarImportReport } from '../../capture/har/har-import.js';
import { exportHar } from '../../store/export/har-export.js';
import { exportMarkdown } from '../../store/export/markdown-export.js';
import { readExchanges } from '../../store/segment-reader.js';
import { writeExchanges } from '../../store/write-exchanges.js';
import { requirePositionals, requireString, type Command } from '../command.js';
import { FILTER_OPTIONS, filterFromArgs } from '../filter-options.js';
import { REDACT_OPTIONS, redactHeadersFromArgs } from '../redact-options.js';
import { S3_OPTIONS } from '../s3-options.js';

export const importHarCommand: Command = {
  path: ['import', 'har'],
  args: '<file.har>',
  summary: 'Import a HAR 1.2 file (browser devtools, proxies) into a store; the file is streamed, not loaded whole.',
  options: {
    out: { type: 'string', short: 'o', hint: 'store', description: 'store to append to: a directory (created if missing) or s3://bucket/prefix' },
    ...REDACT_OPTIONS,
    ...S3_OPTIONS,
  },
  examples: ['reprise import har session.har --out ./store', 'reprise import har session.har --out ./store --redact-header x-session-id'],
  async run(parsed, ctx) {
    const [file] = requirePositionals(this, parsed, ['<file.har>']);
    const out = requireString(this, parsed, 'out');
    const report = newHarImportReport();
    const entries = importHar(file!, { report, redactHeaders: redactHeadersFromArgs(parsed.values) });
    const summary = await writeExchanges(entries, out, { onProgress: (count) => ctx.log?.info({ count, file }, 'importing') });
    if (report.skipped > 0) ctx.log?.warn({ skipped: report.skipped, notes: report.notes.slice(0, 10) }, 'some HAR entries were not HTTP exchanges and were skipped');
    ctx.stdout.write(`imported ${summary.exchanges} exchanges from ${file} into ${out}${report.skipped ? ` (${report.skipped} skipped)` : ''}\n`);
    return 0;
  },
};

export const exportHarCommand: Command = {
  path: ['export', 'har'],
  args: '<store>',
  summary: 'Export a store (or a filtered part of it) as one HAR 1.2 file.',
  options: { ...FILTER_OPTIONS, ...S3_OPTIONS, out: { type: 'string', short: 'o', hint: 'file.har', description: 'HAR file to write' } },
  examples: ['reprise export har ./store --out session.har --status 5xx'],
  async run(parsed, ctx) {
    const [store] = requirePositionals(this, parsed, ['<store>']);
    const out = requireString(this, parsed, 'out');
    const { count } = await exportHar(readExchanges(store!, { filter: filterFromArgs(parsed) }), out);
    ctx.stdout.write(`exported ${count} exchanges to ${out}\n`);
    return 0;
  },
};

export const exportMarkdownCommand: Command = {
  path: ['export', 'md'],
  args: '<store>',
  summary: 'Export each exchange as a readable Markdown file (an HTTP wire dump) plus an index.md.',
  options: { ...FILTER_OPTIONS, ...S3_OPTIONS, out: { type: 'string', short: 'o', hint: 'dir', description: 'directory to write' } },
  examples: ['reprise export md ./store --out ./exchanges --path "/users/**"'],
  async run(parsed, ctx) {
    const [store] = requirePositionals(this, parsed, ['<store>']);
    const out = requireString(this, parsed, 'out');
    const { count } = await exportMarkdown(readExchanges(store!, { filter: filterFromArgs(parsed) }), out);
    ctx.stdout.write(`wrote ${count} exchange files and index.md to ${out}\n`);
    return 0;
  },
};
