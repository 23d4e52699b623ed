// Why this file exists: forwarder payloads come from code we do not control (each team's proxy
// Lambda), so every field is read as `unknown`. The readers here collect *every* problem with its
// JSON path instead of stopping at the first one, so one 400 tells the sender all that is wrong.

export type Json = Record<string, unknown>;

/**
 * The accepted spellings of each optional field. Forwarders differ (snake_case from Python
 * Lambdas, camelCase copied from the API Gateway event); the first spelling present wins.
 * docs/cli.md lists the same table.
 */
export const FIELD_ALIASES = {
  requestId: ['request_id', 'requestId', 'aws_request_id', 'awsRequestId'],
  /** Epoch milliseconds, as in the API Gateway event's requestContext.requestTimeEpoch. */
  requestTimeEpoch: ['request_time_epoch', 'requestTimeEpoch'],
  /** ISO 8601, API Gateway's CLF form (`09/Apr/2015:12:34:56 +0000`), or an epoch number. */
  time: ['timestamp', 'request_time', 'requestTime', 'time', 'start_time', 'startTime'],
  /** Raw query string, without '?'. */
  query: ['query_string', 'queryString', 'raw_query_string', 'rawQueryString', 'query'],
  queryParams: ['query_string_parameters', 'queryStringParameters', 'query_params', 'queryParams'],
  multiQueryParams: ['multi_value_query_string_parameters', 'multiValueQueryStringParameters'],
  requestMultiHeaders: ['multi_value_request_headers', 'request_multi_value_headers', 'multiValueHeaders', 'multi_value_headers'],
  responseMultiHeaders: ['multi_value_response_headers', 'response_multi_value_headers'],
  requestBase64: ['is_base64_encoded', 'isBase64Encoded', 'body_is_base64_encoded', 'request_is_base64_encoded'],
  responseBase64: ['response_is_base64_encoded', 'responseIsBase64Encoded', 'response_body_is_base64_encoded'],
  stage: ['stage'],
  sourceIp: ['source_ip', 'sourceIp', 'source_ip_address'],
  /** Milliseconds from request to response, as measured by the proxy Lambda. */
  latency: ['latency', 'latency_ms', 'latencyMs', 'duration_ms', 'durationMs'],
  protocol: ['protocol', 'http_version', 'httpVersion'],
} as const;

export type AliasedField = keyof typeof FIELD_ALIASES;

// Bounds on what one payload may hold. They sit far above any real API Gateway exchange
// (which caps headers at 10 KiB and bodies at 10 MB) and exist so a hostile payload costs
// a clear problem, not memory or a stack overflow.
export const LIMITS = {
  /** Longest `from`, `endpoint`, method, header name. */
  shortString: 8 * 1024,
  /** Longest single header value or query string. */
  headerValue: 64 * 1024,
  /** Headers per side. */
  headers: 1000,
  /** Deepest JSON nesting in a body (JSON.stringify recurses, and 10k levels overflow the stack). */
  depth: 256,
} as const;

/** Problems found in one payload, each `path: what is wrong`. */
export class ProblemList {
  readonly items: string[] = [];
  /** Stop collecting after this many: a 10 MB payload of wrong types must not make a 10 MB 400. */
  private readonly max = 50;

  add(path: string, message: string): void {
    if (this.items.length < this.max) this.items.push(`${path || '(payload)'}: ${message}`);
    else if (this.items.length === this.max) this.items.push('…more problems not listed');
  }

  get empty(): boolean {
    return this.items.length === 0;
  }
}

/**
 * A JSON path for messages: `request_headers.Content-Type`, `[3].status`, or a bracketed
 * quoted key when the key has characters a reader would misparse (cut to 60 characters).
 *
 * @example
 * childPath('request_headers', 'X Odd') // 'request_headers["X Odd"]'
 */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (/^[A-Za-z0-9_-]{1,60}$/.test(key)) return parent === '' ? key : `${parent}.${key}`;
  const shown = key.length > 60 ? `${key.slice(0, 60)}…` : key;
  return `${parent}[${JSON.stringify(shown)}]`;
}

/** The first alias of `field` present (not undefined/null) in `obj`, with its key. */
export function readAlias(obj: Json, field: AliasedField): { key: string; value: unknown } | undefined {
  for (const key of FIELD_ALIASES[field]) {
    const value = obj[key];
    if (value !== undefined && value !== null) return { key, value };
  }
  return undefined;
}

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/** True when `value` nests deeper than `max` (iterative: safe on hostile depth). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d >= max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, d + 1]);
  }
  return false;
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const CLF = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;
const ISO = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * A timestamp as integer µs since the epoch, or null when it is not one. Numbers are
 * read by magnitude (seconds < 1e11 ≤ milliseconds < 1e14 ≤ microseconds), so the
 * usual epoch forms all work; ISO 8601 keeps up to µs of its fraction; API Gateway's
 * `requestTime` CLF form is accepted too. A zone-less ISO time is taken as UTC.
 *
 * @example
 * parseTimestampMicros('2026-03-01T10:00:00.123456Z') // 1772359200123456
 */
export function parseTimestampMicros(v: unknown): number | null {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v <= 0) return null;
    const us = v < 1e11 ? v * 1e6 : v < 1e14 ? v * 1e3 : v;
    return Number.isSafeInteger(Math.round(us)) ? Math.round(us) : null;
  }
  if (typeof v !== 'string' || v.length > 64) return null;
  if (/^\d{9,16}(\.\d+)?$/.test(v)) return parseTimestampMicros(Number(v));
  const clf = CLF.exec(v);
  if (clf) {
    const [, d, mon, y, h, mi, s, sign, oh, om] = clf;
    const month = MONTHS[mon!];
    if (month === undefined) return null;
    const offsetMin = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
    const ms = Date.UTC(Number(y), month, Number(d), Number(h), Number(mi), Number(s)) - offsetMin * 60_000;
    return Number.isFinite(ms) ? ms * 1000 : null;
  }
  const iso = ISO.exec(v);
  if (!iso) return null;
  const zone = iso[3] ?? 'Z';
  const ms = Date.parse(`${iso[1]!.replace(' ', 'T')}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`);
  if (!Number.isFinite(ms)) return null;
  const fraction = (iso[2] ?? '').padEnd(6, '0').slice(0, 6);
  return ms * 1000 + Number(fraction);
}
