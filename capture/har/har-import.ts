// Why this file exists: HAR is how browsers, proxies and devtools share traffic; importing it is
// the quickest way to get a store without running a capture. It streams the file entry by entry
// (see har-entry-scanner.ts) and reports any malformed entry with file:line:column.
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { RepriseError } from '../../errors.js';
import type { Exchange } from '../../store/exchange.js';
import { DEFAULT_SECRET_HEADERS, redactSecretHeaders } from '../../transform/redact-headers.js';
import { mapHarEntry, type MapContext } from './har-entry-mapper.js';
import { HarEntryScanner, locateInEntry, type ScannedEntry } from './har-entry-scanner.js';
import { HarFieldProblem } from './har-fields.js';

export interface HarImportOptions {
  /** Names the capture in `source.captureId` (default: the file's base name). */
  captureId?: string;
  /** Filled in while importing; read it after the iteration ends. */
  report?: HarImportReport;
  /** Read size in bytes (default 64 KiB: one entry of a typical JSON API HAR, few syscalls). */
  highWaterMark?: number;
  /** Largest single entry accepted (default 256 MiB). */
  maxEntryBytes?: number;
  /**
   * Headers whose values are redacted before an exchange is yielded (default
   * DEFAULT_SECRET_HEADERS; false keeps them in clear). Done here, not by the
   * caller, so every way in — CLI, scenario source, library — keeps secrets off disk.
   */
  redactHeaders?: readonly string[] | false;
}

export interface HarImportReport {
  entries: number;
  imported: number;
  /** Entries that are not HTTP (data:, blob:, chrome-extension: URLs). */
  skipped: number;
  /** The first reasons for skipping, as one-line messages. */
  notes: string[];
}

const MAX_NOTES = 20; // enough to see the pattern; the counts stay exact

/**
 * An empty report to pass as `options.report`.
 *
 * @example
 * const report = newHarImportReport();
 * for await (const ex of importHar('a.har', { report })) await writer.write(ex);
 * if (report.skipped > 0) log.warn(report.notes.join('\n'));
 */
export function newHarImportReport(): HarImportReport {
  return { entries: 0, imported: 0, skipped: 0, notes: [] };
}

/**
 * Every entry of a HAR 1.2 file as an Exchange, in file order, secret headers
 * redacted (see `redactHeaders`). Memory holds one entry at a time. A malformed file throws RepriseError HAR_INVALID with
 * the location of the problem; entries before it have been yielded already.
 *
 * @example
 * const w = await openStoreWriter('./store');
 * for await (const ex of importHar('session.har')) await w.write(ex);
 * await w.close();
 */
export async function* importHar(file: string, options: HarImportOptions = {}): AsyncGenerator<Exchange> {
  const report = options.report ?? newHarImportReport();
  const scanner = new HarEntryScanner(file, options.maxEntryBytes === undefined ? {} : { maxEntryBytes: options.maxEntryBytes });
  const ctx: MapContext = { captureId: options.captureId ?? basename(file), captureIdGiven: options.captureId !== undefined, seqs: new Map() };
  const redact = options.redactHeaders === false ? null : (options.redactHeaders ?? DEFAULT_SECRET_HEADERS);
  const stream = createReadStream(file, { highWaterMark: options.highWaterMark ?? 64 * 1024 });
  try {
    for await (const chunk of stream) {
      for (const entry of scanner.push(chunk as Buffer)) {
        const exchange = convertEntry(entry, file, ctx, report);
        if (exchange) yield redact ? redactSecretHeaders(exchange, redact) : exchange;
      }
    }
    scanner.end();
  } catch (err) {
    throw toImportError(err, file);
  } finally {
    stream.destroy();
  }
}

function convertEntry(entry: ScannedEntry, file: string, ctx: MapContext, report: HarImportReport): Exchange | null {
  report.entries++;
  let value: unknown;
  try {
    value = JSON.parse(entry.text);
  } catch (err) {
    // The scanner checked the syntax already; this is a last guard (e.g. engine limits).
    throw new RepriseError('HAR_INVALID', `entries[${entry.index}]: invalid JSON (${(err as Error).message})`, { cause: err, location: { file, line: entry.line, column: entry.column, offset: entry.offset } });
  }
  try {
    const result = mapHarEntry(value, ctx);
    if ('skipped' in result) {
      report.skipped++;
      if (report.notes.length < MAX_NOTES) report.notes.push(`entries[${entry.index}]: skipped, ${result.skipped}`);
      return null;
    }
    report.imported++;
    return result.exchange;
  } catch (err) {
    if (!(err instanceof HarFieldProblem)) throw err;
    const where = formatPath(err.path);
    throw new RepriseError('HAR_INVALID', `entries[${entry.index}]${where}: ${err.message}`, { cause: err, location: { file, ...locateInEntry(entry, err.path) } });
  }
}

/** `['request', 'headers', 2, 'name']` → `.request.headers[2].name`. */
function formatPath(path: (string | number)[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
}

function toImportError(err: unknown, file: string): unknown {
  if (err instanceof RepriseError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') return new RepriseError('INPUT_NOT_FOUND', `no such file: ${file}`, { cause: err, location: { file } });
  if (typeof code === 'string') return new RepriseError('INPUT_UNREADABLE', `cannot read ${file}: ${(err as Error).message}`, { cause: err, location: { file } });
  return err;
}
