import { stat } from 'node:fs/promises';
import { RepriseError } from '../errors.js';
import { listSegments, newReadReport, readExchanges } from './segment-reader.js';
import { StoreStats, type StoreStatsJson } from './store-stats.js';
import type { S3Access } from './s3/s3-client.js';

/**
 * "What is in this store?" — counts, time range, endpoints, status mix and
 * bytes. Sealed segments are answered from the manifest without reading
 * them (a sealed segment whose size on disk is not the sealed size is
 * STORE_CORRUPT); only segments a killed writer left unsealed are scanned. Works the
 * same on `s3://bucket/prefix` stores (sizes come from the object listing).
 */
export interface StoreSummary {
  path: string;
  segments: number;
  unsealedSegments: number;
  exchanges: number;
  firstStart: number | null;
  lastStart: number | null;
  /** Compressed bytes on disk (or in S3). */
  diskBytes: number;
  bodyBytes: number;
  noResponse: number;
  incomplete: number;
  truncatedBodies: number;
  tornTails: number;
  methods: Record<string, number>;
  /** By class: 2xx, 3xx, 4xx, 5xx, none. */
  statusClasses: Record<string, number>;
  statuses: Record<string, number>;
  hosts: Record<string, number>;
  /** Endpoint templates, most requested first. */
  topEndpoints: Array<{ endpoint: string; count: number }>;
}

/**
 * @example
 * const s = await inspectStore('./store');
 * console.log(s.exchanges, s.topEndpoints[0]);
 */
export async function inspectStore(path: string, options: { top?: number; s3?: S3Access } = {}): Promise<StoreSummary> {
  const segments = await listSegments(path, options.s3);
  const totals = new StoreStats();
  let diskBytes = 0;
  let unsealed = 0;
  let tornTails = 0;
  for (const seg of segments) {
    const size = seg.bytes ?? (await stat(seg.path)).size;
    diskBytes += size;
    if (seg.entry) {
      // Answering from the manifest must not vouch for a segment that can no longer be read: a
      // sealed segment never changes size, so any other size means it was truncated or replaced.
      if (size !== seg.entry.bytes) {
        throw new RepriseError('STORE_CORRUPT', `sealed segment is ${size} bytes, but the manifest sealed it at ${seg.entry.bytes} (truncated or replaced); \`store cat --skip-corrupt\` reads what is left`, { location: { file: seg.path } });
      }
      totals.merge(seg.entry.stats);
      continue;
    }
    unsealed++;
    const report = newReadReport();
    const scanned = new StoreStats();
    // The reader's default: a torn tail (what a killed writer leaves) is counted, anything else
    // is corruption and fails as it does for `store cat`, instead of an inspect that vouches for it.
    for await (const ex of readExchanges(seg.path, { report, ...(options.s3 && { s3: options.s3 }) })) scanned.add(ex);
    tornTails += report.tornTails;
    totals.merge(scanned.toJSON());
  }
  const t: StoreStatsJson = totals.toJSON();
  return {
    path,
    segments: segments.length,
    unsealedSegments: unsealed,
    exchanges: t.count,
    firstStart: t.firstStart,
    lastStart: t.lastStart,
    diskBytes,
    bodyBytes: t.bodyBytes,
    noResponse: t.noResponse,
    incomplete: t.incomplete,
    truncatedBodies: t.truncatedBodies,
    tornTails,
    methods: t.methods,
    statusClasses: classify(t.statuses),
    statuses: t.statuses,
    hosts: t.hosts,
    topEndpoints: Object.entries(t.endpoints)
      .map(([endpoint, count]) => ({ endpoint, count }))
      .sort((a, b) => b.count - a.count || a.endpoint.localeCompare(b.endpoint))
      .slice(0, options.top ?? 10),
  };
}

function classify(statuses: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [s, n] of Object.entries(statuses)) {
    const k = s === 'none' ? 'none' : `${s[0]}xx`;
    out[k] = (out[k] ?? 0) + n;
  }
  return out;
}

/** The summary as the terminal shows it. */
export function formatStoreSummary(s: StoreSummary): string {
  const span = s.firstStart !== null && s.lastStart !== null ? (s.lastStart - s.firstStart) / 1e6 : 0;
  const lines = [
    `store      ${s.path}`,
    `segments   ${s.segments}${s.unsealedSegments ? ` (${s.unsealedSegments} unsealed: a writer did not close; ${s.tornTails} torn record(s) skipped)` : ''}`,
    `exchanges  ${s.exchanges}`,
    `time       ${s.firstStart === null ? '—' : `${iso(s.firstStart)} → ${iso(s.lastStart!)} (${formatDuration(span)})`}`,
    `bytes      ${formatBytes(s.diskBytes)} on disk, ${formatBytes(s.bodyBytes)} of bodies`,
    `methods    ${mix(s.methods)}`,
    `status     ${mix(s.statusClasses)}${s.noResponse ? `  (${s.noResponse} without response)` : ''}`,
    `hosts      ${mix(s.hosts)}`,
  ];
  if (s.incomplete || s.truncatedBodies) lines.push(`flags      ${s.incomplete} incomplete, ${s.truncatedBodies} with truncated bodies`);
  if (s.topEndpoints.length > 0) {
    lines.push('top endpoints');
    const width = Math.max(...s.topEndpoints.map((e) => String(e.count).length));
    for (const e of s.topEndpoints) lines.push(`  ${String(e.count).padStart(width)}  ${e.endpoint}`);
  }
  return lines.join('\n');
}

function mix(m: Record<string, number>): string {
  const entries = Object.entries(m).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return '—';
  const shown = entries.slice(0, 6).map(([k, v]) => `${k} ${v}`);
  if (entries.length > 6) shown.push(`+${entries.length - 6} more`);
  return shown.join(', ');
}

function iso(us: number): string {
  return new Date(us / 1000).toISOString();
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
