// Why this file exists: HAR files from long browser sessions run to hundreds of MB, and
// JSON.parse of the whole document would hold all of it (several times over) in memory.
// This scanner finds log.entries in a byte stream and hands out one entry's text at a time.
import { RepriseError } from '../../errors.js';

/**
 * Byte-level JSON scanner. It validates the whole document's syntax (so every
 * error, anywhere, comes with line:column) but only keeps the text of the
 * values inside the array at `log.entries`.
 *
 * State machine (`mode`), one byte at a time:
 *
 *   VALUE ──'{'──▶ KEY_OR_END ──'"'──▶ STRING(key) ──'"'──▶ COLON ──':'──▶ VALUE
 *         ──'['──▶ VALUE_OR_END (a value, or ']' for an empty array)
 *         ──'"'──▶ STRING ──'\\'──▶ ESCAPE ──'u'──▶ UNICODE (4 hex digits) ──▶ STRING
 *         ──'-'/digit──▶ NUMBER (ends at the first non-number byte, which is re-read)
 *         ──t/f/n──▶ LITERAL (must spell true/false/null)
 *   after any complete value: OBJ_NEXT (',' → KEY, '}' → pop) or ARR_NEXT
 *   (',' → VALUE, ']' → pop) depending on the enclosing container, or DONE at
 *   the root, where only whitespace may follow.
 *
 * A container stack holds, per level, its kind, the current key (objects) and
 * the current element index (arrays). The path of keys says where we are: a
 * value starting at depth 3 under keys log → entries is an entry, and its
 * bytes are captured (across chunks) until the stack returns to depth 3.
 * Lines count '\n'; columns count characters (UTF-8 continuation bytes do not
 * advance them).
 *
 * Field positions: to point at the exact line of a wrong field, the importer
 * scans the one bad entry again with `recordPositions`, which notes the start
 * of every value up to three levels inside the entry by path ('request.url',
 * 'request.headers.2'). The main pass does not: keys below the log object are
 * then not even decoded, which is what makes it fast (≈ 100 MB/s).
 */

export interface SourcePosition {
  /** 1-based line and column (in characters), and 0-based byte offset. */
  line: number;
  column: number;
  offset: number;
}

export interface ScannedEntry extends SourcePosition {
  /** 0-based index in log.entries. */
  index: number;
  /** The entry's raw JSON text. */
  text: string;
  /** With `recordPositions`: start of each value up to three levels inside the entry, by dotted path. */
  positions?: Map<string, SourcePosition>;
}

export interface ScannerOptions {
  /** Note where the fields of each entry start (slower; used to locate an error). */
  recordPositions?: boolean;
  /** Largest entry kept in memory (default 256 MiB: V8 strings top out near 512 MiB). */
  maxEntryBytes?: number;
  /** Deepest nesting accepted (default 512: HAR needs < 20, JSON.parse recursion needs a cap). */
  maxDepth?: number;
}

const VALUE = 0, VALUE_OR_END = 1, KEY_OR_END = 2, KEY = 3, COLON = 4, OBJ_NEXT = 5, ARR_NEXT = 6;
const STRING = 7, ESCAPE = 8, UNICODE = 9, NUMBER = 10, LITERAL = 11, DONE = 12;
const OBJ = 0, ARR = 1;
const BOM = [0xef, 0xbb, 0xbf];
const WRAP_HEAD = '{"log":{"entries":[';
const ENTRY_DEPTH = 3; // root object › log object › entries array
const MAX_KEY_BYTES = 256; // longer keys cannot be ones we look for
const MAX_NUMBER_CHARS = 512; // far beyond any real number (a double has ≤ 24 significant characters)
const NUMBER_RE = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
const EXPECTED = ['a value', 'a value or "]"', 'a property name or "}"', 'a property name', '":"', '"," or "}"', '"," or "]"'];

/**
 * Feed chunks with push(); each call returns the entries completed in it.
 * Call end() at EOF: it throws if the document was cut short or had no entries.
 *
 * @example
 * const scanner = new HarEntryScanner('session.har');
 * for await (const chunk of createReadStream('session.har')) for (const e of scanner.push(chunk)) use(JSON.parse(e.text));
 * scanner.end();
 */
