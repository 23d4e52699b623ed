import { timeTemplate } from './template-string.js';

/**
 * Recognizing recorded times and turning them into `${time:…}` templates that
 * keep their format: ISO-8601 with its fraction digits and UTC offset, epoch
 * seconds or milliseconds, HTTP dates. The template holds the offset from the
 * recording start, so the replay writes (replay start + offset): every time
 * shifted by the same (replay start − recording start).
 */

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;
const HTTP_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const EPOCH_S = /^\d{10}$/;
const EPOCH_MS = /^\d{13}$/;

export interface TimeContext {
  /** Recording start, ms since the epoch. */
  originMs: number;
  /** The exchange's own start, ms: epoch numbers only count within `windowMs` of it. */
  aroundMs: number;
  windowMs: number;
}

/** The template for a recorded time value, or null when the value is not a time. */
export function timeToTemplate(value: string, ctx: TimeContext): string | null {
  const iso = ISO.exec(value);
  if (iso) {
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) return null;
    const format = `iso${Math.min(iso[1]?.length ?? 0, 9)}${iso[2] === 'Z' ? '' : `@${iso[2]}`}`;
    return timeTemplate(format, ms - ctx.originMs);
  }
  if (HTTP_DATE.test(value)) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : timeTemplate('http', ms - ctx.originMs);
  }
  const epochMs = EPOCH_MS.test(value) ? Number(value) : EPOCH_S.test(value) ? Number(value) * 1000 : null;
  if (epochMs === null || Math.abs(epochMs - ctx.aroundMs) > ctx.windowMs) return null;
  return timeTemplate(value.length === 13 ? 'epoch-ms' : 'epoch-s', epochMs - ctx.originMs);
}

/** A quick test before the regexes: a time has a digit and is 10–40 characters. */
export function mayBeTime(value: string): boolean {
  const n = value.length;
  return n >= 10 && n <= 40 && value.charCodeAt(0) <= 0x5a; // digits and the capital of a weekday
}
