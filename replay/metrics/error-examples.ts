import type { ErrorKind, RequestResult } from '../replay-result.js';

/**
 * The metrics count errors by kind only; "other 3" alone does not say why.
 * One message per kind — the first seen — says it (a template with no value,
 * ECONNREFUSED, the correlation provider that answered 500). The examples
 * travel with the run's summary, so shards (worker processes, or summary.json
 * files merged later) keep them too.
 */
export type ErrorExamples = Partial<Record<ErrorKind, string>>;

/** Messages are one line and short; this bounds what a summary.json may carry per kind. */
export const MAX_EXAMPLE_CHARS = 1_000;

/** Keeps `r`'s message if it is the first of its kind. */
export function noteErrorExample(examples: ErrorExamples, r: RequestResult): void {
  if (r.error && examples[r.error.kind] === undefined) examples[r.error.kind] = r.error.message.slice(0, MAX_EXAMPLE_CHARS);
}

/**
 * The first message of each kind across shards, in shard order (shards have no common order of
 * results, so "first" is the first shard's that saw the kind).
 *
 * @example
 * mergeErrorExamples([{ refused: 'connect ECONNREFUSED …' }, { other: 'correlation: …', refused: '…' }])
 */
export function mergeErrorExamples(parts: ReadonlyArray<Readonly<Partial<Record<string, string>>> | undefined>): Partial<Record<string, string>> {
  const out: Partial<Record<string, string>> = {};
  for (const part of parts) for (const [kind, message] of Object.entries(part ?? {})) if (out[kind] === undefined && message !== undefined) out[kind] = message;
  return out;
}
