/**
 * The vocabulary of a response diff: one side of a pair as the comparer sees
 * it, and one difference it found. Every comparer (status, headers, JSON,
 * text, binary) speaks in these terms so statistics and reports need not know
 * which produced a finding.
 */

/** What differs. `missing` = in the baseline only (removed); `extra` = in the candidate only (added). */
export type DiffKind = 'value' | 'type' | 'missing' | 'extra' | 'order' | 'size' | 'status';

export type Risk = 'high' | 'medium' | 'low';

/** status / type / removed are breaking for clients; a changed value might be; an addition rarely is. */
export function riskOf(kind: DiffKind): Risk {
  switch (kind) {
    case 'status':
    case 'type':
    case 'missing':
      return 'high';
    case 'extra':
      return 'low';
    default:
      return 'medium';
  }
}

export const RISK_ORDER: readonly Risk[] = ['high', 'medium', 'low'];

/** A response body as compared: decoded, at most `cap` bytes kept, hashed whole. */
export interface ComparableBody {
  /** Decoded bytes, at most the diff's body cap of them. */
  bytes: Buffer;
  /** Decoded size in bytes (a lower bound when `incomplete`). */
  size: number;
  /**
   * sha256 (hex) of every decoded byte seen, so bodies over the cap still
   * compare exactly. Absent for a whole body held in `bytes` (offline, under
   * the cap): those compare byte for byte, and hashing them would cost ~10 %
   * of a pair's time for nothing.
   */
  sha256?: string;
  /** The bytes as UTF-8 text, when the source already had them as text (saves a decode per side). */
  text?: string;
  /** More bytes than the cap: compare by size and hash only. */
  overCap: boolean;
  /** The source itself holds only part of the body (capped at capture). */
  incomplete: boolean;
  /** Why the bytes are not the decoded body (e.g. an encoding that could not be undone). */
  note?: string;
}

/** One side of a pair: a response, or why there is none. */
export interface ResponseSide {
  status: number | null;
  /** Lower-cased names, original order, duplicates kept. */
  headers: Array<[string, string]>;
  body: ComparableBody | null;
  /** Request start to last byte, milliseconds; null when unknown. */
  latencyMs: number | null;
  /** Set when there was no response (refused, timeout, reset, …). */
  error?: string;
}

/** One difference between two responses of the same request. */
export interface Difference {
  /** Concrete location: `status`, `header.x-id`, `header.set-cookie.sid`, `$.items[3].id`, `body`. */
  path: string;
  kind: DiffKind;
  /**
   * Each side's value (undefined when absent): JSON values as parsed, status,
   * headers and bodies as display strings. Kept raw so that only the few
   * differences kept as examples pay for a printable form (see `displayValue`).
   */
  left?: unknown;
  right?: unknown;
}

/** The printable form of a Difference side: JSON values as JSON, everything else as it is. */
export function displayValue(d: Difference, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (d.path.startsWith('$') || typeof value !== 'string') return preview(value);
  // Status, header and body summaries are display text already (text-line excerpts are escaped where they are made).
  return value.length > 400 ? `${value.slice(0, 399)}…` : value;
}

/** Printable, bounded form of any value for examples and reports. */
export function preview(value: unknown, max = 200): string {
  let s: string;
  if (value === undefined) s = '(absent)';
  else if (typeof value === 'string') s = JSON.stringify(value);
  else {
    try {
      s = JSON.stringify(value) ?? String(value);
    } catch {
      s = String(value);
    }
  }
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
