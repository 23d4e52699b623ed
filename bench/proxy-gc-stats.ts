// Minor-GC (scavenge) pauses of a proxy process in the proxy bench, counted
// with a perf_hooks GC observer and read out per measured run over the
// worker's stdin/stdout protocol (a `gc` line in, one JSON line out). They
// are the cause of the proxy's p99 at a fixed rate: each scavenge stops the
// event loop, and at 1k req/s a 10 ms pause delays ~10 requests.
import { constants, monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

export interface MinorGcStats {
  count: number;
  /** Sum and longest of the pauses, ms. */
  totalMs: number;
  maxMs: number;
  /** Full (mark-compact) GCs in the same time, and the longest, ms: the other kind of pause. */
  majorCount: number;
  majorMaxMs: number;
  /** Longest event-loop stall seen (monitorEventLoopDelay, 1 ms resolution), ms: every cause, GC or not. */
  loopDelayMaxMs: number;
}

const fresh = (): MinorGcStats => ({ count: 0, totalMs: 0, maxMs: 0, majorCount: 0, majorMaxMs: 0, loopDelayMaxMs: 0 });

/**
 * Count scavenges from now on; on each `gc` line on stdin, print
 * `{"gc": MinorGcStats}` for the time since the last one and start over.
 * `onEnd` runs when stdin closes (the worker's shutdown signal).
 */
export function serveMinorGcStats(onEnd: () => void): void {
  let stats = fresh();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as Array<PerformanceEntry & { detail?: { kind?: number } }>) {
      if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        stats.majorCount++;
        stats.majorMaxMs = Math.max(stats.majorMaxMs, entry.duration);
      }
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
    stats.loopDelayMaxMs = loop.max / 1e6;
    process.stdout.write(`${JSON.stringify({ gc: stats })}\n`);
    stats = fresh();
    loop.reset();
  });
  lines.on('close', () => {
    observer.disconnect();
    loop.disable();
    onEnd();
  });
}
