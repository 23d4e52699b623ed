// Why this file exists: a folder of Markdown files, one per exchange plus an index, is the easiest
// way to review or attach captured traffic (pull requests, issues, wikis) without any tool.
// Rendering of one exchange lives in markdown-render.ts; this file writes the files.
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { requestUrl, type Exchange } from '../exchange.js';
import { toExportError } from './har-export.js';
import { escapeMarkdown, formatDuration, formatMicros, inlineCode, markdownFileName, renderExchangeMarkdown } from './markdown-render.js';
import { makeDirs } from '../make-dirs.js';

/** URLs in the index are cut to this many characters; the exchange's own file has the full URL. */
const INDEX_URL_CHARS = 100;

/**
 * Write one Markdown file per exchange into `outDir` (created if missing) and
 * an index.md table linking them, in input order. Files of an earlier export
 * into the same directory are overwritten when their names match and left
 * alone otherwise. The index is streamed, so memory stays flat for any count;
 * an interrupted export leaves the files written so far and a partial index.
 *
 * @example
 * const { count } = await exportMarkdown(readExchanges('./store', { filter: { paths: ['/users/**'] } }), './review');
 */
export async function exportMarkdown(exchanges: AsyncIterable<Exchange>, outDir: string): Promise<{ count: number }> {
  const counter = { count: 0 };
  let target = outDir;
  try {
    await makeDirs(outDir);
    target = join(outDir, 'index.md');
    await pipeline(renderIndex(exchanges, outDir, counter), createWriteStream(target));
  } catch (err) {
    throw toExportError(err, target);
  }
  return { count: counter.count };
}

/** Writes each exchange's file as a side effect and yields the index, row by row. */
async function* renderIndex(exchanges: AsyncIterable<Exchange>, outDir: string, counter: { count: number }): AsyncGenerator<string> {
  yield '# Exchanges\n\n| # | Time | Method | URL | Status | Duration | File |\n|---:|---|---|---|---:|---:|---|\n';
  for await (const ex of exchanges) {
    const ordinal = ++counter.count;
    const name = markdownFileName(ex, ordinal);
    const file = join(outDir, name);
    try {
      await writeFile(file, renderExchangeMarkdown(ex, ordinal));
    } catch (err) {
      throw toExportError(err, file);
    }
    yield `${indexRow(ex, ordinal, name)}\n`;
  }
  yield `\n${counter.count} exchange${counter.count === 1 ? '' : 's'}.\n`;
}

function indexRow(ex: Exchange, ordinal: number, file: string): string {
  const url = requestUrl(ex.request);
  const shown = url.length > INDEX_URL_CHARS ? `${url.slice(0, INDEX_URL_CHARS - 1)}…` : url;
  const status = ex.response ? String(ex.response.status) : `— ${ex.error?.kind ?? 'no response'}`;
  const cells = [String(ordinal), formatMicros(ex.start), escapeMarkdown(ex.request.method), escapeCell(inlineCode(shown)), status, formatDuration(ex.duration), `[${file}](${file})`];
  return `| ${cells.join(' | ')} |`;
}

/** A pipe would end the table cell, even inside a code span (GFM). */
function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
}
