/**
 * Values that differ on every response by nature — clocks, generated ids —
 * recognised by shape. Used only when no second baseline measures noise: a
 * difference whose two sides are the same kind of volatile value is set aside
 * (and counted in the report, never silently dropped).
 */

export type VolatileClass = 'timestamp' | 'uuid' | 'epoch' | 'random-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// ISO 8601 date-time (the date alone is usually a business value, not a clock).
const ISO_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
// RFC 1123 / HTTP-date: "Mon, 23 Nov 2026 10:00:00 GMT".
const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const HEX_ID = /^(?=.*\d)(?=.*[a-f])[0-9a-f]{16,}$/i;
// Opaque generated ids (`req_8f3kq0…`, base64url tokens): long, mixed letters and digits.
const TOKEN = /^[A-Za-z]{0,8}[_-]?(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{16,}$/;
// 2001-09-09 .. 2100-01-01 in seconds and milliseconds: wide enough for any live clock, narrow enough to spare counters.
const EPOCH_S = [1_000_000_000, 4_102_444_800] as const;
const EPOCH_MS = [1_000_000_000_000, 4_102_444_800_000] as const;

/** The volatile class of one value, or undefined. */
export function volatileClassOf(value: unknown): VolatileClass | undefined {
  if (typeof value === 'number') return isEpoch(value) ? 'epoch' : undefined;
  if (typeof value !== 'string' || value.length < 10 || value.length > 64) return undefined;
  if (UUID.test(value)) return 'uuid';
  if (ISO_TIME.test(value) || HTTP_DATE.test(value)) return 'timestamp';
  if (/^\d{10}(\d{3})?$/.test(value)) return isEpoch(Number(value)) ? 'epoch' : undefined;
  if (HEX_ID.test(value) || TOKEN.test(value)) return 'random-id';
  return undefined;
}

function isEpoch(n: number): boolean {
  if (!Number.isFinite(n)) return false;
  return (n >= EPOCH_S[0] && n <= EPOCH_S[1]) || (n >= EPOCH_MS[0] && n <= EPOCH_MS[1]);
}

/** Both sides are the same kind of volatile value: their difference is noise, not a change. */
export function sharedVolatileClass(left: unknown, right: unknown): VolatileClass | undefined {
  const a = volatileClassOf(left);
  return a !== undefined && a === volatileClassOf(right) ? a : undefined;
}

const IN_TEXT = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?|\b[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\b|\b1\d{9}(?:\d{3})?\b/gi;

/**
 * Replace volatile tokens inside free text (HTML, plain text) with their class
 * name, so `Generated at 10:00:01` vs `10:00:02` lines compare equal.
 * Returns the text and how many tokens were masked.
 */
export function maskVolatileText(text: string): { text: string; masked: number } {
  let masked = 0;
  const out = text.replace(IN_TEXT, (m) => {
    masked++;
    return m.includes('-') && m.length === 36 ? '<uuid>' : /^\d+$/.test(m) ? '<epoch>' : '<timestamp>';
  });
  return { text: out, masked };
}
