/**
 * The live view of a running replay. On a terminal: one line redrawn several
 * times a second (a bar when the planned total is known, rate, in flight,
 * errors, p99). Elsewhere (CI logs, files): one plain line every few seconds,
 * because a log full of carriage returns is unreadable and a silent job looks
 * hung.
 */
import type { Writable } from 'node:stream';
import type { Logger } from '../../log.js';
import { formatCount, formatMicros, formatRate } from '../metrics/format-values.js';
import type { LiveStats } from '../metrics/replay-metrics.js';

export interface ProgressOptions {
  /** Redraw interval on a terminal, ms. Default 200 (5 per second). */
  ttyIntervalMs?: number;
  /** Line interval when not a terminal, ms. Default 5000. */
  logIntervalMs?: number;
  /** Force terminal or log mode; by default `stream.isTTY` decides. */
  tty?: boolean;
  /**
   * When not a terminal, log each line through pino (structured fields a log
   * shipper can graph) instead of writing plain text to the stream.
   */
  log?: Logger;
  /**
   * How long the run lasts (--duration, --max): with no planned total, the bar shows the time gone
   * instead, so a looped or time-limited run still says how far along it is.
   */
  durationMs?: number;
}

const BAR_WIDTH = 24;

function bar(done: number): string {
  const filled = Math.round(done * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${(done * 100).toFixed(0).padStart(3)}%`;
}

/**
 * One progress line, without terminal control characters. The bar counts requests of the planned
 * total, or else (`time`) seconds of the run's duration.
 */
export function formatProgressLine(l: LiveStats, plannedTotal?: number, time?: { elapsedMs: number; durationMs: number }): string {
  const parts: string[] = [];
  if (plannedTotal !== undefined && plannedTotal > 0) {
    parts.push(bar(Math.min(1, l.requests / plannedTotal)));
    parts.push(`${formatCount(l.requests)}/${formatCount(plannedTotal)}`);
  } else if (time && time.durationMs > 0) {
    const elapsedMs = Math.min(time.elapsedMs, time.durationMs);
    parts.push(bar(elapsedMs / time.durationMs));
    parts.push(`${Math.floor(elapsedMs / 1000)}s/${Math.round(time.durationMs / 1000)}s`);
    parts.push(`${formatCount(l.requests)} requests`);
  } else {
    parts.push(`${formatCount(l.requests)} requests`);
  }
  parts.push(`rate ${formatRate(l.recentRate)}`);
  if (l.inFlight !== undefined) parts.push(`in flight ${formatCount(l.inFlight)}`);
  parts.push(`errors ${formatCount(l.errors)}`);
  if (l.dropped > 0) parts.push(`dropped ${formatCount(l.dropped)}`);
  if (l.late > 0) parts.push(`late ${formatCount(l.late)}`);
  parts.push(`p99 ${l.completed + l.errors > 0 ? formatMicros(l.p99Us) : '-'}`);
  return parts.join('  ');
}

/**
 * Starts the live view; `stop()` draws the last state and ends the line.
 * The timer is unref'd: progress never keeps a finished process alive.
 *
 * @example
 * const progress = startProgress(process.stderr, () => ({ ...metrics.live(), inFlight: dispatcher.inFlight }), plan.sends);
 * await run;
 * progress.stop();
 */
export function startProgress(
  stream: Writable & { isTTY?: boolean; columns?: number },
  live: () => LiveStats,
  plannedTotal?: number,
  options: ProgressOptions = {},
): { stop(): void } {
  const tty = options.tty ?? Boolean(stream.isTTY);
  const interval = tty ? (options.ttyIntervalMs ?? 200) : (options.logIntervalMs ?? 5000);
  let stopped = false;
  let drawn = 0;
  const startedAt = performance.now();

  const draw = (): void => {
    drawn++;
    const l = live();
    const line = formatProgressLine(l, plannedTotal, options.durationMs === undefined ? undefined : { elapsedMs: performance.now() - startedAt, durationMs: options.durationMs });
    if (tty) {
      // Clip to the terminal width so the line never wraps (a wrapped line cannot be redrawn with \r).
      const cols = stream.columns && stream.columns > 10 ? stream.columns - 1 : line.length;
      stream.write(`\r${line.slice(0, cols)}\x1b[K`);
    } else if (options.log) {
      options.log.info(
        { requests: l.requests, plannedTotal, rate: l.recentRate, inFlight: l.inFlight, errors: l.errors, dropped: l.dropped, late: l.late, p99Us: l.p99Us },
        `progress: ${line}`,
      );
    } else {
      stream.write(`progress: ${line}\n`);
    }
  };

  const timer = setInterval(draw, interval);
  timer.unref();
  if (tty) draw();
  return {
    stop(): void {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      // A run that failed before its first request (no such store, a refused target) leaves no
      // "0 requests" line in a log above its error.
      if (!tty && drawn === 0 && live().requests === 0) return;
      draw();
      if (tty) stream.write('\n');
    },
  };
}
