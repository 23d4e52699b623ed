import { lowerCased, type Exchange } from '../../store/exchange.js';
import { bodyText, contentTypeOf, isFormContentType, isJsonContentType, type ExchangeEditor } from '../exchange-editor.js';
import { authSchemeEnd, decodeParam, encodeParam, formatParams, parseCookieHeader, parseParams, parseSetCookie, spliceAll } from '../http-values.js';
import { formatConcretePath } from '../json/json-path.js';
import { scanJsonLeaves } from '../json/json-leaves.js';
import { applyEdits, decodeJsonString, looksLikeJson, scanJson, type TextEdit } from '../json/json-scanner.js';
import { candidateHashAt, ESCAPED, isCandidate, isCandidateOfKind, keyKindAt, valueHash } from './candidate-values.js';
import { escapeTemplates } from '../templates/template-string.js';
import type { ExtractionRule } from './extraction-rules.js';

/**
 * Where correlated values live. A response *produces* values (JSON leaves,
 * Set-Cookie values, the Location header and its parts, token-like headers);
 * a request *uses* values (header values and auth tokens, cookies, path
 * segments, query parameters, JSON leaves and form fields of its body).
 * Matching is always whole-value: a produced value is never searched for
 * inside a longer string, which is what keeps false correlations rare.
 */

/** Decides about one request value: a template to write instead, or undefined to keep it. `where` names the spot, lazily. */
export type UseVisitor = (value: string, where: () => string) => string | undefined;

// Headers that describe the message or the client rather than carry application values.
const SKIP_HEADERS = new Set([
  'host', ':authority', ':method', ':path', ':scheme', 'content-length', 'content-type', 'accept', 'accept-encoding',
  'accept-language', 'user-agent', 'connection', 'keep-alive', 'cache-control', 'pragma', 'te', 'upgrade', 'origin',
  'referer', 'transfer-encoding', 'expect', 'dnt',
]);

/** Visit every value a request uses; templates the visitor returns are written and their fields marked. Returns how many. */
export function visitRequestValues(ed: ExchangeEditor, visit: UseVisitor): number {
  let n = 0;
  const headers = ed.headers('request');
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    const lower = lowerCased(name);
    if (SKIP_HEADERS.has(lower) || lower.startsWith('sec-')) continue;
    let next: string | null = null;
    if (lower === 'cookie') {
      const spans = parseCookieHeader(value).flatMap((p) => {
        const t = visit(p.value, () => `request.cookies.${p.name}`);
        return t === undefined ? [] : [{ start: p.start, end: p.end, text: t }];
      });
      if (spans.length > 0) next = spliceAll(value, spans, ed.isTemplated('request.headers.cookie') ? same : escapeTemplates);
      n += spans.length;
    } else {
      // `Scheme credentials`: the credentials are the value (a token issued by a login response).
      const sp = lower.endsWith('authorization') ? authSchemeEnd(value) : -1;
      const field = headerField(lower);
      const t = visit(sp === -1 ? value : value.slice(sp + 1), () => field);
      if (t !== undefined) {
        next = sp === -1 ? t : `${value.slice(0, sp + 1)}${t}`;
        n++;
      }
    }
    if (next !== null) {
      ed.setHeaderValue('request', i, next);
      ed.markTemplate(headerField(lower));
    }
  }
  n += visitPath(ed, visit);
  if (ed.ex.request.query !== '') {
    const q = visitParams(ed.ex.request.query, (name) => `request.query.${name}`, visit, !ed.isTemplated('request.query'));
    if (q) {
      ed.request().query = q.text;
      ed.markTemplate('request.query');
      n += q.count;
    }
  }
  n += visitBody(ed, visit);
  return n;
}

const same = (s: string): string => s;

// `request.headers.<name>` per lower-cased name, built once: a use is counted under it on every
// request that sends a correlated token, and a string built afresh would be hashed afresh each time.
const headerFields = new Map<string, string>();

function headerField(lower: string): string {
  let f = headerFields.get(lower);
  if (f === undefined) {
    f = `request.headers.${lower}`;
    if (headerFields.size >= 1024) headerFields.clear();
    headerFields.set(lower, f);
  }
  return f;
}

const PATH_FIELD = (): string => 'request.path';

function visitPath(ed: ExchangeEditor, visit: UseVisitor): number {
  const segs = ed.ex.request.path.split('/');
  let count = 0;
  let out: Array<string | null> | null = null;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    if (seg === '') continue;
    const t = visit(decodeParam(seg), PATH_FIELD);
    if (t === undefined) continue;
    (out ??= new Array<string | null>(segs.length).fill(null))[i] = t;
    count++;
  }
  if (out === null) return 0;
  const gap = ed.isTemplated('request.path') ? same : escapeTemplates;
  ed.request().path = out.map((t, i) => t ?? gap(segs[i]!)).join('/');
  ed.markTemplate('request.path');
  return count;
}

