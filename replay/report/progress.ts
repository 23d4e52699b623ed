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
}

const BAR_WIDTH = 24;

/** One progress line, without terminal control characters. */
export function formatProgressLine(l: LiveStats, plannedTotal?: number): string {
  const parts: string[] = [];
  if (plannedTotal !== undefined && plannedTotal > 0) {
    const done = Math.min(1, l.requests / plannedTotal);
    const filled = Math.round(done * BAR_WIDTH);
    parts.push(`[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${(done * 100).toFixed(0).padStart(3)}%`);
    parts.push(`${formatCount(l.requests)}/${formatCount(plannedTotal)}`);
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

  const draw = (): void => {
    drawn++;
    const l = live();
    const line = formatProgressLine(l, plannedTotal);
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
