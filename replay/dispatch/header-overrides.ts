import { RepriseError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Exchange, Header } from '../../store/exchange.js';
import type { ExchangeFilter } from '../../store/exchange-filter.js';
import { readExchanges } from '../../store/segment-reader.js';
import { resolveTemplateString } from '../../transform/templates/template-string.js';
import { REDACTED } from '../../transform/redact-headers.js';

/**
 * `--header` overrides (and a scenario's `replay.headers`) may name variables,
 * `Authorization: Bearer ${STAGING_TOKEN}`, so that a secret comes from the
 * environment or `--secrets-file` rather than the command line (shell
 * history, `ps`). An override is the same for every request, so it is filled
 * once, before the first send; a missing variable stops the run there, named
 * without its value. Correlation variables are per session and refused here.
 */
export function fillHeaderOverrides(headers: readonly Header[], vars: Readonly<Record<string, string>> | undefined, nowMs: number, flag = '--header'): Header[] {
  return headers.map(([name, value]): Header => {
    if (/\$\{#?corr\./.test(value)) {
      throw new RepriseError('REPLAY_OPTIONS_INVALID', `${flag} ${name}: correlation variables (\${corr.…}) come from each session's live responses; a header override is the same for every request`);
    }
    return [name, resolveTemplateString(value, { vars: vars ?? {}, now: nowMs }, `${flag} ${name}`)];
  });
}

// Enough of the store's start to see what most requests carry, read in milliseconds.
const SAMPLE = 1_000;

/**
 * Captures redact secret headers by default, so a replay of such a store
 * sends `Authorization: Bearer [REDACTED]` and staging answers 401 to every
 * request — a run that looks like a broken release. Before the run, the
 * first requests are looked at, and each header that carries the placeholder
 * and has no override gets one warning that says how to set a real value.
 * (A live diff would be worse off: both sides answer 401, identically.)
 */
export async function warnRedactedPlaceholders(o: { store: string; filter?: ExchangeFilter; headers?: readonly Header[] }, log: Logger, flag = '--header'): Promise<void> {
  const overridden = new Set((o.headers ?? []).map(([n]) => n.toLowerCase()));
  const found = new Map<string, { name: string; example: string; requests: number }>();
  let seen = 0;
  for await (const ex of readExchanges(o.store, o.filter ? { filter: o.filter } : {})) {
    notePlaceholders(ex, overridden, found);
    if (++seen >= SAMPLE) break;
  }
  for (const f of found.values()) {
    const suggestion = f.example.split(REDACTED).join('${STAGING_TOKEN}');
    log.warn(
      { header: f.name, requests: f.requests, of: seen },
      `${f.requests} of the first ${seen} requests carry a header ${f.name} redacted at capture (${JSON.stringify(f.example)}); the target gets the placeholder — set a real one with ${flag} '${f.name}: ${suggestion}' (filled from the environment or --secrets-file)`,
    );
  }
}

function notePlaceholders(ex: Exchange, overridden: ReadonlySet<string>, found: Map<string, { name: string; example: string; requests: number }>): void {
  const counted = new Set<string>();
  for (const [name, value] of ex.request.headers) {
    if (value.indexOf(REDACTED) === -1) continue;
    const lower = name.toLowerCase();
    if (overridden.has(lower) || counted.has(lower)) continue;
    counted.add(lower);
    const f = found.get(lower);
    if (f) f.requests++;
    else found.set(lower, { name, example: value.length > 60 ? `${value.slice(0, 60)}…` : value, requests: 1 });
  }
}