function visitParams(raw: string, where: (name: string) => string, visit: UseVisitor, escapeOthers: boolean): { text: string; count: number } | null {
  const params = parseParams(raw);
  let count = 0;
  const hit = new Set<number>();
  params.forEach((p, i) => {
    if (p.rawValue === null || p.value === '') return;
    const t = visit(p.value, () => where(p.name));
    if (t === undefined) return;
    p.rawValue = encodeParam(t);
    hit.add(i);
    count++;
  });
  if (count === 0) return null;
  if (escapeOthers) {
    params.forEach((p, i) => {
      p.rawName = escapeTemplates(p.rawName);
      if (!hit.has(i) && p.rawValue !== null) p.rawValue = escapeTemplates(p.rawValue);
    });
  }
  return { text: formatParams(params), count };
}

function visitBody(ed: ExchangeEditor, visit: UseVisitor): number {
  const text = bodyText(ed.ex.request.body);
  if (text === null || text.length === 0 || ed.ex.request.body!.truncated) return 0;
  const ct = contentTypeOf(ed.ex.request.headers);
  const first = !ed.isTemplated('request.body');
  if (isFormContentType(ct)) {
    const r = visitParams(text, (name) => `request.body.form.${name}`, visit, first);
    if (!r) return 0;
    ed.setBodyText('request', r.text);
    ed.markTemplate('request.body');
    return r.count;
  }
  if (!isJsonContentType(ct) && !looksLikeJson(text)) return 0;
  const edits: TextEdit[] = [];
  const result = scanJson(text, (path, kind, start, end) => {
    if (kind !== 'string' && kind !== 'number') return;
    const value = kind === 'string' ? decodeJsonString(text, start, end) : text.slice(start, end);
    const t = visit(value, () => `request.body.${formatConcretePath(path, true)}`);
    if (t === undefined) return;
    // A number keeps being a number: `"${#corr.x}"` resolves without quotes.
    edits.push({ start, end, text: kind === 'number' ? `"\${#${t.slice(2, -1)}}"` : JSON.stringify(t) });
  });
  if (result === 'invalid' || edits.length === 0) return 0;
  ed.setBodyText('request', applyEdits(text, edits, first ? escapeTemplates : undefined));
  ed.markTemplate('request.body');
  return edits.length;
}

export type RuleShape = ExtractionRule extends infer R ? (R extends ExtractionRule ? Omit<R, 'var'> : never) : never;

/**
 * Visits each value a response produced that is specific enough to correlate
 * on (`isCandidate`), in a fixed order, as its `valueHash`. Return true to
 * stop. This is the hot path (every leaf of every response), so it carries
 * no description of the site and slices no value out of a JSON body;
 * `producedSites` walks the same values again to describe them once a
 * request turned out to use one, which is rare.
 */
export type ProducedVisitor = (hash: number) => boolean | void;

/** Where a produced value sat: the key it is named after (`user.id`, a cookie name) and how to extract it live. */
export interface ProducedSite {
  key: string;
  shape: RuleShape;
}

export type ValueSource = 'json' | 'cookie' | 'location' | 'header';

// Response headers whose values are worth correlating besides Set-Cookie and Location.
const TOKEN_HEADER = /token|csrf|xsrf|session|auth|key|-id$/i;
// Responses larger than this are not searched for produced values: bounded work per record.
const MAX_SCAN_BYTES = 1 << 20;
const MAX_LEAVES = 2000;

/**
 * Where the value being visited sits: the live path of a JSON leaf (valid
 * only during the visit, so the hot loop allocates nothing for it) or a
 * header site.
 */
type SiteRef = { path: ReadonlyArray<string | number> } | ProducedSite;
type SiteVisitor = (value: string, key: string, site: SiteRef) => boolean | void;

export function visitResponseCandidates(ex: Exchange, sources: ReadonlySet<ValueSource>, visit: ProducedVisitor): void {
  const res = ex.response;
  if (!res) return;
  const text = jsonBodyToScan(res, sources);
  if (text !== null) {
    let leaves = 0;
    let stop = false;
    scanJsonLeaves(text, (isString, start, end, keyStart, keyEnd) => {
      if (++leaves > MAX_LEAVES) return true;
      if (end - start < (isString ? 4 : 2)) return false; // one character (an escape takes two) is never a candidate
      const kind = keyKindAt(text, keyStart, keyEnd);
      let hash = isString ? candidateHashAt(text, start + 1, end - 1, kind) : candidateHashAt(text, start, end, kind);
      if (hash === ESCAPED) {
        const value = decodeJsonString(text, start, end); // the value is what the escapes spell
        hash = isCandidateOfKind(value, kind) ? valueHash(value) : -1;
      }
      if (hash !== -1 && visit(hash)) stop = true;
      return stop;
    });
    if (stop) return;
  }
  visitHeaders(res.headers, sources, (value, key) => isCandidate(value, key) && visit(valueHash(value)));
}

