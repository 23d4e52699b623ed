import { parseTimeBound, type ExchangeFilter } from '../store/exchange-filter.js';
import type { OptionSpec, ParsedArgs } from './command.js';

/** The record filters every store-reading command accepts. */
export const FILTER_OPTIONS: Record<string, OptionSpec> = {
  from: { type: 'string', hint: 'time', description: 'only exchanges starting at or after (ISO 8601, epoch ms or µs)' },
  to: { type: 'string', hint: 'time', description: 'only exchanges starting before' },
  method: { type: 'string', multiple: true, hint: 'METHOD', description: 'only this method' },
  host: { type: 'string', multiple: true, hint: 'glob', description: 'only hosts matching (e.g. *.example.com)' },
  path: { type: 'string', multiple: true, hint: 'glob', description: 'only paths matching (* within a segment, ** across)' },
  status: { type: 'string', multiple: true, hint: 'spec', description: 'only statuses: 200, 5xx, 400-499, none' },
};

export function filterFromArgs(parsed: ParsedArgs): ExchangeFilter {
  const v = parsed.values;
  const list = (k: string): string[] | undefined => {
    const x = v[k];
    if (x === undefined) return undefined;
    // `--method GET,POST` and repeated flags both work.
    return (Array.isArray(x) ? x : [String(x)]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  };
  const filter: ExchangeFilter = {};
  if (typeof v.from === 'string') filter.from = parseTimeBound(v.from, '--from');
  if (typeof v.to === 'string') filter.to = parseTimeBound(v.to, '--to');
  const methods = list('method');
  const hosts = list('host');
  const paths = list('path');
  const statuses = list('status');
  if (methods) filter.methods = methods;
  if (hosts) filter.hosts = hosts;
  if (paths) filter.paths = paths;
  if (statuses) filter.statuses = statuses;
  return filter;
}
