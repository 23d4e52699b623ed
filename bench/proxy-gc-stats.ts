// Minor-GC (scavenge) pauses of a proxy process in the proxy bench, counted
// with a perf_hooks GC observer and read out per measured run over the
// worker's stdin/stdout protocol (a `gc` line in, one JSON line out). They
// are the cause of the proxy's p99 at a fixed rate: each scavenge stops the
// event loop, and at 1k req/s a 10 ms pause delays ~10 requests.
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

export interface MinorGcStats {
  count: number;
  /** Sum and longest of the pauses, ms. */
  totalMs: number;
  maxMs: number;
}

/**
 * Count scavenges from now on; on each `gc` line on stdin, print
 * `{"gc": MinorGcStats}` for the time since the last one and start over.
 * `onEnd` runs when stdin closes (the worker's shutdown signal).
 */
export function serveMinorGcStats(onEnd: () => void): void {
  let stats: MinorGcStats = { count: 0, totalMs: 0, maxMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as Array<PerformanceEntry & { detail?: { kind?: number } }>) {
      if (entry.detail?.kind !== constants.NODE_PERFORMANCE_GC_MINOR) continue;
      stats.count++;
      stats.totalMs += entry.duration;
      stats.maxMs = Math.max(stats.maxMs, entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() !== 'gc') return;
    process.stdout.write(`${JSON.stringify({ gc: stats })}\n`);
    stats = { count: 0, totalMs: 0, maxMs: 0 };
  });
  lines.on('close', () => {
    observer.disconnect();
    onEnd();
  });
}
