// Why this file exists: an archive of forwarder payloads can be one JSON array of a million
// payloads, and JSON.parse of the whole file would hold all of it several times over. This
// splitter hands out one value's text at a time, so memory holds one payload.
import { RepriseError } from '../../errors.js';
import { invalidUtf8At, notUtf8Problem } from './utf8-text.js';

/**
 * Splits a byte stream of JSON into values without parsing them: every top-level value
 * (one document, concatenated documents, or NDJSON lines), and for a top-level array its
 * elements instead. Each value's text then goes to JSON.parse, which does the full syntax
 * check; this scanner only tracks what it must to find value boundaries:
 *
 *   OUTSIDE ──'['(root)──▶ IN_ROOT_ARRAY (elements split out; ',' between them; ']' → OUTSIDE)
 *           ──'{' '[' '"'──▶ capturing a container or string: nesting counted, strings skipped
 *             (STRING ──'\\'──▶ ESCAPE ──▶ STRING) until the nesting returns to zero → emit
 *           ──other──▶ capturing a bare token (number, true/false/null) until a delimiter → emit
 *
 * Lines count '\n' so every value says where it starts. A value whose bytes are not UTF-8 comes
 * back as a `problem` naming its byte offset in the stream (JSON is UTF-8: decoding it anyway
 * would put U+FFFD where the sender's bytes were). A value over `maxValueBytes`, a
 * stray ']' or '}', or text where a ',' belongs throws RepriseError APIGW_PAYLOAD_INVALID
 * with file:line; values before it have been handed out. The scanner cannot resynchronize
 * after such an error (it no longer knows where values start), so that is the end of the file.
 */

export interface SplitValue {
  text: string;
  /** 1-based line where the value starts. */
  line: number;
  /** Index inside its top-level array, or -1 for a top-level value. */
  index: number;
  /** Set (and `text` empty) when the value could not be kept, e.g. an NDJSON line over the limit. */
  problem?: string;
  /** With `problem`: the value's raw bytes, when they are there but are not UTF-8 (for the dead-letter file). */
  bytes?: Buffer;
}

const WS = new Set([0x20, 0x0a, 0x0d, 0x09]);
const DELIMS = new Set([0x20, 0x0a, 0x0d, 0x09, 0x2c, 0x5d, 0x7d, 0x5b, 0x7b, 0x22]);

export class JsonValueSplitter {
  private line = 1;
  private inRootArray = false;
  private index = 0;
  private expectComma = false;
  // The value being captured: nesting depth (0 = a bare token), string state, bytes so far.
  private capturing = false;
  private depth = 0;
  private token = false;
  private inString = false;
  private escape = false;
  private parts: Buffer[] = [];
  private bytes = 0;
  private startLine = 1;
  private startOffset = 0; // stream offset of the value's first byte
  private consumed = 0; // bytes of the stream before the current chunk
  private sawBom = false;
  private done: SplitValue[] = [];
  private failure: unknown = null;

  constructor(private readonly file: string, private readonly maxValueBytes = 256 * 1024 * 1024) {}

  /** Feed one chunk; returns the values completed in it. */
  push(chunk: Buffer): SplitValue[] {
    if (this.failure) throw this.failure;
    this.done = [];
    try {
      this.scan(chunk);
      this.consumed += chunk.length;
    } catch (err) {
      // Values completed before the error in this chunk are still handed out; the error follows.
      this.failure = err;
      if (this.done.length === 0) throw err;
    }
    return this.done;
  }