export class HarEntryScanner {
  private readonly maxEntryBytes: number;
  private readonly maxDepth: number;
  private readonly recordPositions: boolean;
  /** Keys are decoded only where a path needs them: root and log, plus three levels inside entries. */
  private readonly keyDepth: number;
  private mode = VALUE;
  // The container stack, one slot per level: OBJ/ARR, current key, current element index.
  private kinds: number[] = [];
  private keys: (string | null)[] = [];
  private counts: number[] = [];
  private line = 1;
  private column = 1;
  private offset = 0;
  private strIsKey = false;
  private keyParts: Buffer[] = [];
  private keyStart = -1;
  private keyBytes = 0;
  private hexLeft = 0;
  private token = '';
  private tokenPos: SourcePosition = { line: 1, column: 1, offset: 0 };
  private literal = '';
  private chunk: Buffer = Buffer.alloc(0);
  private entry: { start: number; parts: Buffer[]; bytes: number; pos: SourcePosition; positions?: Map<string, SourcePosition> } | null = null;
  private done: ScannedEntry[] = [];
  private logPos: SourcePosition | null = null;
  private entriesSeen = false;
  private sawContent = false;
  private failure: unknown = null;

  constructor(private readonly file: string, options: ScannerOptions = {}) {
    this.maxEntryBytes = options.maxEntryBytes ?? 256 * 1024 * 1024;
    this.maxDepth = options.maxDepth ?? 512;
    this.recordPositions = options.recordPositions ?? false;
    this.keyDepth = this.recordPositions ? ENTRY_DEPTH + 3 : 2;
  }

  push(chunk: Buffer): ScannedEntry[] {
    if (this.failure) throw this.failure;
    this.chunk = chunk;
    this.done = [];
    try {
      const n = chunk.length;
      for (let i = 0; i < n; i++) {
        let b = chunk[i]!;
        const mode = this.mode;
        if (mode === STRING) {
          // Fast path (most bytes of a HAR are inside strings): run to the next quote,
          // backslash or control byte; no newline can occur, so only columns advance.
          let j = i;
          let column = this.column;
          for (; j < n; j++) {
            const c = chunk[j]!;
            if (c === 0x22 || c === 0x5c || c < 0x20) break;
            if ((c & 0xc0) !== 0x80) column++;
          }
          this.column = column;
          this.offset += j - i;
          if (j === n) break;
          i = j;
          b = chunk[i]!;
          this.stepString(b, i);
        } else if ((b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) && (mode < STRING || mode === DONE)) {
          // whitespace between tokens
        } else if (this.offset < 3 && b === BOM[this.offset] && !this.sawContent) {
          this.offset++; // a UTF-8 byte-order mark, written by some Windows tools
          continue;
        } else if (mode === ESCAPE || mode === UNICODE) this.stepEscape(b);
        else if (mode === NUMBER && isNumberByte(b)) this.addNumberChar(b);
        else this.stepStructure(b, i);
        this.offset++;
        if (b === 0x0a) {
          this.line++;
          this.column = 1;
        } else if ((b & 0xc0) !== 0x80) this.column++;
      }
      this.carryOver(chunk);
    } catch (err) {
      // Entries completed before the error are still handed out, whatever the chunking; the error follows.
      this.failure = err;
      if (this.done.length === 0) throw err;
    }
    return this.done;
  }

  /** Checks the document was complete and had log.entries; throws HAR_INVALID otherwise. */
  end(): void {
    if (this.failure) throw this.failure;
    if (this.mode !== DONE) {
      if (!this.sawContent) this.fail('file is empty', { line: 1, column: 1, offset: 0 });
      if (this.entry) this.fail(`entries[${this.counts[2]}]: file ends inside this entry (truncated?)`, this.entry.pos);
      this.fail('file ends before the JSON document is complete (truncated?)');
    }
    if (!this.logPos) this.fail('log: missing (not a HAR file?)', { line: 1, column: 1, offset: 0 });
    if (!this.entriesSeen) this.fail('log.entries: missing', this.logPos);
  }

  private stepString(b: number, i: number): void {
    if (b === 0x22) this.endString(i);
    else if (b === 0x5c) this.mode = ESCAPE;
    else if (b < 0x20) this.fail('invalid JSON: unescaped control character in a string');
  }

  private stepEscape(b: number): void {
    if (this.mode === UNICODE) {
      if (!isHexByte(b)) this.fail('invalid JSON: \\u must be followed by 4 hex digits');
      if (--this.hexLeft === 0) this.mode = STRING;
    } else if (b === 0x75) {
      this.mode = UNICODE;
      this.hexLeft = 4;
    } else if ('"\\/bfnrt'.includes(String.fromCharCode(b))) this.mode = STRING;
    else this.fail(`invalid JSON: bad escape \\${describeByte(b)} in a string`);
  }

