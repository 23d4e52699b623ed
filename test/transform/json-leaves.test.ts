import { describe, expect, it } from 'vitest';
import { benchExchange } from '../../bench/transform-records.js';
import { candidateHashAt, ESCAPED, isCandidate, isCandidateOfKind, isPlainNumberAt, keyKind, keyKindAt, valueHash, type KeyKind } from '../../transform/correlate/candidate-values.js';
import { producedSites, visitResponseCandidates, type ValueSource } from '../../transform/correlate/value-sites.js';
import { scanJsonLeaves } from '../../transform/json/json-leaves.js';
import { decodeJsonString, scanJson } from '../../transform/json/json-scanner.js';
import type { Exchange } from '../../store/exchange.js';
import { HOSTILE_JSON, JSON_SAMPLES, PREFIX_SAMPLES } from './json-samples.js';

// The leaf walker is correlate's fast path; scanJson is the reference it must agree with: the same
// leaves, in the same order, named after the same nearest key, on any input.

type Leaf = [span: string, key: string];

function byScanner(text: string): Leaf[] {
  const out: Leaf[] = [];
  scanJson(text, (path, kind, s, e) => {
    if (kind !== 'string' && kind !== 'number') return;
    let key = '';
    for (let i = path.length - 1; i >= 0; i--) {
      if (typeof path[i] === 'string') {
        key = path[i] as string;
        break;
      }
    }
    out.push([text.slice(s, e), key]);
  });
  return out;
}

function byLeaves(text: string): Leaf[] {
  const out: Leaf[] = [];
  scanJsonLeaves(text, (_isString, s, e, ks, ke) => void out.push([text.slice(s, e), ks < 0 ? '' : decodeJsonString(text, ks, ke)]));
  return out;
}

describe('scanJsonLeaves', () => {
  it('visits the leaves scanJson visits, with the same nearest key, on valid input', () => {
    for (const text of JSON_SAMPLES) expect(byLeaves(text), text.slice(0, 60)).toEqual(byScanner(text));
    expect(byLeaves(JSON_SAMPLES[1]!).map((l) => l[1])).toEqual(['id', 'tags', 'tags', 'tags', '', '', 'key']);
  });

  it('stops where scanJson stops: every prefix of a body, and hostile text', () => {
    for (const text of PREFIX_SAMPLES) {
      for (let cut = 0; cut < text.length; cut++) {
        const prefix = text.slice(0, cut);
        expect(byLeaves(prefix), prefix).toEqual(byScanner(prefix));
      }
    }
    for (const text of HOSTILE_JSON) expect(byLeaves(text), text.slice(0, 40)).toEqual(byScanner(text));
  });

  it('stops when the visitor says so', () => {
    let n = 0;
    scanJsonLeaves('[1, 2, 3, 4]', () => ++n === 2);
    expect(n).toBe(2);
  });
});

