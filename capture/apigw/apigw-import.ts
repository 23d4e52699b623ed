// Why this file exists: teams keep archives of what their forwarder sent (S3 dumps, SQS exports,
// files). `reprise import apigw` turns them into a store: files, directory trees and S3 prefixes,
// each a JSON payload, a JSON array of payloads or NDJSON, streamed one payload at a time.
import type { S3Client } from '@aws-sdk/client-s3';
import { RepriseError } from '../../errors.js';
import type { Exchange } from '../../store/exchange.js';
import { expandValue } from './apigw-items.js';
import { mapApigwPayload, type ApigwMapOptions } from './apigw-payload.js';
import { POINTER_CLASS, type ResolvePointer } from './apigw-pointer.js';
import { listImportSources, type ImportSource } from './apigw-sources.js';
import type { DeadLetterFile } from './dead-letter.js';
import { JsonValueSplitter, type SplitValue } from './json-value-splitter.js';
import { splitNdjson } from './ndjson-lines.js';

export interface ApigwImportOptions extends Partial<Pick<ApigwMapOptions, 'bodyCap' | 'redactHeaders'>> {
  /** `source.captureId` of the records (default: the input as given). */
  captureId?: string;
  /** Fetches extended-client pointers; without it a pointer is an invalid item. */
  resolvePointer?: ResolvePointer;
  /** Makes the S3 client for s3:// inputs. */
  s3?: () => Promise<S3Client>;
  /** Count and dead-letter malformed items instead of stopping at the first. */
  skipInvalid?: boolean;
  deadLetter?: DeadLetterFile;
  report?: ApigwImportReport;
  /** Largest single payload or NDJSON line (default 256 MiB: V8 strings top out near 512 MiB). */
  maxItemBytes?: number;
}

export interface ApigwImportReport {
  /** Files or objects read. */
  sources: number;
  /** Files in a directory that were not read (extension not .json/.ndjson/.jsonl/none). */
  skippedFiles: string[];
  /** Payloads found (after expanding batches and pointers). */
  items: number;
  imported: number;
  /** Malformed items skipped and dead-lettered (with skipInvalid). */
  invalid: number;
  /** The first problems, one line each, `name:line: problem`. */
  problems: string[];
}

export function newApigwImportReport(): ApigwImportReport {
  return { sources: 0, skippedFiles: [], items: 0, imported: 0, invalid: 0, problems: [] };
}

const SNIFF_BYTES = 1024 * 1024;

/**
 * Every payload under `input` (file, directory or s3://bucket/prefix) as an Exchange, in order.
 * A malformed item throws APIGW_PAYLOAD_INVALID naming `file:line` (or `s3://bucket/key:line`)
 * and the item — unless `skipInvalid`, when it is counted and dead-lettered. Records before the
 * error have been yielded already.
 *
 * @example
 * await writeExchanges(importApigw('./archive'), './store');
 */
