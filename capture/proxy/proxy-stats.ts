import type { ServerResponse } from 'node:http';
import type { RecorderStats } from './exchange-recorder.js';
import type { UpstreamErrorKind } from './upstream-errors.js';

/**
 * Counters a recording proxy keeps (reverse and forward alike), and the
 * three ways they are shown: the admin endpoint (JSON), the CLI's SIGUSR1 /
 * exit log (the same object through pino), and a text summary.
 */

export interface ProxyStats {
  /** HTTP requests received from clients (admin requests not counted). */
  requests: number;
  /** Requests whose response has not ended yet. */
  inFlight: number;
  /** Upstream failures by kind (a response cut short counts too). */
  upstreamErrors: Record<UpstreamErrorKind, number>;
  /** Clients that went away before their response ended. */
  clientAborts: number;
  /** Upgrade requests (WebSocket) seen, and tunnels open now. */
  upgrades: number;
  tunnelsOpen: number;
  /** What happened to the records: recorded, sampled out, dropped, … */
  recorder: RecorderStats;
}

export class ProxyCounters {
  requests = 0;
  inFlight = 0;
  clientAborts = 0;
  upgrades = 0;
  tunnelsOpen = 0;
  readonly upstreamErrors: Record<UpstreamErrorKind, number> = { refused: 0, reset: 0, timeout: 0, protocol: 0, other: 0 };

  snapshot(recorder: RecorderStats): ProxyStats {
    return {
      requests: this.requests,
      inFlight: this.inFlight,
      upstreamErrors: { ...this.upstreamErrors },
      clientAborts: this.clientAborts,
      upgrades: this.upgrades,
      tunnelsOpen: this.tunnelsOpen,
      recorder: { ...recorder },
    };
  }
}

/** Answer an admin request with the stats as JSON (never cached: it is a live view). */
export function writeStatsResponse(res: ServerResponse, stats: ProxyStats): void {
  const body = `${JSON.stringify(stats)}\n`;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

/**
 * The stats as aligned text lines, for the CLI's exit summary.
 *
 * @example
 * formatProxyStats(proxy.stats) // 'requests        120\nrecorded        118\n…'
 */
export function formatProxyStats(s: ProxyStats): string {
  const errors = Object.entries(s.upstreamErrors).map(([k, n]) => `${k} ${n}`).join(' · ');
  const rows: Array<[string, string | number]> = [
    ['requests', s.requests],
    ['recorded', s.recorder.recorded],
    ['sampled out', s.recorder.sampledOut],
    ['dropped', s.recorder.dropped],
    ['write errors', s.recorder.writeErrors],
    ['upstream errors', errors],
    ['client aborts', s.clientAborts],
    ['upgrades', s.upgrades],
  ];
  return rows.map(([k, v]) => `${k.padEnd(16)}${v}`).join('\n');
}
