import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { storedBodyToComparable } from '../../../replay/diff/comparable-body.js';
import { compareResponses } from '../../../replay/diff/compare-responses.js';
import { compileDiffRules } from '../../../replay/diff/diff-rules.js';
import type { ResponseSide } from '../../../replay/diff/diff-types.js';
import { compareHeaders, cookieMap } from '../../../replay/diff/header-compare.js';
import { normalizeHtml } from '../../../replay/diff/text-compare.js';
import { maskVolatileText, volatileClassOf } from '../../../replay/diff/volatile-values.js';

const rules = compileDiffRules();

function side(status: number, headers: Array<[string, string]>, body: string | Buffer | null): ResponseSide {
  const b = body === null ? null : typeof body === 'string' ? { encoding: 'utf8' as const, data: body, size: Buffer.byteLength(body) } : { encoding: 'base64' as const, data: body.toString('base64'), size: body.length };
  return { status, headers: headers.map(([n, v]) => [n.toLowerCase(), v]), body: storedBodyToComparable(b, rules.bodyCap), latencyMs: 1 };
}
const diffs = (a: ResponseSide, b: ResponseSide, setAsideVolatile = false, r = rules) =>
  compareResponses(a, b, r, { setAsideVolatile }).diffs.map((d) => `${d.path} ${d.kind}`);

describe('headers', () => {
  it('names are case-insensitive; volatile headers count on presence, not value; framing is ignored', () => {
    const a: Array<[string, string]> = [['Content-Type', 'application/json'], ['Date', 'Mon, 23 Nov 2026 10:00:00 GMT'], ['ETag', '"a"'], ['Content-Length', '10']];
    const b: Array<[string, string]> = [['content-type', 'application/json'], ['date', 'Mon, 23 Nov 2026 10:00:05 GMT'], ['transfer-encoding', 'chunked']];
    expect(compareHeaders(a.map(([n, v]) => [n.toLowerCase(), v]), b, rules).map((d) => `${d.path} ${d.kind}`)).toEqual(['header.etag missing']);
  });

  it('allow and deny lists, extra volatile headers', () => {
    const a: Array<[string, string]> = [['server', 'nginx/1.24'], ['x-version', '1'], ['cache-control', 'no-store']];
    const b: Array<[string, string]> = [['server', 'nginx/1.25'], ['x-version', '2'], ['cache-control', 'max-age=60']];
    const list = (r: ReturnType<typeof compileDiffRules>) => compareHeaders(a, b, r).map((d) => d.path);
    expect(list(rules)).toEqual(['header.server', 'header.x-version', 'header.cache-control']);
    expect(list(compileDiffRules({ headerDeny: ['Server'] }))).toEqual(['header.x-version', 'header.cache-control']);
    expect(list(compileDiffRules({ headerAllow: ['cache-control'] }))).toEqual(['header.cache-control']);
    expect(list(compileDiffRules({ volatileHeaders: ['X-Version', 'server'] }))).toEqual(['header.cache-control']);
  });

  it('Set-Cookie by cookie name and attributes, never by session value', () => {
    const a: Array<[string, string]> = [['set-cookie', 'sid=abc; Path=/; HttpOnly; Expires=Tue, 24 Nov 2026 10:00:00 GMT'], ['set-cookie', 'theme=dark; Path=/']];
    const same: Array<[string, string]> = [['set-cookie', 'sid=zzz; HttpOnly; path=/; Expires=Wed, 25 Nov 2026 10:00:00 GMT'], ['set-cookie', 'theme=dark; Path=/']];
    expect(compareHeaders(a, same, rules)).toEqual([]);
    const changed: Array<[string, string]> = [['set-cookie', 'sid=zzz; Path=/'], ['set-cookie', 'ab=1']];
    expect(compareHeaders(a, changed, rules).map((d) => `${d.path} ${d.kind}`)).toEqual([
      'header.set-cookie.sid value', 'header.set-cookie.theme missing', 'header.set-cookie.ab extra',
    ]);
    expect(cookieMap(['sid=1; Secure; SameSite=Lax; Max-Age=3600']).get('sid')).toBe('max-age; samesite=lax; secure');
  });
});

