// Why this file exists: NDJSON archives are read line by line so that one bad line costs one
// item, not the rest of the file (a structural scan cannot resynchronize after bad JSON).
import { formatLimit, type SplitValue } from './json-value-splitter.js';

/**
 * The non-blank lines of a byte stream, each with its 1-based line number. A line longer than
 * `maxLineBytes` is not held: it comes back as a `problem` (its bytes skipped to the next
 * newline), so a hostile or broken file cannot exhaust memory. '\r\n' endings are accepted.
 *
 * @example
 * for await (const v of splitNdjson(createReadStream('a.ndjson'), 1 << 20)) JSON.parse(v.text);
 */
export async function* splitNdjson(chunks: AsyncIterable<Buffer>, maxLineBytes: number): AsyncGenerator<SplitValue> {
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let line = 1;
  let skipping = false; // inside an over-long line
  const emit = (parts: Buffer[]): SplitValue | null => {
    let text = (parts.length === 1 ? parts[0]! : Buffer.concat(parts)).toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    return text.trim() === '' ? null : { text, line, index: -1 };
  };
  for await (const chunk of chunks) {
    let from = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, from)) {
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
    }
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
