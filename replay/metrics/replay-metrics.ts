/**
 * Live measurement of a replay. The engine calls `record()` once per
 * RequestResult as results arrive; everything is O(1) per result (a few
 * HdrHistogram increments), with memory bounded by the number of endpoint
 * groups and time buckets — never by the number of requests.
 *
 * `snapshot()` gives a plain JSON-able summary that still carries the encoded
 * histograms, so shards' snapshots merge exactly (`mergeSnapshots`).
 */
import { RepriseError } from '../../errors.js';
import type { RequestResult } from '../replay-result.js';
import { GroupStats, type GroupSnapshot } from './group-stats.js';
import { TimeSeries, type SeriesSnapshot } from './time-series.js';

export interface ReplayMetricsOptions {
  /**
   * Endpoint templates tracked separately; later ones go to '(other)'. Each
   * group holds three histograms, so this is the memory bound when a template
   * collapser misses an id and every URL looks new. Default 200.
   */
  maxEndpoints?: number;
  /** A send more than this after its intended time counts as late (µs). Default 1000 (1 ms). */
  lateThresholdUs?: number;
  /** Time buckets kept before the series halves its resolution. Default 3600. */
  maxSeriesBuckets?: number;
}

export const OTHER_ENDPOINT = '(other)';

export interface MetricsSnapshot {
  version: 1;
  options: Required<ReplayMetricsOptions>;
  /** Earliest intended send and latest completion seen (µs since run start); 0 when empty. */
  firstIntendedUs: number;
  lastIntendedUs: number;
  firstSentUs: number;
  lastSentUs: number;
  lastDoneUs: number;
  /** The plan's rate as seen in the results: (requests − 1) / intended span, per second. */
  plannedRate: number;
  /** Achieved send rate: (sent − 1) / actual send span, per second. */
  achievedRate: number;
  overall: GroupSnapshot;
  endpoints: Record<string, GroupSnapshot>;
  series: SeriesSnapshot;
}

/** What the live progress line needs, cheap enough to call several times a second. */
export interface LiveStats {
  requests: number;
  sent: number;
  completed: number;
  errors: number;
  dropped: number;
  late: number;
  /** Corrected latency p99 so far (µs). */
  p99Us: number;
  lastDoneUs: number;
  /**
   * Sends in the last complete series bucket, per second — counted from
   * results, so a send still waiting for its answer is not in it yet.
   */
  recentRate: number;
  /**
   * Requests sent and not yet answered. Metrics only see finished results, so
   * this is filled by the engine: `() => ({ ...metrics.live(), inFlight })`.
   */
  inFlight?: number;
}

/** (n − 1) events over their span: n evenly spaced sends at rate r span (n − 1)/r. */
function rateOver(n: number, firstUs: number, lastUs: number): number {
  return n >= 2 && lastUs > firstUs ? ((n - 1) * 1_000_000) / (lastUs - firstUs) : 0;
}

export class ReplayMetrics {
  readonly options: Required<ReplayMetricsOptions>;
  readonly overall = new GroupStats();
  private readonly endpoints = new Map<string, GroupStats>();
  private readonly series: TimeSeries;
  private firstIntendedUs = Infinity;
  private lastIntendedUs = -Infinity;
  private firstSentUs = Infinity;
  private lastSentUs = -Infinity;
  private lastDoneUs = 0;

  constructor(options: ReplayMetricsOptions = {}) {
    this.options = {
      maxEndpoints: options.maxEndpoints ?? 200,
      lateThresholdUs: options.lateThresholdUs ?? 1000,
      maxSeriesBuckets: options.maxSeriesBuckets ?? 3600,
    };
    this.series = new TimeSeries(this.options.maxSeriesBuckets);
  }

  /** Feed one result; call it from the dispatcher's completion callback. */
  record(r: RequestResult): void {
    this.overall.record(r, this.options.lateThresholdUs);
    this.groupFor(r.endpoint).record(r, this.options.lateThresholdUs);
    this.series.record(r);
    if (r.intendedUs < this.firstIntendedUs) this.firstIntendedUs = r.intendedUs;
    if (r.intendedUs > this.lastIntendedUs) this.lastIntendedUs = r.intendedUs;
    if (r.sentUs !== null) {
      if (r.sentUs < this.firstSentUs) this.firstSentUs = r.sentUs;
      if (r.sentUs > this.lastSentUs) this.lastSentUs = r.sentUs;
    }
    if (r.doneUs > this.lastDoneUs) this.lastDoneUs = r.doneUs;
  }

  private groupFor(endpoint: string): GroupStats {
    let g = this.endpoints.get(endpoint);
    if (g) return g;
    // The '(other)' slot is one of the maxEndpoints, so the bound is exact.
    const key = this.endpoints.size < this.options.maxEndpoints - 1 ? endpoint : OTHER_ENDPOINT;
    g = this.endpoints.get(key);
    if (!g) {
      g = new GroupStats();
      this.endpoints.set(key, g);
    }
    return g;
  }

