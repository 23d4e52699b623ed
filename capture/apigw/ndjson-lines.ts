// Why this file exists: NDJSON archives are read line by line so that one bad line costs one
// item, not the rest of the file (a structural scan cannot resynchronize after bad JSON).
import { formatLimit, type SplitValue } from './json-value-splitter.js';
import { invalidUtf8At, notUtf8Problem } from './utf8-text.js';

/**
 * The non-blank lines of a byte stream, each with its 1-based line number. A line longer than
 * `maxLineBytes` is not held: it comes back as a `problem` (its bytes skipped to the next
 * newline), so a hostile or broken file cannot exhaust memory. A line that is not UTF-8 comes
 * back as a `problem` naming the byte offset in the stream, with its bytes (never as text with
 * U+FFFD in it). '\r\n' endings and a leading byte-order mark are accepted.
 *
 * @example
 * for await (const v of splitNdjson(createReadStream('a.ndjson'), 1 << 20)) JSON.parse(v.text);
 */
export async function* splitNdjson(chunks: AsyncIterable<Buffer>, maxLineBytes: number): AsyncGenerator<SplitValue> {
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let line = 1;
  let skipping = false; // inside an over-long line
  let consumed = 0; // bytes of the stream before the current chunk
  let lineStart = 0; // stream offset of the current line's first byte
  let first = true;
  const emit = (parts: Buffer[]): SplitValue | null => {
    let bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1);
    const bad = invalidUtf8At(bytes);
    if (bad !== -1) return { text: '', line, index: -1, problem: notUtf8Problem(bytes, bad, lineStart + bad), bytes };
    const text = bytes.toString('utf8');
    return text.trim() === '' ? null : { text, line, index: -1 };
  };
  for await (const chunk of chunks) {
    let from = 0;
    if (first && chunk.length > 0) {
      first = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) from = lineStart = 3; // Windows editors' byte-order mark
    }
    for (let nl = chunk.indexOf(0x0a, from); nl !== -1; nl = chunk.indexOf(0x0a, from)) {
      if (!skipping) {
        carryBytes += nl - from;
        if (carryBytes > maxLineBytes) yield tooLong(line, maxLineBytes);
        else {
          const v = emit([...carry, chunk.subarray(from, nl)]);
          if (v) yield v;
        }
      }
      skipping = false;
      carry = [];
      carryBytes = 0;
      line++;
      from = nl + 1;
      lineStart = consumed + from;
    }
    consumed += chunk.length;
    if (skipping || from === chunk.length) continue;
    carryBytes += chunk.length - from;
    if (carryBytes > maxLineBytes) {
      yield tooLong(line, maxLineBytes);
      skipping = true;
      carry = [];
    } else carry.push(chunk.subarray(from));
  }
  if (!skipping && carry.length > 0) {
    const v = emit(carry);
    if (v) yield v;
  }
}

function tooLong(line: number, max: number): SplitValue {
  return { text: '', line, index: -1, problem: `line is longer than the ${formatLimit(max)} limit` };
}
