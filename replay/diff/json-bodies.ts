import type { Difference } from './diff-types.js';
import type { DiffRules } from './diff-rules.js';
import { compareJson, parseJsonForDiff } from './json-compare.js';

/**
 * JSON bodies as the comparer reads them: one document, or a stream of
 * records compared as the elements of an array `$` (`$[2].id`, the field
 * `$[*].id`). A body labelled as a record stream (NDJSON, JSON Lines,
 * json-seq) is read as records; one labelled JSON is read as a document,
 * else — servers label streams loosely — as NDJSON records when every
 * non-empty line is JSON.
 */

export type JsonBody =
  | { shape: 'document'; value: unknown; oneLine: boolean }
  | { shape: 'records'; records: unknown[] }
  /** `at`: where reading it as records failed (`line 4`), after `records` good ones. */
  | { shape: 'invalid'; label: 'json' | 'json-lines'; at: string; records: number };

/**
 * @example
 * readJsonBody('{"a":1}\n{"a":2}\n', 'json', 'application/json', compileDiffRules()) // { shape: 'records', records: [{a:1}, {a:2}] }
 */
export function readJsonBody(text: string, kind: 'json' | 'json-lines', type: string, rules: DiffRules): JsonBody {
  if (kind === 'json-lines') {
    const r = tryParseRecords(text, isJsonSeq(type), rules);
    return r.ok ? { shape: 'records', records: r.value } : { shape: 'invalid', label: 'json-lines', at: r.at, records: r.records };
  }
  const doc = tryParse(text, rules);
  if (doc.ok) return { shape: 'document', value: doc.value, oneLine: !text.trim().includes('\n') };
  // Only tried once the body failed as one document, so well-formed JSON pays nothing for it. An
  // empty body is no stream of zero records: it stays invalid JSON, as a client's JSON.parse sees it.
  const r = tryParseRecords(text, false, rules);
  if (r.ok && r.value.length > 0) return { shape: 'records', records: r.value };
  return { shape: 'invalid', label: 'json', at: r.ok ? 'empty' : r.at, records: r.ok ? 0 : r.records };
}

/**
 * Two read JSON bodies compared into `out`. False when neither could be read (the caller compares
 * them as text). A one-line document beside a stream is a stream of one record (a one-record NDJSON
 * body parses as a document too); a multi-line document beside a stream is a changed body type.
 */
export function compareJsonBodies(a: JsonBody, b: JsonBody, rules: DiffRules, out: Difference[]): boolean {
  if (a.shape === 'invalid' && b.shape === 'invalid') return false;
  if (a.shape === 'invalid' || b.shape === 'invalid') {
    const other = a.shape === 'invalid' ? b : a;
    out.push({ path: 'body', kind: 'type', left: labelOf(a, other), right: labelOf(b, other) });
    return true;
  }
  if (a.shape === 'document' && b.shape === 'document') {
    compareJson(a.value, b.value, rules, out);
    return true;
  }
  const ra = recordsOf(a);
  const rb = recordsOf(b);
  if (ra && rb) compareJson(ra, rb, rules, out);
  else out.push({ path: 'body', kind: 'type', left: labelOf(a, b), right: labelOf(b, a) });
  return true;
}

function recordsOf(body: JsonBody): unknown[] | undefined {
  if (body.shape === 'records') return body.records;
  return body.shape === 'document' && body.oneLine ? [body.value] : undefined;
}

function labelOf(body: JsonBody, other: JsonBody): string {
  if (body.shape === 'document') return 'json';
  if (body.shape === 'records') return 'json-lines';
  // A JSON-labelled body whose first lines were records, beside a stream: a stream broken at a line
  // (an HTML error page labelled JSON is not one, and stays `invalid json`).
  const streamLike = body.label === 'json-lines' || (other.shape === 'records' && body.records > 0);
  return streamLike ? `invalid json-lines (${body.at})` : 'invalid json';
}

function tryParse(text: string, rules: DiffRules): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: parseJsonForDiff(text, rules.strictNumberText) };
  } catch {
    return { ok: false };
  }
}

/**
 * A stream of JSON texts: NDJSON / JSON Lines one per line (blank lines skipped), RFC 7464 json-seq
 * each after an RS (0x1E), where one text may span lines. Fails at the first record that is not JSON.
 */
function tryParseRecords(text: string, seq: boolean, rules: DiffRules): { ok: true; value: unknown[] } | { ok: false; at: string; records: number } {
  const parts = text.split(seq ? '\u001e' : '\n');
  const records: unknown[] = [];
  for (const [i, part] of parts.entries()) {
    if (part.trim() === '') continue;
    const parsed = tryParse(part, rules);
    if (!parsed.ok) return { ok: false, at: seq ? `record ${records.length + 1}` : `line ${i + 1}`, records: records.length };
    records.push(parsed.value);
  }
  return { ok: true, value: records };
}

function isJsonSeq(type: string): boolean {
  return /[/+]json-seq\b/.test(type);
}