export async function* importApigw(input: string, options: ApigwImportOptions = {}): AsyncGenerator<Exchange> {
  const report = options.report ?? newApigwImportReport();
  const map = { captureId: options.captureId ?? input, ...(options.bodyCap !== undefined ? { bodyCap: options.bodyCap } : {}), ...(options.redactHeaders !== undefined ? { redactHeaders: options.redactHeaders } : {}) };
  const sourceOptions = { onSkip: (name: string) => report.skippedFiles.push(name), ...(options.s3 ? { s3: options.s3 } : {}) };
  for await (const src of listImportSources(input, sourceOptions)) {
    report.sources++;
    const invalid = async (line: number, item: string, problems: string[], extra: { payload?: unknown; text?: string; textBase64?: string } = {}): Promise<void> => {
      const message = `${item ? `${item} ` : ''}${problems.join('; ')}`;
      if (!options.skipInvalid) throw new RepriseError('APIGW_PAYLOAD_INVALID', message, { location: { file: src.name, line } });
      report.invalid++;
      if (report.problems.length < 20) report.problems.push(`${src.name}:${line}: ${message}`);
      await options.deadLetter?.append([{ receivedAt: new Date().toISOString(), source: `${src.name}:${line}`, item, problems, ...extra }]);
    };
    try {
      let pointerHead: SplitValue | null = null; // a root array that opened with the pointer class name
      for await (const v of readValues(src, options.maxItemBytes ?? 256 * 1024 * 1024)) {
        if (v.problem !== undefined) {
          await invalid(v.line, v.index >= 0 ? `[${v.index}]` : '', [v.problem], v.bytes ? { textBase64: v.bytes.toString('base64') } : {});
          continue;
        }
        let value: unknown;
        try {
          value = JSON.parse(v.text);
        } catch (err) {
          await invalid(v.line, v.index >= 0 ? `[${v.index}]` : '', [`invalid JSON (${(err as Error).message})`], { text: v.text });
          continue;
        }
        // `["…PayloadS3Pointer", {…}]` as a whole file arrives as two array elements.
        if (v.index === 0 && value === POINTER_CLASS) {
          pointerHead = v;
          continue;
        }
        let where = v.index >= 0 ? `[${v.index}]` : '';
        if (pointerHead && v.index === 1) {
          value = [POINTER_CLASS, value];
          where = '';
        }
        pointerHead = null;
        for await (const item of expandValue(value, where, options.resolvePointer)) {
          report.items++;
          if ('problems' in item) {
            await invalid(v.line, item.where, item.problems, { ...(item.value !== undefined ? { payload: item.value } : {}), ...(item.text !== undefined ? { text: item.text } : {}), ...(item.textBase64 !== undefined ? { textBase64: item.textBase64 } : {}) });
            continue;
          }
          const r = mapApigwPayload(item.value, { ...map, receivedAt: Math.round(src.modifiedMs * 1000) });
          if (!r.ok) {
            await invalid(v.line, item.where, r.problems, { payload: item.value });
            continue;
          }
          report.imported++;
          yield r.exchange;
        }
      }
    } catch (err) {
      // A stream that is not JSON at all cannot be resynchronized: with skipInvalid, the rest of
      // this file is one invalid item and the import goes on with the next file.
      if (!(err instanceof RepriseError) || err.code !== 'APIGW_PAYLOAD_INVALID' || !options.skipInvalid || err.location?.file !== src.name) throw err;
      await invalid(err.location.line ?? 1, '', [err.message]);
    }
  }
}

/** The JSON values of one source: line by line for NDJSON (named or sniffed), else by structure. */
async function* readValues(src: ImportSource, maxItemBytes: number): AsyncGenerator<SplitValue> {
  const it = (await src.open())[Symbol.asyncIterator]();
  try {
    const head: Buffer[] = [];
    let headBytes = 0;
    let newline = -1;
    let ended = false;
    // Sniff: NDJSON when the first line is a whole JSON value and more follows. A pretty-printed
    // document's first line ("{" or "[") is not, and a one-line document has nothing after it.
    while (!src.ndjson && newline === -1 && headBytes < SNIFF_BYTES) {
      const r = await it.next();
      if (r.done) {
        ended = true;
        break;
      }
      const chunk = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      const nl = chunk.indexOf(0x0a);
      if (nl !== -1) newline = headBytes + nl;
      head.push(chunk);
      headBytes += chunk.length;
    }
    // The splitters skip a leading byte-order mark themselves, so the offsets they report are the file's.
    const all = Buffer.concat(head);
    const bom = all.length - stripBom(all).length;
    const lines = src.ndjson || (newline !== -1 && isJson(all.subarray(bom, newline)) && /\S/.test(all.subarray(newline + 1).toString('utf8')));
    const rest = async function* (): AsyncGenerator<Buffer> {
      if (all.length > 0) yield all;
      if (ended) return;
      for (let r = await it.next(); !r.done; r = await it.next()) yield Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    };
    if (lines) {
      yield* splitNdjson(rest(), maxItemBytes);
      return;
    }
    const splitter = new JsonValueSplitter(src.name, maxItemBytes);
    for await (const chunk of rest()) yield* splitter.push(chunk);
    yield* splitter.end();
  } finally {
    await it.return?.();
  }
}

/** Without a leading UTF-8 byte-order mark (Windows editors write one; it is not JSON). */
function stripBom(b: Buffer): Buffer {
  return b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? b.subarray(3) : b;
}

function isJson(bytes: Buffer): boolean {
  try {
    JSON.parse(bytes.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}