  private stepStructure(b: number, i: number): void {
    if (this.mode === NUMBER) this.endNumber(i);
    if (this.mode === LITERAL) {
      if (b !== this.literal.charCodeAt(this.token.length)) this.fail(`invalid JSON: unexpected ${describeByte(b)} in literal ${this.literal}`);
      this.token += this.literal[this.token.length];
      if (this.token.length === this.literal.length) this.afterValue(i + 1);
      return;
    }
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) return;
    this.sawContent = true;
    switch (this.mode) {
      case VALUE_OR_END: if (b === 0x5d) return this.close(i);
      // falls through
      case VALUE: return this.beginValue(b, i);
      case KEY_OR_END: if (b === 0x7d) return this.close(i);
      // falls through
      case KEY:
        if (b !== 0x22) break;
        this.mode = STRING;
        this.strIsKey = true;
        this.keyStart = this.kinds.length <= this.keyDepth ? i : -1;
        this.keyParts = [];
        this.keyBytes = 0;
        return;
      case COLON: if (b === 0x3a) return void (this.mode = VALUE); break;
      case OBJ_NEXT:
        if (b === 0x2c) return void (this.mode = KEY);
        if (b === 0x7d) return this.close(i);
        break;
      case ARR_NEXT:
        if (b === 0x2c) return void (this.counts[this.counts.length - 1]!++, (this.mode = VALUE));
        if (b === 0x5d) return this.close(i);
        break;
      case DONE: this.fail(`invalid JSON: unexpected ${describeByte(b)} after the end of the document`);
    }
    this.fail(`invalid JSON: unexpected ${describeByte(b)}, expected ${EXPECTED[this.mode]}`);
  }

  private beginValue(b: number, i: number): void {
    const depth = this.kinds.length;
    const k = this.keys;
    if (depth === 0 && b !== 0x7b) this.fail('a HAR file must be a JSON object ({"log": {...}})');
    if (depth === 1 && k[0] === 'log') {
      this.logPos = this.here();
      if (b !== 0x7b) this.fail('log: must be an object');
    } else if (depth === 2 && k[0] === 'log' && k[1] === 'entries') {
      this.entriesSeen = true;
      if (b !== 0x5b) this.fail('log.entries: must be an array');
    } else if (depth === ENTRY_DEPTH && k[0] === 'log' && k[1] === 'entries') {
      this.entry = { start: i, parts: [], bytes: 0, pos: this.here(), ...(this.recordPositions ? { positions: new Map() } : {}) };
    } else if (this.entry?.positions && depth <= ENTRY_DEPTH + 3) {
      const path: string[] = [];
      for (let d = ENTRY_DEPTH; d < depth; d++) path.push(this.kinds[d] === OBJ ? (k[d] ?? '') : String(this.counts[d]));
      this.entry.positions.set(path.join('.'), this.here());
    }
    if (b === 0x7b || b === 0x5b) {
      if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth} levels`);
      this.kinds.push(b === 0x7b ? OBJ : ARR);
      this.keys.push(null);
      this.counts.push(0);
      this.mode = b === 0x7b ? KEY_OR_END : VALUE_OR_END;
    } else if (b === 0x22) {
      this.mode = STRING;
      this.strIsKey = false;
    } else if (b === 0x2d || (b >= 0x30 && b <= 0x39)) {
      this.mode = NUMBER;
      this.tokenPos = this.here();
      this.token = String.fromCharCode(b);
    } else if (b === 0x74 || b === 0x66 || b === 0x6e) {
      this.mode = LITERAL;
      this.literal = b === 0x74 ? 'true' : b === 0x66 ? 'false' : 'null';
      this.token = this.literal[0]!;
    } else this.fail(`invalid JSON: unexpected ${describeByte(b)}, expected ${EXPECTED[this.mode]}`);
  }

  private endString(i: number): void {
    if (!this.strIsKey) return this.afterValue(i + 1);
    this.mode = COLON;
    let key: string | null = null;
    if (this.keyStart >= 0 && this.keyBytes + (i - this.keyStart) <= MAX_KEY_BYTES) {
      const raw = this.keyParts.length === 0
        ? this.chunk.toString('utf8', this.keyStart, i + 1)
        : Buffer.concat([...this.keyParts, this.chunk.subarray(this.keyStart, i + 1)]).toString('utf8');
      key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
    }
    this.keys[this.keys.length - 1] = key;
    this.keyStart = -1;
  }

  private addNumberChar(b: number): void {
    if (this.token.length >= MAX_NUMBER_CHARS) this.fail(`invalid JSON: number longer than ${MAX_NUMBER_CHARS} characters`, this.tokenPos);
    this.token += String.fromCharCode(b);
  }

  private endNumber(i: number): void {
    if (!NUMBER_RE.test(this.token)) this.fail(`invalid JSON: malformed number ${this.token}`, this.tokenPos);
    this.afterValue(i);
  }

  private close(i: number): void {
    this.kinds.pop();
    this.keys.pop();
    this.counts.pop();
    this.afterValue(i + 1);
  }

  /** A value ended just before byte `end` of the current chunk. */
  private afterValue(end: number): void {
    const depth = this.kinds.length;
    this.mode = depth === 0 ? DONE : this.kinds[depth - 1] === OBJ ? OBJ_NEXT : ARR_NEXT;
    const entry = this.entry;
    if (!entry || depth !== ENTRY_DEPTH) return;
    entry.parts.push(this.chunk.subarray(entry.start, end));
    this.checkEntrySize(entry.bytes + end - entry.start);
    const text = Buffer.concat(entry.parts).toString('utf8');
    this.done.push({ index: this.counts[ENTRY_DEPTH - 1]!, text, ...entry.pos, ...(entry.positions ? { positions: entry.positions } : {}) });
    this.entry = null;
  }

  /** At a chunk's end, keep the part of an unfinished key or entry that lies in it. */
  private carryOver(chunk: Buffer): void {
    const inString = this.mode === STRING || this.mode === ESCAPE || this.mode === UNICODE;
    if (inString && this.strIsKey && this.keyStart >= 0) {
      this.keyBytes += chunk.length - this.keyStart;
      if (this.keyBytes <= MAX_KEY_BYTES) this.keyParts.push(Buffer.from(chunk.subarray(this.keyStart)));
      this.keyStart = this.keyBytes <= MAX_KEY_BYTES ? 0 : -1;
    }
    const entry = this.entry;
    if (entry) {
      entry.bytes += chunk.length - entry.start;
      this.checkEntrySize(entry.bytes);
      entry.parts.push(chunk.subarray(entry.start));
      entry.start = 0;
    }
  }

  private checkEntrySize(bytes: number): void {
    if (bytes > this.maxEntryBytes && this.entry) {
      const mib = (this.maxEntryBytes / 1048576).toFixed(0);
      throw new RepriseError('HAR_ENTRY_TOO_LARGE', `entries[${this.counts[ENTRY_DEPTH - 1]}]: entry is over the ${mib} MiB limit`, { location: { file: this.file, ...this.entry.pos } });
    }
  }

  private here(): SourcePosition {
    return { line: this.line, column: this.column, offset: this.offset };
  }

  private fail(message: string, pos: SourcePosition = this.here()): never {
    throw new RepriseError('HAR_INVALID', message, { location: { file: this.file, ...pos } });
  }
}

/**
 * Where the value at `path` (['request', 'headers', 2]) starts in the file,
 * found by scanning the entry's text again with positions on; the nearest
 * recorded ancestor if the value is missing, else the entry's own start.
 *
 * @example
 * const pos = locateInEntry(entry, ['request', 'url']); // { line: 14, column: 16, offset: 412 }
 */
export function locateInEntry(entry: ScannedEntry, path: readonly (string | number)[]): SourcePosition {
  let positions: Map<string, SourcePosition> | undefined;
  try {
    const scanner = new HarEntryScanner('', { recordPositions: true });
    positions = scanner.push(Buffer.from(`${WRAP_HEAD}${entry.text}]}}`))[0]?.positions;
  } catch {
    positions = undefined; // the text came from a successful scan; this is only a guard
  }
  for (let n = path.length; n > 0 && positions; n--) {
    const pos = positions.get(path.slice(0, n).join('.'));
    if (!pos) continue;
    const firstLine = pos.line === 1;
    return {
      line: entry.line + pos.line - 1,
      column: firstLine ? entry.column + pos.column - 1 - WRAP_HEAD.length : pos.column,
      offset: entry.offset + pos.offset - WRAP_HEAD.length,
    };
  }
  return { line: entry.line, column: entry.column, offset: entry.offset };
}

function isNumberByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2b || b === 0x2e || b === 0x65 || b === 0x45;
}

function isHexByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
}

function describeByte(b: number): string {
  return b > 0x20 && b < 0x7f ? `"${String.fromCharCode(b)}"` : `byte 0x${b.toString(16).padStart(2, '0')}`;
}
