import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { ComparableBody, Difference, ResponseSide } from './diff-types.js';
import type { DiffRules } from './diff-rules.js';
import { compareHeaders } from './header-compare.js';
import { compareEventStreams } from './event-stream.js';
import { compareJsonBodies, readJsonBody } from './json-bodies.js';
import { compareTextLines, maskFormFields, normalizeHtml } from './text-compare.js';
import { maskVolatileText, sharedVolatileClass, type VolatileClass } from './volatile-values.js';

/**
 * One pair of responses → its differences: status, headers, then the body by
 * content type (JSON and JSON record streams structurally, json-bodies.ts;
 * Server-Sent Events event by event, event-stream.ts; text by lines, HTML
 * normalized, anything else by size, type and hash). Pure: no I/O, no
 * statistics.
 */

export interface CompareOptions {
  /** No second baseline: set aside differences whose two sides are the same kind of volatile value. */
  setAsideVolatile: boolean;
  /** Form fields redact replaced (`response.body.form.<name>` marks): their values are masked on both sides of a form body. */
  redactedFormFields?: ReadonlySet<string>;
}

export interface PairComparison {
  diffs: Difference[];
  /** Differences not counted because both sides were timestamps, UUIDs, epochs or generated ids. */
  setAside: Array<{ path: string; cls: VolatileClass }>;
  /** A body was over the cap (or cut at capture) and compared by size and hash only. */
  hashCompared: boolean;
}

export type BodyKind = 'json' | 'json-lines' | 'event-stream' | 'html' | 'text' | 'binary';

export function compareResponses(a: ResponseSide, b: ResponseSide, rules: DiffRules, options: CompareOptions): PairComparison {
  const result: PairComparison = { diffs: [], setAside: [], hashCompared: false };
  if (a.status !== b.status) {
    result.diffs.push({ path: 'status', kind: 'status', left: a.error ?? String(a.status), right: b.error ?? String(b.status) });
  }
  if (a.status === null || b.status === null) return result; // no response on a side: only the status speaks
  result.diffs.push(...compareHeaders(a.headers, b.headers, rules));
  compareBodies(a, b, rules, options, result);
  if (options.setAsideVolatile) setAsideVolatile(result);
  return result;
}

function compareBodies(a: ResponseSide, b: ResponseSide, rules: DiffRules, options: CompareOptions, out: PairComparison): void {
  const ba = a.body;
  const bb = b.body;
  if (!ba && !bb) return;
  if (!ba || !bb) {
    out.diffs.push(ba ? { path: 'body', kind: 'missing', left: `${ba.size} bytes` } : { path: 'body', kind: 'extra', right: `${bb!.size} bytes` });
    return;
  }
  if (sameBytes(ba, bb)) return; // byte-identical: the common case, no parsing
  if (ba.overCap || bb.overCap || ba.incomplete || bb.incomplete) {
    out.hashCompared = true;
    out.diffs.push(ba.size !== bb.size
      ? { path: 'body', kind: 'size', left: `${ba.size} bytes`, right: `${bb.size} bytes` }
      : { path: 'body', kind: 'value', left: `sha256 ${digestOf(ba).slice(0, 16)}…`, right: `sha256 ${digestOf(bb).slice(0, 16)}…` });
    return;
  }
  const ka = bodyKind(contentType(a), ba);
  const kb = bodyKind(contentType(b), bb);
  if (ka === 'binary' && kb === 'binary') {
    out.diffs.push(ba.size !== bb.size
      ? { path: 'body', kind: 'size', left: `${ba.size} bytes`, right: `${bb.size} bytes` }
      : { path: 'body', kind: 'value', left: `sha256 ${digestOf(ba).slice(0, 16)}…`, right: `sha256 ${digestOf(bb).slice(0, 16)}…` });
    return;
  }
  // A byte-order mark is not content (RFC 8259 lets parsers ignore it): set aside before parsing or
  // comparing lines, and one low finding when the candidate starts sending it, since some strict
  // parsers (JSON.parse over the raw text) fail on it. One it stops sending breaks no client.
  let ta = ka === 'binary' ? '' : textOf(ba);
  let tb = kb === 'binary' ? '' : textOf(bb);
  const bomA = ta.startsWith(BOM);
  const bomB = tb.startsWith(BOM);
  if (bomA) ta = ta.slice(1);
  if (bomB) tb = tb.slice(1);
  if (bomB && !bomA && ka !== 'binary') out.diffs.push({ path: 'body.bom', kind: 'extra', right: 'UTF-8 byte-order mark before the body' });
  // JSON documents and record streams, whichever label each side has; two bodies neither of which
  // reads as JSON are compared by lines below.
  if (ka === 'event-stream' && kb === 'event-stream') {
    // The events as the elements of an array `$`, like NDJSON records: `$[1].data.status`, field `$[*].data.status`.
    const events = compareEventStreams(ta, tb, rules);
    out.diffs.push(...events.diffs);
    if (options.setAsideVolatile) for (const path of events.clocksOnly) out.setAside.push({ path, cls: 'timestamp' });
    return;
  }
  if (isJsonKind(ka) && isJsonKind(kb) && compareJsonBodies(readJsonBody(ta, ka, contentType(a), rules), readJsonBody(tb, kb, contentType(b), rules), rules, out.diffs)) return;
  if (ka !== kb) {
    out.diffs.push({ path: 'body', kind: 'type', left: ka, right: kb });
    return;
  }
  if (ka === 'html') {
    ta = normalizeHtml(ta);
    tb = normalizeHtml(tb);
  }
  const redactedForm = options.redactedFormFields;
  if (redactedForm && redactedForm.size > 0) {
    if (isFormType(contentType(a))) ta = maskFormFields(ta, redactedForm);
    if (isFormType(contentType(b))) tb = maskFormFields(tb, redactedForm);
  }
  // Masked with a second baseline too: a text body is one field, so a single clock line would make
  // `body` differ between the baselines on every pair and hide every real change in it as noise.
  const ma = maskVolatileText(ta);
  const mb = maskVolatileText(tb);
  if (options.setAsideVolatile && ma.masked + mb.masked > 0 && ma.text === mb.text && ta !== tb) out.setAside.push({ path: 'body', cls: 'timestamp' });
  out.diffs.push(...compareTextLines(ma.text, mb.text));
}

