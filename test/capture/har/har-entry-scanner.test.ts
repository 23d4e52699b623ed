// Why this file exists: the scanner is the one byte-level parser in HAR import; these tests feed it
// tricky strings, every chunking down to one byte, and broken documents, and check that each error
// names the right line and column.
import { describe, expect, it } from 'vitest';
import { HarEntryScanner, locateInEntry, type ScannedEntry } from '../../../capture/har/har-entry-scanner.js';
import { RepriseError } from '../../../errors.js';

/** Feeds `text` in chunks of `size` bytes (1 = byte by byte) and returns every entry. */
function scan(text: string | Buffer, size = Infinity, limits = {}): ScannedEntry[] {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const scanner = new HarEntryScanner('t.har', limits);
  const out: ScannedEntry[] = [];
  const step = Number.isFinite(size) ? size : Math.max(1, bytes.length);
  for (let i = 0; i < bytes.length; i += step) out.push(...scanner.push(bytes.subarray(i, i + step)));
  scanner.end();
  return out;
}

function scanError(text: string | Buffer, size = Infinity, limits = {}): RepriseError {
  try {
    scan(text, size, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(RepriseError);
    return err as RepriseError;
  }
  throw new Error('expected HAR_INVALID');
}

const TRICKY = [
  { s: 'quote " and backslash \\ and ] } [ {', k: 'a"b' },
  { s: '\\', unicode: 'héllo wörld — 日本語 🎉', esc: '\u005d\u0022' },
  [1, -2.5e-3, 0, true, false, null, [], {}, [[[]]], ''],
  'a string entry',
  42,
];

describe('HarEntryScanner', () => {
  it('yields each entry of log.entries as raw JSON text, ignoring other fields', () => {
    const doc = JSON.stringify({ before: { entries: [9] }, log: { version: '1.2', pages: [{ entries: [8] }], entries: TRICKY, after: [7] }, z: 1 });
    const entries = scan(doc);
    expect(entries.map((e) => JSON.parse(e.text))).toEqual(TRICKY);
    expect(entries.map((e) => e.index)).toEqual([0, 1, 2, 3, 4]);
  });

  it('gives the same entries whatever the chunking, one byte at a time included', () => {
    const doc = JSON.stringify({ log: { entries: TRICKY } }, null, 2);
    const whole = scan(doc).map((e) => e.text);
    for (const size of [1, 2, 3, 5, 7, 16, 64]) expect(scan(doc, size).map((e) => e.text)).toEqual(whole);
  });

  it('splits multi-byte UTF-8 characters across chunks without damage', () => {
    const doc = JSON.stringify({ log: { entries: [{ t: '🎉日本語é'.repeat(20) }] } });
    for (const size of [1, 2, 3]) expect(JSON.parse(scan(doc, size)[0]!.text)).toEqual({ t: '🎉日本語é'.repeat(20) });
  });

  it('reads keys written with escapes and skips a UTF-8 byte-order mark', () => {
    const doc = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"\\u006cog":{"entr\\u0069es":[{"a":1}]}}')]);
    expect(scan(doc, 1).map((e) => e.text)).toEqual(['{"a":1}']);
  });

  it('records where each entry starts, and where its fields start when asked', () => {
    const doc = '{"log": {"entries": [\n  {"a": 1},\n  {"request": {\n    "url": "x",\n    "headers": [1, 2]}}\n]}}';
    const [first, second] = scan(doc, 4);
    expect(first).toMatchObject({ index: 0, line: 2, column: 3 });
    expect(second).toMatchObject({ index: 1, line: 3, column: 3 });
    expect(second!.positions).toBeUndefined();
    const recorded = scan(doc, 4, { recordPositions: true })[1]!.positions!;
    expect(recorded.get('request')).toMatchObject({ line: 3, column: 15 });
    expect(recorded.get('request.url')).toMatchObject({ line: 4, column: 12 });
    expect(recorded.get('request.headers.1')).toMatchObject({ line: 5, column: 20 });
  });

  it('locates a field of an entry in the file by scanning the entry again', () => {
    const doc = '{"log": {"entries": [\n  {"a": 1},  {"request": {"method": 5,\n    "url": "x",\n    "headers": [1, {"n": 2}]}}\n]}}';
    const entry = scan(doc)[1]!;
    const at = (path: (string | number)[]) => {
      const pos = locateInEntry(entry, path);
      expect(Buffer.from(doc).subarray(pos.offset, pos.offset + 1).toString()).not.toBe(' ');
      return pos;
    };
    expect(at(['request', 'method'])).toEqual({ line: 2, column: 37, offset: doc.indexOf('5,') });
    expect(at(['request', 'url'])).toEqual({ line: 3, column: 12, offset: doc.indexOf('"x"') });
    expect(at(['request', 'headers', 1, 'n'])).toMatchObject({ line: 4, column: 20 });
    expect(at(['request', 'missing'])).toMatchObject({ line: 2, column: 26 });
    expect(at([])).toEqual({ line: 2, column: 14, offset: entry.offset });
  });

  it('counts columns in characters, not bytes', () => {
    const err = scanError('{"log": {"entries": [], "é日🎉": x}}');
    expect(err.location).toMatchObject({ line: 1, column: 32 });
  });

  it('hands out the entries that precede a syntax error, then throws', () => {
    const scanner = new HarEntryScanner('t.har');
    const got = scanner.push(Buffer.from('{"log":{"entries":[{"a":1},{"b":2},}'));
    expect(got.map((e) => e.text)).toEqual(['{"a":1}', '{"b":2}']);
    expect(() => scanner.end()).toThrow(/unexpected "}"/);
  });

  describe('bad input: HAR_INVALID with file, line and column', () => {
    const cases: [string, string, RegExp, number, number][] = [
      ['empty file', '  \n', /file is empty/, 1, 1],
      ['not an object', '[1,2]', /must be a JSON object/, 1, 1],
      ['missing log', '{"version": 1}', /log: missing/, 1, 1],
      ['log not an object', '{\n "log": []}', /log: must be an object/, 2, 9],
      ['missing entries', '{"x": 1,\n "log": {"version": "1.2"}}', /log.entries: missing/, 2, 9],
      ['entries not an array', '{"log": {\n"entries": {}}}', /log.entries: must be an array/, 2, 12],
      ['trailing comma', '{"log": {"entries": [1,]}}', /unexpected "]", expected a value/, 1, 24],
      ['missing colon', '{"log" {"entries": []}}', /unexpected "\{", expected ":"/, 1, 8],
      ['single quotes', "{'log': 1}", /unexpected "'", expected a property name/, 1, 2],
      ['bad literal', '{"log": {"entries": [tru]}}', /unexpected "]" in literal true/, 1, 25],
      ['space inside a literal', '{"log": {"entries": [nu ll]}}', /in literal null/, 1, 24],
      ['bad number', '{"log": {"entries": [\n 01]}}', /malformed number 01/, 2, 2],
      ['bad escape', '{"log": {"entries": ["\\x"]}}', /bad escape/, 1, 24],
      ['bad unicode escape', '{"log": {"entries": ["\\u12g4"]}}', /4 hex digits/, 1, 27],
      ['raw newline in a string', '{"log": {"entries": ["a\nb"]}}', /unescaped control character/, 1, 24],
      ['garbage after the document', '{"log": {"entries": []}} x', /after the end of the document/, 1, 26],
      ['truncated inside an entry', '{"log": {"entries": [\n {"a": 1},\n {"request": {"method": "GE', /entries\[1\]: file ends inside this entry/, 3, 2],
      ['truncated after the entries', '{"log": {"entries": [{"a": 1}]', /file ends before the JSON document is complete/, 1, 31],
    ];
    for (const [name, doc, message, line, column] of cases) {
      it(name, () => {
        for (const size of [Infinity, 1]) {
          const err = scanError(doc, size);
          expect(err.code).toBe('HAR_INVALID');
          expect(err.message).toMatch(message);
          expect(err.location).toMatchObject({ file: 't.har', line, column });
        }
      });
    }

    it('too deep nesting', () => {
      const doc = `{"log": {"entries": [${'['.repeat(600)}`;
      expect(scanError(doc).message).toMatch(/nesting deeper than 512/);
    });

    it('an entry over the size limit (HAR_ENTRY_TOO_LARGE, at the entry)', () => {
      const doc = `{"log": {"entries": [\n{"big": "${'x'.repeat(5000)}"}]}}`;
      const err = scanError(doc, 100, { maxEntryBytes: 1000 });
      expect(err.code).toBe('HAR_ENTRY_TOO_LARGE');
      expect(err.location).toMatchObject({ line: 2, column: 1 });
    });
  });
});
