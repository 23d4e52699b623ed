import type { Difference } from './diff-types.js';
import { HOP_HEADERS, type DiffRules } from './diff-rules.js';

/**
 * Header comparison: names case-insensitive, duplicates joined; volatile
 * headers compared on presence only; Set-Cookie compared per cookie name by
 * its attributes (Path, Domain, Secure, HttpOnly, SameSite, Max-Age and
 * Expires presence) — never by the session value, which differs every time.
 */

export function compareHeaders(left: Array<[string, string]>, right: Array<[string, string]>, rules: DiffRules): Difference[] {
  if (alignedAndEqual(left, right, rules)) return [];
  const out: Difference[] = [];
  const a = headerMap(left, rules);
  const b = headerMap(right, rules);
  for (const [name, va] of a) {
    const vb = b.get(name);
    if (name === 'set-cookie') compareCookies(va, vb ?? [], out);
    else if (vb === undefined) out.push({ path: `header.${name}`, kind: 'missing', left: va.join(', ') });
    else if (!rules.volatileHeaders.has(name) && va.join(', ') !== vb.join(', ')) {
      out.push({ path: `header.${name}`, kind: 'value', left: va.join(', '), right: vb.join(', ') });
    }
  }
  for (const [name, vb] of b) {
    if (a.has(name)) continue;
    if (name === 'set-cookie') compareCookies([], vb, out);
    else out.push({ path: `header.${name}`, kind: 'extra', right: vb.join(', ') });
  }
  return out;
}

/**
 * Fast path for the common case — the same header names in the same order,
 * values equal or volatile — without building maps. Set-Cookie and listed
 * headers take the full path.
 */
function alignedAndEqual(left: Array<[string, string]>, right: Array<[string, string]>, rules: DiffRules): boolean {
  if (left.length !== right.length || rules.headerAllow) return false;
  for (let i = 0; i < left.length; i++) {
    const [na, va] = left[i]!;
    const [nb, vb] = right[i]!;
    if (na !== nb || na === 'set-cookie') return false;
    if (va !== vb && !rules.volatileHeaders.has(na) && !HOP_HEADERS.has(na) && !rules.headerDeny.has(na)) return false;
  }
  return true;
}

function headerMap(headers: Array<[string, string]>, rules: DiffRules): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [rawName, value] of headers) {
    const name = rawName.toLowerCase();
    if (HOP_HEADERS.has(name) || rules.headerDeny.has(name)) continue;
    if (rules.headerAllow && !rules.headerAllow.has(name)) continue;
    const list = m.get(name);
    if (list) list.push(value);
    else m.set(name, [value]);
  }
  return m;
}

function compareCookies(left: string[], right: string[], out: Difference[]): void {
  const a = cookieMap(left);
  const b = cookieMap(right);
  for (const [name, attrs] of a) {
    const path = `header.set-cookie.${name}`;
    const other = b.get(name);
    if (other === undefined) out.push({ path, kind: 'missing', left: attrs });
    else if (other !== attrs) out.push({ path, kind: 'value', left: attrs, right: other });
  }
  for (const [name, attrs] of b) if (!a.has(name)) out.push({ path: `header.set-cookie.${name}`, kind: 'extra', right: attrs });
}

/** Cookie name → its attributes in a canonical order, the value left out. */
export function cookieMap(values: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const v of values) {
    const [pair = '', ...attrParts] = v.split(';');
    const eq = pair.indexOf('=');
    const name = (eq === -1 ? pair : pair.slice(0, eq)).trim();
    const attrs = attrParts
      .map((p) => p.trim())
      .filter((p) => p !== '')
      .map((p) => {
        const i = p.indexOf('=');
        const k = (i === -1 ? p : p.slice(0, i)).trim().toLowerCase();
        // Expires is a clock and Max-Age may be computed from one: their presence is what clients see.
        if (k === 'expires' || k === 'max-age') return k;
        return i === -1 ? k : `${k}=${p.slice(i + 1).trim().toLowerCase()}`;
      })
      .sort();
    m.set(name, attrs.join('; ') || '(no attributes)');
  }
  return m;
}