const BOM = '\uFEFF';

function isJsonKind(kind: BodyKind): kind is 'json' | 'json-lines' {
  return kind === 'json' || kind === 'json-lines';
}

function textOf(body: ComparableBody): string {
  return body.text ?? body.bytes.toString('utf8');
}

/** Same size and same bytes: by hash when both were hashed (over the cap), else byte for byte. */
function sameBytes(a: ComparableBody, b: ComparableBody): boolean {
  if (a.size !== b.size) return false;
  if (a.sha256 !== undefined && b.sha256 !== undefined) return a.sha256 === b.sha256;
  if (a.overCap || b.overCap) return false;
  return a.text !== undefined && b.text !== undefined ? a.text === b.text : a.bytes.equals(b.bytes);
}

/** sha256 of what is held (the whole body unless over the cap, where the sink hashed everything). */
export function digestOf(body: ComparableBody): string {
  body.sha256 ??= createHash('sha256').update(body.bytes).digest('hex');
  return body.sha256;
}

function contentType(side: ResponseSide): string {
  for (const [n, v] of side.headers) if (n === 'content-type') return v.toLowerCase();
  return '';
}

function isFormType(type: string): boolean {
  return type.startsWith('application/x-www-form-urlencoded');
}

/** NDJSON, JSON Lines and JSON text sequences (RFC 7464), with or without `x-`, or as a `+suffix`. */
const JSON_LINES_TYPE = /[/+](?:x-)?(?:ndjson|jsonl|jsonlines|json-seq)\b/;

/** What kind of body this is, by Content-Type, else by sniffing its first bytes. */
export function bodyKind(type: string, body: ComparableBody): BodyKind {
  if (JSON_LINES_TYPE.test(type)) return 'json-lines';
  if (/[/+]json\b/.test(type)) return 'json';
  if (/\bhtml\b/.test(type)) return 'html';
  if (type.startsWith('text/event-stream')) return 'event-stream';
  if (type.startsWith('text/') || /[/+]xml\b|javascript|x-www-form-urlencoded|csv|yaml/.test(type)) return 'text';
  if (type !== '' && type !== 'application/octet-stream') return 'binary';
  const head = body.bytes.subarray(0, 64);
  const first = head.subarray(hasUtf8Bom(head) ? 3 : 0).toString('latin1').trimStart();
  if (first.startsWith('{') || first.startsWith('[')) return 'json';
  if (/^<(!doctype html|html)/i.test(first)) return 'html';
  return type === '' && isUtf8(body.bytes) ? 'text' : 'binary';
}

function hasUtf8Bom(bytes: Buffer): boolean {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

function setAsideVolatile(result: PairComparison): void {
  result.diffs = result.diffs.filter((d) => {
    if (d.kind !== 'value' || !d.path.startsWith('$')) return true;
    const cls = sharedVolatileClass(d.left, d.right);
    if (cls === undefined) return true;
    result.setAside.push({ path: d.path, cls });
    return false;
  });
}

