import type { Difference } from './diff-types.js';
import type { DiffRules } from './diff-rules.js';
import { compareJson, parseJsonForDiff } from './json-compare.js';
import { maskVolatileText } from './volatile-values.js';

/**
 * Server-Sent Events bodies (`text/event-stream`) as the events a client
 * receives, compared as the elements of an array `$` like NDJSON records:
 * `$[n].event`, `$[n].data` (parsed when it is JSON, so `$[n].data.status`
 * is one field and `--ignore '$[*].data.ts'` reaches a clock inside it),
 * `$[n].id`, `$[n].retry`. Lines are read as the WHATWG parser reads them:
 * CRLF, LF or CR ends a line; a blank line ends an event; `:` starts a
 * comment (keep-alives, never content); one space after `field:` is not part
 * of the value; several `data:` lines join with `\n`. The body is whole and
 * under the diff's body cap here (a longer one was compared by size and
 * sha256), so the work is one pass over at most that many bytes.
 */

/** One event as compared. Fields the server did not send are absent, so a dropped `id:` is a `missing` finding. */
export interface StreamEvent {
  /** The type a client dispatches it as: the `event:` field, `message` when a block with data names none. */
  event?: string;
  /** The `data:` lines joined; parsed when they are JSON (a JSON string stays as written, so `"ok"` and `ok` differ). */
  data?: unknown;
  id?: string;
  /** Reconnection delay in ms; a `retry:` that is not all digits is ignored by clients, and here. */
  retry?: number;
}

/**
 * The differences between two event streams, `$[n]…` paths. Data that is text, not JSON, is one
 * value per event, so as in a text body the clocks, UUIDs and epochs inside it are masked before
 * it is compared (else `data: tick at 09:00:01` would differ on every pair); `clocksOnly` lists the
 * events whose text data differed only there.
 *
 * @example
 * compareEventStreams('data: {"a":1}\n\n', 'data: {"a":2}\n\n', compileDiffRules()).diffs // [{ path: '$[0].data.a', kind: 'value', left: 1, right: 2 }]
 */
export function compareEventStreams(left: string, right: string, rules: DiffRules): { diffs: Difference[]; clocksOnly: string[] } {
  const diffs: Difference[] = [];
  const clocksOnly: string[] = [];
  for (const d of compareJson(readEventStream(left, rules), readEventStream(right, rules), rules)) {
    const text = d.kind === 'value' && typeof d.left === 'string' && typeof d.right === 'string' && /^\$\[[^\]]+\]\.data$/.test(d.path);
    if (text && maskVolatileText(d.left as string).text === maskVolatileText(d.right as string).text) clocksOnly.push(d.path);
    else diffs.push(d);
  }
  return { diffs, clocksOnly };
}

/**
 * Every block with at least one field (event, data, id, retry) is an element, in order. A last
 * event the server did not end with a blank line is kept too: its content is still compared.
 *
 * @example
 * readEventStream('event: tick\ndata: {"n":1}\n\n: keep-alive\n\ndata: done\n\n', compileDiffRules())
 * // [{ event: 'tick', data: { n: 1 } }, { event: 'message', data: 'done' }]
 */
export function readEventStream(text: string, rules: DiffRules): StreamEvent[] {
  const events: StreamEvent[] = [];
  let current: { event?: string; data?: string[]; id?: string; retry?: number } = {};
  let fields = 0;
  const dispatch = () => {
    if (fields > 0) events.push(toEvent(current, rules));
    current = {};
    fields = 0;
  };
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      dispatch();
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    const raw = colon === -1 ? '' : line.slice(colon + 1);
    const value = raw.startsWith(' ') ? raw.slice(1) : raw;
    if (name === 'data') (current.data ??= []).push(value);
    else if (name === 'event') current.event = value;
    else if (name === 'id' && !value.includes('\u0000')) current.id = value;
    else if (name === 'retry' && /^\d+$/.test(value)) current.retry = Number(value);
    else continue; // a field clients ignore is no content
    fields++;
  }
  dispatch();
  return events;
}

function toEvent(block: { event?: string; data?: string[]; id?: string; retry?: number }, rules: DiffRules): StreamEvent {
  const out: StreamEvent = {};
  if (block.event !== undefined && block.event !== '') out.event = block.event;
  else if (block.data) out.event = 'message';
  if (block.data) out.data = dataValue(block.data.join('\n'), rules);
  if (block.id !== undefined) out.id = block.id;
  if (block.retry !== undefined) out.retry = block.retry;
  return out;
}

/** JSON objects, arrays, numbers, booleans and null as parsed; anything else, JSON strings included, as its text. */
function dataValue(text: string, rules: DiffRules): unknown {
  const first = text.trimStart()[0];
  if (first === undefined || first === '"' || !/[[{\-\dtfn]/.test(first)) return text;
  try {
    return parseJsonForDiff(text, rules.strictNumberText);
  } catch {
    return text;
  }
}