  /**
   * @param nowUs the run clock now (µs since start), so the rate reflects the
   *   last complete second even while no response arrives (a stalled target);
   *   defaults to the latest completion seen.
   */
  live(nowUs: number = this.lastDoneUs): LiveStats {
    const o = this.overall;
    return {
      requests: o.requests,
      sent: o.sent,
      completed: o.completed,
      errors: o.errors,
      dropped: o.dropped,
      late: o.late,
      p99Us: o.latency.valueAtPercentile(99),
      lastDoneUs: this.lastDoneUs,
      recentRate: this.series.sentPerSecondBefore(Math.max(nowUs, this.lastDoneUs)),
    };
  }

  snapshot(): MetricsSnapshot {
    const endpoints: Record<string, GroupSnapshot> = {};
    for (const [k, g] of [...this.endpoints].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) endpoints[k] = g.toSnapshot();
    const empty = this.overall.requests === 0;
    const sentAny = this.overall.sent > 0;
    return {
      version: 1,
      options: { ...this.options },
      firstIntendedUs: empty ? 0 : this.firstIntendedUs,
      lastIntendedUs: empty ? 0 : this.lastIntendedUs,
      firstSentUs: sentAny ? this.firstSentUs : 0,
      lastSentUs: sentAny ? this.lastSentUs : 0,
      lastDoneUs: this.lastDoneUs,
      plannedRate: rateOver(this.overall.requests, this.firstIntendedUs, this.lastIntendedUs),
      achievedRate: rateOver(this.overall.sent, this.firstSentUs, this.lastSentUs),
      overall: this.overall.toSnapshot(),
      endpoints,
      series: this.series.toSnapshot(),
    };
  }

  /** Rebuilds live metrics from a snapshot (e.g. a shard's summary.json), ready to merge or record into. */
  static fromSnapshot(s: MetricsSnapshot): ReplayMetrics {
    const m = new ReplayMetrics(s.options);
    m.overall.add(GroupStats.fromSnapshot(s.overall));
    for (const [k, g] of Object.entries(s.endpoints)) m.endpoints.set(k, GroupStats.fromSnapshot(g));
    m.series.add(TimeSeries.fromSnapshot(s.series));
    if (s.overall.requests > 0) {
      m.firstIntendedUs = s.firstIntendedUs;
      m.lastIntendedUs = s.lastIntendedUs;
    }
    if (s.overall.sent > 0) {
      m.firstSentUs = s.firstSentUs;
      m.lastSentUs = s.lastSentUs;
    }
    m.lastDoneUs = s.lastDoneUs;
    return m;
  }

  /** Adds `other` into this instance (exact for counts and histograms). */
  add(other: ReplayMetrics): this {
    this.overall.add(other.overall);
    for (const [k, g] of other.endpoints) {
      const existing = this.endpoints.get(k);
      if (existing) existing.add(g);
      else this.groupFor(k).add(g);
    }
    this.series.add(other.series);
    this.firstIntendedUs = Math.min(this.firstIntendedUs, other.firstIntendedUs);
    this.lastIntendedUs = Math.max(this.lastIntendedUs, other.lastIntendedUs);
    this.firstSentUs = Math.min(this.firstSentUs, other.firstSentUs);
    this.lastSentUs = Math.max(this.lastSentUs, other.lastSentUs);
    this.lastDoneUs = Math.max(this.lastDoneUs, other.lastDoneUs);
    return this;
  }

  /**
   * A new ReplayMetrics holding both. Percentiles of the merge equal those of
   * one instance fed the union of the results (same options on both sides).
   *
   * @example
   * const all = ReplayMetrics.merge(shardA, shardB).snapshot();
   */
  static merge(a: ReplayMetrics, b: ReplayMetrics): ReplayMetrics {
    return new ReplayMetrics(a.options).add(a).add(b);
  }
}

/**
 * Merges shard snapshots into one, exactly.
 *
 * @example
 * const total = mergeSnapshots([JSON.parse(a).metrics, JSON.parse(b).metrics]);
 */
export function mergeSnapshots(snapshots: readonly MetricsSnapshot[]): MetricsSnapshot {
  const first = snapshots[0];
  if (!first) return new ReplayMetrics().snapshot();
  // Late counts depend on the threshold and series layout on the bucket bound:
  // shards measured differently cannot add up to one honest report.
  snapshots.forEach((s, i) => {
    for (const key of ['lateThresholdUs', 'maxSeriesBuckets', 'maxEndpoints'] as const) {
      if (s.options[key] !== first.options[key]) {
        throw new RepriseError(
          'REPLAY_OPTIONS_INVALID',
          `cannot merge metrics: snapshot ${i + 1} has ${key}=${s.options[key]}, snapshot 1 has ${first.options[key]}`,
        );
      }
    }
  });
  const m = ReplayMetrics.fromSnapshot(first);
  for (const s of snapshots.slice(1)) m.add(ReplayMetrics.fromSnapshot(s));
  return m.snapshot();
}
