/**
 * Endpoint templates group requests that hit the same handler: ids in paths
 * are collapsed (`/users/123` → `/users/:id`). Used by the store index, replay
 * metrics and diff reports, so all three name endpoints the same way.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NUMBER = /^-?\d+(\.\d+)?$/;
const HEX_ID = /^(?=.*\d)[0-9a-f]{8,}$/i; // mongo ids, hashes: hex with at least one digit
const TOKEN = /^(?=.*\d)(?=.*[a-zA-Z])[A-Za-z0-9_-]{16,}$/; // opaque ids / slugs with digits
const DATE = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+Z?)?$/;
const CODE = /^[A-Za-z]{1,8}[-_]\d+$/; // SKU-like codes: RUN-42, INV_2024
// Prefixed random ids (Stripe style: cus_J8kL2mN, ord_4z0f8, pi_3Mtw…, sk_test_…): a short alphabetic
// prefix, then a random alphanumeric part. The random part must look random — two digits, or one digit in
// ten or more characters — so snake_case words with a version digit (get_user2, api_v2) stay as they are.
const PREFIXED_ID = /^[A-Za-z]{2,12}(?:_[A-Za-z]{2,12})?_(?:(?=(?:[A-Za-z]*\d){2})[A-Za-z0-9]{5,}|(?=[A-Za-z]*\d)[A-Za-z0-9]{10,})$/;
// Medium-length base62 ids (YouTube-style dQw4w9WgXcQ, short-link keys): letters and digits that alternate
// at least three times. Words with one embedded digit (oauth2callback, html5shiv) alternate only twice.
const MIXED_ID = /^[A-Za-z0-9]{8,}$/;
const MIN_RUN_CHANGES = 4;

/**
 * Replace id-like path segments with `:id`.
 *
 * @example
 * collapsePathIds('/users/123/orders/9f1c2e3a-0b1c-4d2e-8f00-aa11bb22cc33') // '/users/:id/orders/:id'
 */
export function collapsePathIds(path: string): string {
  const cached = cache.get(path);
  if (cached !== undefined) return cached;
  const parts = path.split('/');
  for (let i = 0; i < parts.length; i++) {
    const s = parts[i]!;
    if (s === '') continue;
    if (isIdSegment(s)) parts[i] = ':id';
  }
  const template = parts.join('/');
  // Bounded cache: capture paths repeat heavily, but a scan of random ids must not grow memory.
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(path, template);
  return template;
}

function isIdSegment(s: string): boolean {
  return NUMBER.test(s) || UUID.test(s) || HEX_ID.test(s) || TOKEN.test(s) || DATE.test(s) || CODE.test(s)
    || PREFIXED_ID.test(s) || (MIXED_ID.test(s) && letterDigitChanges(s) >= MIN_RUN_CHANGES);
}

/** How often a segment switches between a letter and a digit: a1b2c3 → 5, oauth2callback → 2. */
function letterDigitChanges(s: string): number {
  let changes = 0;
  let prevDigit = isDigit(s.charCodeAt(0));
  for (let i = 1; i < s.length; i++) {
    const digit = isDigit(s.charCodeAt(i));
    if (digit !== prevDigit) changes++;
    prevDigit = digit;
  }
  return changes;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

const CACHE_LIMIT = 10_000;
const cache = new Map<string, string>();

/** `GET /users/:id` — the key replay metrics and reports group by. */
export function endpointKey(method: string, path: string): string {
  return `${method} ${collapsePathIds(path)}`;
}
