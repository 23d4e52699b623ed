import { describe, expect, it } from 'vitest';
import { isRepriseError } from '../../../errors.js';
import { storedBodyToComparable } from '../../../replay/diff/comparable-body.js';
import { compareResponses } from '../../../replay/diff/compare-responses.js';
import { DiffAccumulator } from '../../../replay/diff/diff-accumulator.js';
import { compileDiffRules } from '../../../replay/diff/diff-rules.js';
import { parseDiffThresholds } from '../../../replay/diff/diff-thresholds.js';
import type { ResponseSide } from '../../../replay/diff/diff-types.js';
import { MAX_DIFFS_PER_PAIR } from '../../../replay/diff/json-compare.js';
import { renderDiffHtml } from '../../../replay/diff/report/render-html.js';
import { renderDiffJunit } from '../../../replay/diff/report/render-junit.js';

/**
 * Fuzz loop: mutated bodies, headers and threshold text never make the diff
 * throw anything but a RepriseError, differences per pair stay bounded, and
 * reports of hostile values stay well-formed (no raw markup, no characters
 * XML cannot carry). Seeded, so a failure reproduces.
 */

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

const SEEDS = [
  JSON.stringify({ id: 1, name: 'a', tags: ['x', 'y'], nested: { at: '2026-11-23T10:00:00Z', list: [{ k: 1 }, { k: 2 }] } }),
  '{"id":1,"at":"2026-11-23T10:00:00Z"}\n{"id":2,"tags":["x"]}\n\n{"id":3}\n', // NDJSON, sent under every type (application/json too)
  '<html><body class="a"><p>Hello <b>world</b></p><!-- c --><script>alert(1)</script></body></html>',
  'line one\nline two\r\nline three 2026-11-23T10:00:00Z\n',
  '[1, 2.0, -3e5, "\\u0000", null, true, {"__proto__": {"a": 1}}]',
  'retry: 1000\n\n: ping\r\nid: 1\nevent: job\ndata: {"status":"queued","ts":"2026-11-23T10:00:00Z"}\n\ndata: [DONE]\rdata\n\ndata: {"a":\n',
];
const TYPES = ['application/json', 'text/html', 'text/plain', 'application/octet-stream', '', 'application/problem+json', 'text/event-stream'];

function mutate(text: string, r: () => number): Buffer {
  const b = Buffer.from(text);
  const out = Buffer.from(b);
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) out[Math.floor(r() * out.length)] = Math.floor(r() * 256);
  const cut = r() < 0.3 ? Math.floor(r() * out.length) : out.length;
  const tail = r() < 0.2 ? Buffer.from('{"a":'.repeat(Math.floor(r() * 200))) : Buffer.alloc(0);
  return Buffer.concat([out.subarray(0, cut), tail]);
}

function side(bytes: Buffer, type: string, r: () => number): ResponseSide {
  const headers: Array<[string, string]> = type ? [['content-type', type]] : [];
  if (r() < 0.5) headers.push(['set-cookie', `s${Math.floor(r() * 3)}=${r()}; ${r() < 0.5 ? 'Path=/;' : ''} ;=;;HttpOnly=x`]);
  if (r() < 0.3) headers.push(['x-h', String.fromCharCode(...Array.from({ length: 8 }, () => Math.floor(r() * 0xd7ff)))]);
  const body = { encoding: 'base64' as const, data: bytes.toString('base64'), size: bytes.length };
  return { status: r() < 0.9 ? 200 : 500, headers, body: storedBodyToComparable(body, r() < 0.2 ? 64 : 1 << 20), latencyMs: r() * 10 };
}

describe('diff fuzz', () => {
  it('2,000 mutated pairs: no throw, bounded differences, well-formed reports', () => {
    const r = rng(20261123);
    const rules = [compileDiffRules(), compileDiffRules({ strictNumberText: true, nullEqualsMissing: true, arrays: { '$': { mode: 'multiset' }, '$.nested.list': { mode: 'key', key: 'k' } } })];
    const acc = new DiffAccumulator(rules[0]!);
    for (let i = 0; i < 2000; i++) {
      const seed = SEEDS[i % SEEDS.length]!;
      const type = TYPES[Math.floor(r() * TYPES.length)]!;
      const a = side(mutate(seed, r), type, r);
      const b = side(mutate(seed, r), r() < 0.8 ? type : TYPES[Math.floor(r() * TYPES.length)]!, r);
      const res = compareResponses(a, b, rules[i % 2]!, { setAsideVolatile: r() < 0.5 });
      expect(res.diffs.length).toBeLessThanOrEqual(MAX_DIFFS_PER_PAIR + 10);
      for (const d of res.diffs) expect(typeof d.path).toBe('string');
      acc.addPair({ endpoint: `GET /f/${i % 3}`, exchangeId: String(i), baseline: a, candidate: b, ...(r() < 0.3 ? { baseline2: side(mutate(seed, r), type, r) } : {}) });
    }
    const report = acc.finish({ mode: 'offline', sides: { baseline: '<b>"left"</b>', candidate: 'right\u0001' } });
    const xml = renderDiffJunit(report);
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/);
    expect(xml).not.toContain('<b>');
    const html = renderDiffHtml(report);
    expect(html).not.toMatch(/<script|<b>"left"/);
  });

  it('threshold text: parsed or DIFF_THRESHOLD_INVALID, nothing else', () => {
    const r = rng(7);
    const alphabet = 'no highmediumlowmax_=,0123456789 -<diftal';
    for (let i = 0; i < 2000; i++) {
      const text = Array.from({ length: Math.floor(r() * 24) }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
      try {
        for (const t of parseDiffThresholds(text)) expect(t.max).toBeGreaterThanOrEqual(0);
      } catch (err) {
        expect(isRepriseError(err) && err.code === 'DIFF_THRESHOLD_INVALID').toBe(true);
      }
    }
  });
});

describe('report size bounds', () => {
  it('terminal and HTML stay readable however many endpoints and fields differ', async () => {
    const { renderDiffTerminal } = await import('../../../replay/diff/report/render-terminal.js');
    const acc = new DiffAccumulator(compileDiffRules());
    const json = (o: unknown): ResponseSide => {
      const t = JSON.stringify(o);
      return { status: 200, headers: [['content-type', 'application/json']], body: storedBodyToComparable({ encoding: 'utf8', data: t, size: t.length }, 1 << 20), latencyMs: 1 };
    };
    for (let e = 0; e < 400; e++) {
      const a: Record<string, number> = {};
      const b: Record<string, number> = {};
      for (let f = 0; f < 150; f++) {
        a[`f${f}`] = f;
        b[`f${f}`] = f + 1;
      }
      acc.addPair({ endpoint: `GET /e${e}`, exchangeId: String(e), baseline: json(a), candidate: json(b) });
    }
    const report = acc.finish({ mode: 'offline', sides: { baseline: 'a', candidate: 'b' } });
    expect(report.totals.findings).toBe(400 * 150);
    const text = renderDiffTerminal(report);
    expect(text).toMatch(/… 360 more endpoints/);
    expect(text).toMatch(/… 130 more findings/);
    const lines = text.split('\n');
    expect(lines.length).toBeLessThan(2000);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(400);
    const html = renderDiffHtml(report);
    expect(html).toMatch(/100 more endpoints are in diff-report\.json/);
    expect(html.length).toBeLessThan(30 << 20);
  });
});