describe('bodies by content type', () => {
  const json = [['content-type', 'application/json']] as Array<[string, string]>;
  it('JSON structurally; a JSON body turned into an HTML error page is a type change', () => {
    expect(diffs(side(200, json, '{"a":1,"b":2}'), side(200, json, '{"b":2,"a":1}'))).toEqual([]);
    expect(diffs(side(200, json, '{"a":1}'), side(500, [['content-type', 'text/html']], '<html>oops</html>'))).toEqual([
      'status status', 'header.content-type value', 'body type',
    ]);
    expect(diffs(side(200, json, '{"a":1}'), side(200, json, '{"a":1'))).toEqual(['body type']);
  });

  it('text by lines, HTML normalized first', () => {
    const text = [['content-type', 'text/plain']] as Array<[string, string]>;
    const r = compareResponses(side(200, text, 'a\nb\nc\nd'), side(200, text, 'a\nB\nc\nd'), rules, { setAsideVolatile: false });
    expect(r.diffs).toEqual([{ path: 'body', kind: 'value', left: 'line 2: "b"', right: 'line 2: "B"' }]);
    const html = [['content-type', 'text/html; charset=utf-8']] as Array<[string, string]>;
    expect(diffs(side(200, html, '<HTML><body  class="x"  id=main><!-- build 1 --><p>Hi</p></body></HTML>'),
      side(200, html, '<html>\n  <body id=main class="x">\n    <p>Hi</p>\n  </body>\n</html>'))).toEqual([]);
    expect(normalizeHtml('<P  class="b"   id=a>Hi <!-- x -->there</P>')).toBe('<p class="b" id=a>\nHi there\n</p>');
    // Without a second baseline, clock values inside text are masked and said so.
    const t = compareResponses(side(200, html, '<p>Built 2026-11-23T10:00:00Z</p>'), side(200, html, '<p>Built 2026-11-23T10:00:07Z</p>'), rules, { setAsideVolatile: true });
    expect(t.diffs).toEqual([]);
    expect(t.setAside).toEqual([{ path: 'body', cls: 'timestamp' }]);
  });

  it('binary by size, type and hash', () => {
    const png = [['content-type', 'image/png']] as Array<[string, string]>;
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00, 0xfe]);
    expect(diffs(side(200, png, bytes), side(200, png, Buffer.from(bytes)))).toEqual([]);
    const flipped = Buffer.from(bytes);
    flipped[5] = 1;
    expect(diffs(side(200, png, bytes), side(200, png, flipped))).toEqual(['body value']);
    expect(diffs(side(200, png, bytes), side(200, png, bytes.subarray(0, 5)))).toEqual(['body size']);
    // Same bytes under another type: the type is the finding, the identical bytes are not.
    expect(diffs(side(200, png, bytes), side(200, [['content-type', 'image/webp']], bytes))).toEqual(['header.content-type value']);
    expect(diffs(side(200, png, bytes), side(200, [['content-type', 'application/pdf']], flipped))).toEqual(['header.content-type value', 'body value']);
  });

  it('bodies over the cap compare by size and sha256', () => {
    const small = compileDiffRules({ bodyCap: 16 });
    const mk = (s: string) => ({ status: 200, headers: json, body: storedBodyToComparable({ encoding: 'utf8', data: s, size: s.length }, 16), latencyMs: 1 });
    const big = `{"pad":"${'x'.repeat(100)}"}`;
    expect(mk(big).body!.overCap).toBe(true);
    expect(mk(big).body!.bytes.length).toBe(16);
    expect(compareResponses(mk(big), mk(big), small, { setAsideVolatile: false }).diffs).toEqual([]);
    const r = compareResponses(mk(big), mk(big.replace('xx', 'xy')), small, { setAsideVolatile: false });
    expect(r.hashCompared).toBe(true);
    expect(r.diffs[0]).toMatchObject({ path: 'body', kind: 'value' });
  });

  it('no response on a side is a status difference and nothing else', () => {
    const none: ResponseSide = { status: null, headers: [], body: null, latencyMs: null, error: 'error: refused' };
    expect(compareResponses(side(200, json, '{}'), none, rules, { setAsideVolatile: false }).diffs).toEqual([
      { path: 'status', kind: 'status', left: '200', right: 'error: refused' },
    ]);
  });

  it('without a second baseline, volatile JSON values are set aside, real changes are not', () => {
    const a = side(200, json, '{"at":"2026-11-23T10:00:00.123Z","rid":"9f1c2e3a-0b1c-4d2e-8f00-aa11bb22cc33","ts":1795000000,"n":1}');
    const b = side(200, json, '{"at":"2026-11-23T10:00:00.456Z","rid":"0b1c2e3a-0b1c-4d2e-8f00-aa11bb22cc99","ts":1795000003,"n":2}');
    const r = compareResponses(a, b, rules, { setAsideVolatile: true });
    expect(r.diffs.map((d) => d.path)).toEqual(['$.n']);
    expect(r.setAside.map((s) => `${s.path} ${s.cls}`)).toEqual(['$.at timestamp', '$.rid uuid', '$.ts epoch']);
    // A timestamp that becomes a non-timestamp is a real change even then.
    const c = side(200, json, '{"at":"never","rid":"9f1c2e3a-0b1c-4d2e-8f00-aa11bb22cc33","ts":1795000000,"n":1}');
    expect(diffs(a, c, true)).toEqual(['$.at value']);
  });
});

