import { describe, expect, it } from 'vitest';
import { JsonValueSplitter, type SplitValue } from '../../../capture/apigw/json-value-splitter.js';
import { splitNdjson } from '../../../capture/apigw/ndjson-lines.js';

function split(text: string | Buffer, chunkSize = Infinity, max?: number): SplitValue[] {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const s = new JsonValueSplitter('t.json', max);
  const out: SplitValue[] = [];
  for (let i = 0; i < bytes.length; i += Math.min(chunkSize, bytes.length)) out.push(...s.push(bytes.subarray(i, i + chunkSize)));
  out.push(...s.end());
  return out;
}

// A deterministic PRNG, so a failing fuzz case can be replayed.
function rng(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
}

describe('JsonValueSplitter', () => {
  it('splits a top-level array into elements, with their lines, and top-level values as themselves', () => {
    const doc = '[\n  {"a": "x]}"},\n  [1, {"b": "\\"["}],\n  "s",\n  -1.5e3,\n  true\n]\n{"c": 1} {"d": 2}\n"tail"';
    const values = split(doc);
    expect(values.map((v) => [JSON.parse(v.text), v.line, v.index])).toEqual([
      [{ a: 'x]}' }, 2, 0], [[1, { b: '"[' }], 3, 1], ['s', 4, 2], [-1500, 5, 3], [true, 6, 4], [{ c: 1 }, 8, -1], [{ d: 2 }, 8, -1], ['tail', 9, -1],
    ]);
    expect(split('\uFEFF[{"a":1}]').map((v) => v.text)).toEqual(['{"a":1}']); // BOM skipped
    expect(split('[]  \n')).toEqual([]);
  });

  it('gives the same values whatever the chunking (fuzz)', () => {
    const next = rng(7);
    for (let round = 0; round < 200; round++) {
      const items = Array.from({ length: 1 + Math.floor(next() * 6) }, (_, i) => ({ i, s: 'é"\\]}'.repeat(Math.floor(next() * 4)), n: [next(), { deep: [[[]]] }] }));
      const doc = next() < 0.5 ? JSON.stringify(items, null, next() < 0.5 ? 2 : 0) : items.map((x) => JSON.stringify(x)).join('\n');
      const got = split(doc, 1 + Math.floor(next() * 17)).map((v) => JSON.parse(v.text) as unknown);
      expect(got).toEqual(items);
    }
  });

  it('reports structural damage with the line, after handing out the values before it', () => {
    const s = new JsonValueSplitter('t.json');
    expect(s.push(Buffer.from('[{"a":1},\n{"b":2} {"c":3}]')).map((v) => v.text)).toEqual(['{"a":1}', '{"b":2}']);
    expect(() => s.end()).toThrow(/expected "," or "]" after element 1/);
    expect(() => split('{"a": 1}\n]')).toThrow(expect.objectContaining({ code: 'APIGW_PAYLOAD_INVALID', location: { file: 't.json', line: 2 } }));
    expect(() => split('[{"a": 1}, {"b": ')).toThrow(/ends inside the value that starts on line 1 \(truncated\?\)/);
    expect(() => split('[{"a": 1}')).toThrow(/ends inside a JSON array/);
    expect(() => split(`[${'x'.repeat(2000)}]`, 100, 1000)).toThrow(/over the 1000 bytes limit/);
  });

  it('keeps memory bounded on hostile input: a deep array is one value of counted depth, not a stack', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const values = split(`[${deep}]`, 4096);
    expect(values).toHaveLength(1);
    expect(values[0]!.text.length).toBe(400_000);
  });
});

describe('splitNdjson', () => {
  async function* chunks(text: string, size: number): AsyncGenerator<Buffer> {
    const b = Buffer.from(text);
    for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
  }
  async function lines(text: string, size: number, max = 1 << 20): Promise<SplitValue[]> {
    const out: SplitValue[] = [];
    for await (const v of splitNdjson(chunks(text, size), max)) out.push(v);
    return out;
  }

  it('yields non-blank lines with their numbers across any chunking, CRLF included', async () => {
    for (const size of [1, 3, 64]) {
      const got = await lines('{"a":1}\r\n\n  \n{"b":2}\n{"c":3}', size);
      expect(got.map((v) => [v.text, v.line])).toEqual([['{"a":1}', 1], ['{"b":2}', 4], ['{"c":3}', 5]]);
    }
  });

  it('reports an over-long line as a problem and goes on with the next', async () => {
    const got = await lines(`{"a":1}\n${'x'.repeat(5000)}\n{"b":2}\n`, 100, 1000);
    expect(got.map((v) => [v.text, v.line, v.problem !== undefined])).toEqual([['{"a":1}', 1, false], ['', 2, true], ['{"b":2}', 3, false]]);
  });
});
