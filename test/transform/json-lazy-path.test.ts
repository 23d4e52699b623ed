import { describe, expect, it } from 'vitest';
import { keyIsOneOf, keySet, scanJsonLazyPath } from '../../transform/json/json-lazy-path.js';
import { matchJsonPath, parseJsonPath } from '../../transform/json/json-path.js';
import { containerStarts, scanJson } from '../../transform/json/json-scanner.js';
import { HOSTILE_JSON, JSON_SAMPLES, PREFIX_SAMPLES } from './json-samples.js';

// The lazy-path scan is redact's fast path; scanJson is the reference it must agree with: the same
// values and keys, in the same order, with the same paths whenever a path is asked for, and the same
// result, on any input.

type Visit = string;

function byScanner(text: string): { visits: Visit[]; result: string } {
  const visits: Visit[] = [];
  const result = scanJson(
    text,
    (path, kind, s, e) => void visits.push(`${kind} ${s}-${e} ${JSON.stringify(path)}`),
    (path, s, e) => void visits.push(`key ${s}-${e} ${JSON.stringify(path)}`),
  );
  return { visits, result };
}

/** `ask(i)` says whether to build the path at the i-th visit; paths not built are written as `?`. */
function byLazy(text: string, ask: (i: number) => boolean): { visits: Visit[]; result: string } {
  const visits: Visit[] = [];
  const result = scanJsonLazyPath(
    text,
    (kind, s, e, _ks, _ke, scan) => void visits.push(`${kind} ${s}-${e} ${ask(visits.length) ? JSON.stringify(scan.path()) : '?'}`),
    (s, e, scan) => void visits.push(`key ${s}-${e} ${ask(visits.length) ? JSON.stringify(scan.path()) : '?'}`),
  );
  return { visits, result };
}

function sameAsScanner(text: string): void {
  const ref = byScanner(text);
  expect(byLazy(text, () => true), text.slice(0, 60)).toEqual(ref);
  // Paths asked for now and then (the parts in between change unseen) are still right.
  for (const every of [2, 3, 7]) {
    const some = byLazy(text, (i) => i % every === 0);
    expect(some.result).toBe(ref.result);
    expect(some.visits.length).toBe(ref.visits.length);
    some.visits.forEach((v, i) => expect(v, `${text.slice(0, 40)} #${i}`).toBe(i % every === 0 ? ref.visits[i] : ref.visits[i]!.replace(/ \[.*$/, ' ?')));
  }
}

describe('scanJsonLazyPath', () => {
  it('visits what scanJson visits, with the same paths, on valid input', () => {
    for (const text of JSON_SAMPLES) sameAsScanner(text);
  });

  it('stops where scanJson stops, with the same result: every prefix of a body, and hostile text', () => {
    for (const text of PREFIX_SAMPLES) {
      for (let cut = 0; cut < text.length; cut++) sameAsScanner(text.slice(0, cut));
    }
    for (const text of HOSTILE_JSON) sameAsScanner(text);
  });

  it('builds a path asked for at every value of deep nesting in time linear in the text', () => {
    // 20,000 levels, a path asked for at each: depth × values would be 4·10^8 parts.
    const deep = `${'{"k":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
    let parts = 0;
    const t0 = process.hrtime.bigint();
    expect(scanJsonLazyPath(deep, (_k, _s, _e, _ks, _ke, scan) => void (parts = scan.path().length))).toBe('ok');
    expect(parts).toBe(0); // the last value visited is the outermost object
    expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeLessThan(5_000); // a guard against the quadratic, not a benchmark
  });

  it('registers its path for containerStarts, so `$..a..b` paths keep their cache', () => {
    const text = '{"x":{"a":{"y":{"b":1}}}}';
    let starts: readonly number[] | undefined;
    let matched = false;
    const jp = parseJsonPath('$..a..b');
    scanJsonLazyPath(text, (kind, _s, _e, _ks, _ke, scan) => {
      if (kind !== 'number') return;
      const path = scan.path();
      starts = containerStarts(path)?.slice(); // live: copied
      matched = matchJsonPath(jp, path);
    });
    expect(starts).toEqual([0, 5, 10, 15]);
    expect(matched).toBe(true);
  });
});

describe('keyIsOneOf', () => {
  it('compares the raw key in place, and decodes a key written with escapes', () => {
    const text = '{"email":1,"em\\u0061il":2,"e":3,"emails":4,"a\\"b":5,"phone":6,"a\\\\b":7}';
    const spans = [...text.matchAll(/"((?:[^"\\]|\\.)*)":/g)].map((m) => [m.index, m.index + m[1]!.length + 2] as const);
    const keys = keySet(['email', 'a"b', 'phony', 'a\\b']);
    expect(spans.map(([s, e]) => keyIsOneOf(text, s, e, keys, true))).toEqual([true, true, false, false, true, false, true]);
    // A text without backslashes (the caller says so) is compared as written.
    expect(spans.slice(0, 1).concat(spans.slice(2, 4), spans.slice(5, 6)).map(([s, e]) => keyIsOneOf(text, s, e, keys, false))).toEqual([true, false, false, false]);
    expect(keyIsOneOf(text, spans[0]![0], spans[0]![1], keySet([]), true)).toBe(false);
  });
});