describe('volatile values', () => {
  it('recognises clocks and generated ids by shape, not counters or business values', () => {
    expect(volatileClassOf('2026-11-23T10:00:00Z')).toBe('timestamp');
    expect(volatileClassOf('Mon, 23 Nov 2026 10:00:00 GMT')).toBe('timestamp');
    expect(volatileClassOf('9F1C2E3A-0B1C-4D2E-8F00-AA11BB22CC33')).toBe('uuid');
    expect(volatileClassOf(1795000000)).toBe('epoch');
    expect(volatileClassOf('1795000000123')).toBe('epoch');
    expect(volatileClassOf('tr_3f9a0c1d2e4b5a6978c0d1e2')).toBe('random-id');
    for (const v of ['2026-11-23', 42, 'hello world', 'EUR', 123456789, 'pro', 'ORDER-12', true, null]) expect(volatileClassOf(v)).toBeUndefined();
    expect(maskVolatileText('at 2026-11-23T10:00:00Z id 9f1c2e3a-0b1c-4d2e-8f00-aa11bb22cc33')).toEqual({ text: 'at <timestamp> id <uuid>', masked: 2 });
  });
});

describe('encoded stored bodies', () => {
  it('a zstd body a Node 20 capture could not decode is decoded here (fzstd)', () => {
    // `printf '{"id":42,"tags":["a","b"]}' | zstd -c | base64`
    const z = { encoding: 'base64' as const, data: 'KLUv/QRY0QAAeyJpZCI6NDIsInRhZ3MiOlsiYSIsImIiXX33bCg9', size: 39, contentEncoding: 'zstd' };
    const body = storedBodyToComparable(z, 1 << 20)!;
    expect(body.bytes.toString()).toBe('{"id":42,"tags":["a","b"]}');
    const corrupt = storedBodyToComparable({ ...z, data: Buffer.concat([Buffer.from(z.data, 'base64').subarray(0, 8), Buffer.alloc(8, 0xff)]).toString('base64') }, 1 << 20)!;
    expect(corrupt.note).toMatch(/zstd decoding failed/);
    // A body already decoded at capture (the normal case) is taken as stored.
    const g = storedBodyToComparable({ encoding: 'utf8', data: '{"a":1}', size: 7, contentEncoding: 'gzip' }, 1 << 20)!;
    expect(g.bytes.toString()).toBe('{"a":1}');
    expect(gzipSync('x').length).toBeGreaterThan(0);
  });
});
