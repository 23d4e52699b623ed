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
    if (NUMBER.test(s) || UUID.test(s) || HEX_ID.test(s) || TOKEN.test(s) || DATE.test(s) || CODE.test(s)) parts[i] = ':id';
  }
  const template = parts.join('/');
  // Bounded cache: capture paths repeat heavily, but a scan of random ids must not grow memory.
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(path, template);
  return template;
}

const CACHE_LIMIT = 10_000;
const cache = new Map<string, string>();

/** `GET /users/:id` — the key replay metrics and reports group by. */
export function endpointKey(method: string, path: string): string {
  return `${method} ${collapsePathIds(path)}`;
}