/** The response's body text when it is JSON to look for produced values in (and not too large), else null. */
function jsonBodyToScan(res: NonNullable<Exchange['response']>, sources: ReadonlySet<ValueSource>): string | null {
  const text = sources.has('json') ? bodyText(res.body) : null;
  return text !== null && text.length <= MAX_SCAN_BYTES && (isJsonContentType(contentTypeOf(res.headers)) || looksLikeJson(text)) ? text : null;
}

/**
 * The site of each value a response produced that `accept` takes, the first
 * one per value (the order `visitResponseValues` visits in). Built once per
 * producing exchange, when a request first uses one of its values, and kept
 * with it: a response listing 2,000 ids that later requests use one by one
 * is walked once, not 2,000 times.
 */
export function producedSites(ex: Exchange, sources: ReadonlySet<ValueSource>): Map<string, ProducedSite> {
  const sites = new Map<string, ProducedSite>();
  walkResponseValues(ex, sources, (v, key, site) => {
    if (sites.has(v) || !isCandidate(v, key)) return;
    sites.set(v, 'path' in site ? { key: jsonKeyName(site.path), shape: { from: 'json', path: formatConcretePath(site.path) } } : site);
  });
  return sites;
}

function walkResponseValues(ex: Exchange, sources: ReadonlySet<ValueSource>, visit: SiteVisitor): void {
  const res = ex.response;
  if (!res) return;
  // JSON first (here and in `visitResponseCandidates`): when a body and a header carry the same value, the JSON
  // path is the sturdier rule.
  const text = jsonBodyToScan(res, sources);
  if (text !== null) {
    // The scanner, not JSON.parse: values are visited as written (`12.50` stays `12.50`, big integers
    // keep their digits), which is what a later request sends back.
    let leaves = 0;
    let stop = false;
    const site = { path: [] as ReadonlyArray<string | number> };
    scanJson(text, (path, kind, start, end) => {
      if (stop || (kind !== 'string' && kind !== 'number') || ++leaves > MAX_LEAVES) return;
      const value = kind === 'string' ? decodeJsonString(text, start, end) : text.slice(start, end);
      const own = path[path.length - 1];
      site.path = path;
      if (visit(value, typeof own === 'string' ? own : nearestKey(path), site)) stop = true;
    });
    if (stop) return;
  }
  visitHeaders(res.headers, sources, visit);
}

/** The nearest object key above an array element (`items` for `items[3]`), '' when there is none. */
function nearestKey(path: ReadonlyArray<string | number>): string {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === 'string') return path[i] as string;
  return '';
}

function visitHeaders(headers: Exchange['request']['headers'], sources: ReadonlySet<ValueSource>, visit: SiteVisitor): void {
  for (const [name, value] of headers) {
    const lower = lowerCased(name);
    if (lower === 'set-cookie') {
      if (!sources.has('cookie')) continue;
      const pair = parseSetCookie(value);
      if (pair && visit(pair.value, pair.name, { key: pair.name, shape: { from: 'cookie', name: pair.name } })) return;
    } else if (lower === 'location') {
      if (sources.has('location') && visitLocation(value, visit)) return;
    } else if (sources.has('header') && TOKEN_HEADER.test(lower)) {
      if (visit(value, lower, { key: lower, shape: { from: 'header', name: lower } })) return;
    }
  }
}

/** `user.id` for `['user', 'id']`, `items.id` for `['items', 0, 'id']`. */
function jsonKeyName(path: ReadonlyArray<string | number>): string {
  let last: string | null = null;
  for (let i = path.length - 1; i >= 0; i--) {
    const p = path[i];
    if (typeof p !== 'string') continue;
    if (last === null) last = p;
    else return `${p}.${last}`;
  }
  return last ?? '';
}

function visitLocation(value: string, visit: SiteVisitor): boolean {
  if (visit(value, 'location', { key: 'location', shape: { from: 'header', name: 'location' } })) return true;
  // The parts of the URL: `/orders/ord_81f2` gives `ord_81f2`, extracted by a regex anchored on the path before it.
  const m = /^(?:[a-z][a-z0-9+.-]*:\/\/[^/]*)?([^?#]*)(?:\?([^#]*))?/i.exec(value);
  const path = m?.[1] ?? '';
  const segs = path.split('/');
  let prefix = '';
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    if (i > 0) prefix += '/';
    if (seg !== '') {
      const before = prefix;
      const key = `location.${segs[i - 1] || 'path'}`;
      if (visit(decodeParam(seg), key, { key, shape: { from: 'header', name: 'location', regex: `^(?:[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*)?${escapeRegex(before)}([^/?#]+)` } })) return true;
    }
    prefix += seg;
  }
  for (const p of parseParams(m?.[2] ?? '')) {
    if (p.value === '') continue;
    const key = `location.${p.name}`;
    if (visit(p.value, key, { key, shape: { from: 'header', name: 'location', regex: `[?&]${escapeRegex(p.rawName)}=([^&#]*)` } })) return true;
  }
  return false;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
