import { endpointKey } from './endpoint-template.js';
import type { Exchange } from './exchange.js';
import { storedBodyBytes } from './body.js';

/**
 * Counts kept per segment in the manifest so `store inspect` answers "how
 * many, what time range, which endpoints" without decompressing anything.
 * Maps are capped so a store of random paths cannot bloat the manifest.
 */
export interface StoreStatsJson {
  count: number;
  firstStart: number | null;
  lastStart: number | null;
  /** Bytes of stored request + response bodies (decoded). */
  bodyBytes: number;
  noResponse: number;
  incomplete: number;
  truncatedBodies: number;
  methods: Record<string, number>;
  statuses: Record<string, number>;
  hosts: Record<string, number>;
  endpoints: Record<string, number>;
}

const MAX_KEYS = 2_000;
const OTHER = '(other)';

export class StoreStats {
  count = 0;
  firstStart: number | null = null;
  lastStart: number | null = null;
  bodyBytes = 0;
  noResponse = 0;
  incomplete = 0;
  truncatedBodies = 0;
  methods = new Map<string, number>();
  statuses = new Map<string, number>();
  hosts = new Map<string, number>();
  endpoints = new Map<string, number>();

  add(ex: Exchange): void {
    this.count++;
    if (this.firstStart === null || ex.start < this.firstStart) this.firstStart = ex.start;
    if (this.lastStart === null || ex.start > this.lastStart) this.lastStart = ex.start;
    const req = ex.request;
    const res = ex.response;
    this.bodyBytes += storedBodyBytes(req.body) + storedBodyBytes(res?.body);
    if (!res) this.noResponse++;
    if (ex.incomplete !== undefined) this.incomplete++;
    if (req.body?.truncated || res?.body?.truncated) this.truncatedBodies++;
    bump(this.methods, req.method, 1);
    bump(this.statuses, res ? String(res.status) : 'none', 1);
    bump(this.hosts, req.authority, 1);
    bump(this.endpoints, endpointKey(req.method, req.path), 1);
  }

  merge(other: StoreStatsJson): void {
    this.count += other.count;
    if (other.firstStart !== null && (this.firstStart === null || other.firstStart < this.firstStart)) this.firstStart = other.firstStart;
    if (other.lastStart !== null && (this.lastStart === null || other.lastStart > this.lastStart)) this.lastStart = other.lastStart;
    this.bodyBytes += other.bodyBytes;
    this.noResponse += other.noResponse;
    this.incomplete += other.incomplete;
    this.truncatedBodies += other.truncatedBodies;
    for (const [k, v] of Object.entries(other.methods)) bump(this.methods, k, v);
    for (const [k, v] of Object.entries(other.statuses)) bump(this.statuses, k, v);
    for (const [k, v] of Object.entries(other.hosts)) bump(this.hosts, k, v);
    for (const [k, v] of Object.entries(other.endpoints)) bump(this.endpoints, k, v);
  }

  toJSON(): StoreStatsJson {
    return {
      count: this.count,
      firstStart: this.firstStart,
      lastStart: this.lastStart,
      bodyBytes: this.bodyBytes,
      noResponse: this.noResponse,
      incomplete: this.incomplete,
      truncatedBodies: this.truncatedBodies,
      methods: Object.fromEntries(this.methods),
      statuses: Object.fromEntries(this.statuses),
      hosts: Object.fromEntries(this.hosts),
      endpoints: Object.fromEntries(this.endpoints),
    };
  }
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const cur = map.get(key);
  if (cur !== undefined) map.set(key, cur + by);
  else if (map.size < MAX_KEYS) map.set(key, by);
  else map.set(OTHER, (map.get(OTHER) ?? 0) + by);
}
