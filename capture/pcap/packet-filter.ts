/**
 * The capture-side filters: which segments are worth handing to the
 * reassembler. Applied as early as each can be — the time window on the raw
 * record, before any decoding; hosts and ports on the decoded segment (the
 * inner one, for VXLAN) — and each rejection is counted ('outside-time-window',
 * 'filtered'). Options are validated once, here, with every problem reported
 * together.
 */
import { RepriseError } from '../../errors.js';
import { normalizeIp } from './ip-address.js';
import type { TcpSegment } from './tcp-segment.js';

export interface SegmentFilterOptions {
  /** Keep a segment if either of its ports is listed. */
  ports?: readonly number[];
  /** Keep a segment if either of its addresses is listed (IPv4 or IPv6 literals). */
  hosts?: readonly string[];
  /** Keep packets captured at or after this time (µs since the epoch). */
  from?: number;
  /** Keep packets captured before this time (µs since the epoch; exclusive). */
  to?: number;
}

export interface SegmentFilter {
  inTimeWindow(ts: number): boolean;
  /** Host and port conditions; both must hold when both are given. */
  matches(segment: TcpSegment): boolean;
}

/**
 * Checks the options and returns the filter they describe.
 *
 * @example
 * const filter = compileSegmentFilter({ ports: [80, 8080], hosts: ['10.0.0.5'] });
 * filter.matches(segment);
 */
export function compileSegmentFilter(options: SegmentFilterOptions): SegmentFilter {
  const problems: string[] = [];
  const ports = options.ports ? new Set(options.ports) : undefined;
  for (const port of options.ports ?? []) {
    if (!Number.isInteger(port) || port < 0 || port > 65_535) problems.push(`ports: ${String(port)} is not a port number (0–65535)`);
  }
  let hosts: Set<string> | undefined;
  if (options.hosts) {
    hosts = new Set();
    for (const host of options.hosts) {
      const ip = normalizeIp(host);
      if (ip === undefined) problems.push(`hosts: ${JSON.stringify(host)} is not an IPv4 or IPv6 address`);
      else hosts.add(ip);
    }
  }
  const { from, to } = options;
  for (const [name, value] of [['from', from], ['to', to]] as const) {
    if (value !== undefined && !Number.isFinite(value)) problems.push(`${name}: must be a time in µs since the epoch`);
  }
  if (from !== undefined && to !== undefined && from > to) problems.push(`from (${from}) is after to (${to})`);
  if (problems.length > 0) throw new RepriseError('FILTER_INVALID', `invalid capture filter: ${problems.join('; ')}`);

  return {
    inTimeWindow: (ts) => (from === undefined || ts >= from) && (to === undefined || ts < to),
    matches: (s) =>
      (ports === undefined || ports.has(s.srcPort) || ports.has(s.dstPort)) &&
      (hosts === undefined || hosts.has(s.srcIp) || hosts.has(s.dstIp)),
  };
}
