import { lowerCased, type Body, type Exchange, type ExchangeRequest, type ExchangeResponse, type Header } from '../store/exchange.js';
import { copyBody } from '../store/exchange-copy.js';
import type { ExtractionRule } from './correlate/extraction-rules.js';

/**
 * Copy-on-write editing of an Exchange: steps never modify their input, and
 * only the parts they change are copied (a header list, one body), so a step
 * that changes nothing returns the very same object at no cost.
 *
 * Besides edits it collects the two kinds of marks a transform leaves:
 * redaction marks (`redactions`, for diffs) and template marks
 * (`meta.replay.templates`: fields holding `${…}` the replay must resolve).
 */

export type Side = 'request' | 'response';

/** What a transform leaves for the replay engine in `meta.replay`. */
export interface ReplayAnnotations {
  /** Fields holding `${…}` templates: `request.headers.authorization`, `request.path`, `request.query`, `request.body`, `request.authority`. */
  templates?: string[];
  /** Rules that fill correlation variables from this exchange's live response. */
  extract?: ExtractionRule[];
}

export function replayAnnotations(ex: Exchange): ReplayAnnotations {
  const r = ex.meta?.replay;
  return r !== null && typeof r === 'object' ? (r as ReplayAnnotations) : {};
}

export class ExchangeEditor {
  readonly original: Exchange;
  private out: Exchange | null = null;
  private req: ExchangeRequest | null = null;
  private res: ExchangeResponse | null = null;
  private reqHeaders: Header[] | null = null;
  private resHeaders: Header[] | null = null;
  // Arrays, not sets: an exchange has a handful of marks, and this runs per record.
  private marks: string[] | null = null;
  private templateMarks: string[] | null = null;
  private extract: ExtractionRule[] | null = null;

  constructor(ex: Exchange) {
    this.original = ex;
  }

  /** The exchange as edited so far (read-only view). */
  get ex(): Exchange {
    return this.out ?? this.original;
  }

  private draft(): Exchange {
    this.out ??= { ...this.original };
    return this.out;
  }

  request(): ExchangeRequest {
    if (!this.req) {
      this.req = { ...this.original.request };
      this.draft().request = this.req;
    }
    return this.req;
  }

  response(): ExchangeResponse {
    if (!this.original.response) throw new Error('exchange has no response');
    if (!this.res) {
      this.res = { ...this.original.response };
      this.draft().response = this.res;
    }
    return this.res;
  }

  headers(side: Side): readonly Header[] {
    return side === 'request' ? this.ex.request.headers : this.ex.response?.headers ?? [];
  }

  /** A writable copy of one side's header list. */
  writableHeaders(side: Side): Header[] {
    if (side === 'request') {
      if (!this.reqHeaders) this.request().headers = this.reqHeaders = this.original.request.headers.slice();
      return this.reqHeaders;
    }
    if (!this.resHeaders) this.response().headers = this.resHeaders = this.original.response!.headers.slice();
    return this.resHeaders;
  }

  setHeaderValue(side: Side, index: number, value: string): void {
    const list = this.writableHeaders(side);
    list[index] = [list[index]![0], value];
  }

  body(side: Side): Body | null {
    return side === 'request' ? this.ex.request.body : this.ex.response?.body ?? null;
  }

  /** Replace a utf8 body's text; `size` moves by the byte difference and Content-Length follows when it described these bytes. */
  setBodyText(side: Side, text: string): void {
    const body = this.body(side);
    if (!body || body.data === text) return;
    const delta = Buffer.byteLength(text) - Buffer.byteLength(body.data);
    const next = copyBody(body);
    next.data = text;
    next.size = Math.max(0, body.size + delta);
    if (side === 'request') this.request().body = next;
    else this.response().body = next;
    if (!next.truncated && !next.contentEncoding) {
      const headers = this.headers(side);
      for (let i = 0; i < headers.length; i++) {
        if (lowerCased(headers[i]![0]) === 'content-length') this.setHeaderValue(side, i, String(next.size));
      }
    }
  }

  /** Record that a field was redacted (`request.headers.authorization`, `response.body.$.user.email`). */
  mark(path: string): void {
    const marks = (this.marks ??= this.original.redactions ? this.original.redactions.slice() : []);
    if (!marks.includes(path)) marks.push(path);
  }

  /** Record that a field now holds `${…}` templates. */
  markTemplate(field: string): void {
    const marks = (this.templateMarks ??= replayAnnotations(this.original).templates?.slice() ?? []);
    if (!marks.includes(field)) marks.push(field);
  }

  isTemplated(field: string): boolean {
    return (this.templateMarks ?? replayAnnotations(this.original).templates)?.includes(field) ?? false;
  }

  addExtraction(rule: ExtractionRule): void {
    this.extract ??= [...(replayAnnotations(this.original).extract ?? [])];
    if (!this.extract.some((r) => sameRule(r, rule))) this.extract.push(rule);
  }

  /** The edited exchange, or the original object when nothing changed. */
  result(): Exchange {
    if (this.marks && this.marks.length !== (this.original.redactions?.length ?? 0)) this.draft().redactions = this.marks;
    if ((this.templateMarks && this.templateMarks.length !== (replayAnnotations(this.original).templates?.length ?? 0)) || this.extract) {
      const ann: ReplayAnnotations = { ...replayAnnotations(this.original) };
      if (this.templateMarks) ann.templates = this.templateMarks;
      if (this.extract) ann.extract = this.extract;
      // A copy, then an assignment: a spread followed by more properties is the slow path (store/exchange-copy.ts).
      const meta: Record<string, unknown> = { ...this.original.meta };
      meta.replay = ann;
      this.draft().meta = meta;
    }
    return this.out ?? this.original;
  }
}

function sameRule(a: ExtractionRule, b: ExtractionRule): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function contentTypeOf(headers: readonly Header[]): string {
  for (const [n, v] of headers) if (lowerCased(n) === 'content-type') return lowerCased(v);
  return '';
}

export function isJsonContentType(ct: string): boolean {
  return ct.includes('json');
}

export function isFormContentType(ct: string): boolean {
  return ct.startsWith('application/x-www-form-urlencoded');
}

/** The body's text when it is stored as UTF-8, else null (binary bodies are left alone). */
export function bodyText(body: Body | null | undefined): string | null {
  return body && body.encoding === 'utf8' ? body.data : null;
}