describe('candidate tests on spans', () => {
  it('keyKindAt agrees with keyKind, for keys seen again, colliding and escaped', () => {
    const keys = ['id', 'orderId', 'currency', 'countryCode', 'email', 'status', 'token', 'user_id', 'key', 'postalCode', '', 'a', 'k\\u0065y', 'ke\\"y', 'sessionCode'];
    for (let round = 0; round < 3; round++) {
      for (const raw of keys) {
        const text = `{"${raw}": 1}`;
        const end = text.indexOf('":') + 1;
        expect(keyKindAt(text, 1, end), raw).toBe(keyKind(decodeJsonString(text, 1, end)));
      }
    }
    expect(keyKindAt('[1]', -1, -1)).toBe(keyKind(''));
    // Many distinct keys through the small cache: every verdict still right.
    for (let i = 0; i < 3000; i++) {
      const key = i % 3 === 0 ? `field${i}Id` : i % 3 === 1 ? `x${i}_status` : `plain${i}`;
      const text = `"${key}"`;
      expect(keyKindAt(text, 0, text.length), key).toBe(keyKind(key));
    }
  });

  it('isPlainNumberAt reads a number as the candidate test does', () => {
    for (const [n, plain] of [['12', true], ['-3.25', true], ['1e5', true], ['2E+10', true], ['1.5e', false], ['1-2', false], ['--1', false], ['1.', false], ['12.50', true]] as const) {
      const text = `[${n}]`;
      expect(isPlainNumberAt(text, 1, 1 + n.length), n).toBe(plain);
    }
  });

  it('visitResponseCandidates visits exactly the candidates of the full walk, in its order', () => {
    const sources = new Set<ValueSource>(['json', 'cookie', 'location', 'header']);
    for (let i = 256; i < 356; i++) {
      const ex = benchExchange(i);
      const seen: number[] = [];
      visitResponseCandidates(ex, sources, (h) => void seen.push(h));
      expect([...new Set(seen)], ex.request.path).toEqual([...producedSites(ex, sources).keys()].map(valueHash));
      // The reference: scanJson's leaves through the plain candidate test.
      const text = ex.response!.body!.data;
      if (!text.startsWith('{')) continue;
      const reference = byScanner(text)
        .map(([span, key]) => [span.startsWith('"') ? decodeJsonString(span, 0, span.length) : span, key] as const)
        .filter(([v, key]) => isCandidate(v, key))
        .map(([v]) => valueHash(v));
      expect(seen.slice(0, reference.length)).toEqual(reference);
    }
  });

  it('rejects on the span only what the candidate test rejects', () => {
    const body = '{"qty": 12, "id": 42, "currency": "EUR", "state": "a8Fq20LmZx93KkQ1", "x": "\\u0041B", "n": "é", "orderId": 7, "amount": 12.50, "code": "1-2-3-4-5-6"}';
    const ex = { response: { status: 200, httpVersion: '1.1', headers: [['Content-Type', 'application/json']], body: { encoding: 'utf8', data: body, size: body.length } } } as unknown as Exchange;
    const seen: number[] = [];
    visitResponseCandidates(ex, new Set(['json']), (h) => void seen.push(h));
    expect(seen).toEqual(['42', 'a8Fq20LmZx93KkQ1', '1-2-3-4-5-6'].map(valueHash));
  });

  it('candidateHashAt decides as isCandidateOfKind does, on every shape of value', () => {
    const values = [
      '42', '-1', '-12', '0', '12.50', '1e5', '1.5e', '2026-11-23', '2026-11-23T09:00:00Z', '2026-11-23 09:00', '2026-11-2', '2026-11-23x',
      'true', 'TRUE', 'none', 'nonexistent', 'ok', 'yes', 'no', 'null', 'undefined', '[redacted]', '[REDACTED]', 'tok', 'okay',
      'EUR', 'en-US', 'processing', 'delivered_late', 'Delivered', 'abcdefghijklmnop', 'a8Fq20LmZx93KkQ1', 'a8Fq20LmZx93KkQ',
      'Ada Lovelace', 'x\u00a0y1234567890abcdef', 'tab\there', 'ord_7Hq2Lm9x', 'user_1037', 'SKU-1031', 'u37', 'é', 'ééé', 'ab',
      `${'x'.repeat(4096)}`, `${'x'.repeat(4097)}`, 'with\u2003em-space9', '\u3000ideographic1', '1-2-3-4-5-6', '--', '-', '12-',
    ];
    const kinds: KeyKind[] = ['id', 'enum', 'other'];
    for (const v of values) {
      for (const kind of kinds) {
        const text = `["${v}"]`;
        const expected = isCandidateOfKind(v, kind) ? valueHash(v) : -1;
        expect(candidateHashAt(text, 2, 2 + v.length, kind), `${kind} ${JSON.stringify(v)}`).toBe(expected);
      }
    }
    expect(candidateHashAt('["a\\"]', 2, 5, 'id')).toBe(ESCAPED);
  });
});