  private scan(chunk: Buffer): void {
    let start = this.capturing ? 0 : -1;
    let i = 0;
    if (!this.sawBom) {
      this.sawBom = true;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3; // Windows editors' byte-order mark
    }
    for (; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.capturing) {
        if (this.token) {
          if (DELIMS.has(b)) {
            this.finish(chunk, start, i);
            start = -1;
            i--; // the delimiter belongs to the enclosing level: read it again
          }
          continue;
        }
        if (b === 0x0a) this.line++;
        if (this.inString) {
          if (this.escape) this.escape = false;
          else if (b === 0x5c) this.escape = true;
          else if (b === 0x22) {
            this.inString = false;
            if (this.depth === 0) {
              this.finish(chunk, start, i + 1);
              start = -1;
            }
          }
        } else if (b === 0x22) this.inString = true;
        else if (b === 0x7b || b === 0x5b) this.depth++;
        else if (b === 0x7d || b === 0x5d) {
          if (--this.depth === 0) {
            this.finish(chunk, start, i + 1);
            start = -1;
          }
        }
        continue;
      }
      if (b === 0x0a) this.line++;
      if (WS.has(b)) continue;
      if (this.inRootArray) {
        if (b === 0x5d) {
          this.inRootArray = false;
          continue;
        }
        if (this.expectComma) {
          if (b !== 0x2c) this.fail(`expected "," or "]" after element ${this.index} of the array, found ${describe(b)}`);
          this.expectComma = false;
          this.index++;
          continue;
        }
      } else if (b === 0x5b) {
        this.inRootArray = true;
        this.index = 0;
        this.expectComma = false;
        continue;
      }
      if (b === 0x5d || b === 0x7d || b === 0x2c || b === 0x3a) this.fail(`unexpected ${describe(b)}`);
      this.capturing = true;
      this.startLine = this.line;
      this.startOffset = this.consumed + i;
      this.parts = [];
      this.bytes = 0;
      start = i;
      this.token = b !== 0x7b && b !== 0x5b && b !== 0x22;
      this.depth = b === 0x7b || b === 0x5b ? 1 : 0;
      this.inString = b === 0x22;
      this.escape = false;
    }
    if (this.capturing && start >= 0) {
      this.bytes += chunk.length - start;
      if (this.bytes > this.maxValueBytes) this.tooLarge();
      this.parts.push(chunk.subarray(start));
    }
  }

  /** At EOF: the last bare token, or an error when a value or array is unfinished. */
  end(): SplitValue[] {
    if (this.failure) throw this.failure;
    this.done = [];
    if (this.capturing && this.token) this.finish(Buffer.alloc(0), 0, 0);
    if (this.capturing) this.fail(`the file ends inside the value that starts on line ${this.startLine} (truncated?)`);
    if (this.inRootArray) this.fail('the file ends inside a JSON array (truncated?)');
    return this.done;
  }

  private finish(chunk: Buffer, start: number, end: number): void {
    this.bytes += end - start;
    if (this.bytes > this.maxValueBytes) this.tooLarge();
    this.parts.push(chunk.subarray(start, end));
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    const index = this.inRootArray ? this.index : -1;
    const bad = invalidUtf8At(bytes);
    if (bad === -1) this.done.push({ text: bytes.toString('utf8'), line: this.startLine, index });
    else this.done.push({ text: '', line: this.startLine, index, problem: notUtf8Problem(bytes, bad, this.startOffset + bad), bytes });
    this.capturing = false;
    this.parts = [];
    if (this.inRootArray) this.expectComma = true;
  }

  private tooLarge(): never {
    throw new RepriseError('APIGW_PAYLOAD_INVALID', `the value starting on this line is over the ${formatLimit(this.maxValueBytes)} limit`, { location: { file: this.file, line: this.startLine } });
  }

  private fail(message: string): never {
    throw new RepriseError('APIGW_PAYLOAD_INVALID', `invalid JSON: ${message}`, { location: { file: this.file, line: this.line } });
  }
}

/** `256 MiB`, or `1000 bytes` for limits below a MiB. */
export function formatLimit(bytes: number): string {
  return bytes >= 1048576 && bytes % 1048576 === 0 ? `${bytes / 1048576} MiB` : `${bytes} bytes`;
}

function describe(b: number): string {
  return b > 0x20 && b < 0x7f ? `"${String.fromCharCode(b)}"` : `byte 0x${b.toString(16).padStart(2, '0')}`;
}
