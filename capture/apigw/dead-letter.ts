// Why this file exists: a payload we cannot store must not vanish. The sender is told why (400),
// and the payload itself goes here, one NDJSON line each, so someone can fix and re-import it
// (`reprise import apigw` reads the `payload` fields back with `jq -c .payload`).
import { open, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RepriseError } from '../../errors.js';
import { DEFAULT_SECRET_HEADERS, REDACTED } from '../../transform/redact-headers.js';
import { FIELD_ALIASES, isObject } from './apigw-fields.js';
import type { PayloadPointer } from './apigw-pointer.js';
import { makeDirs } from '../../store/make-dirs.js';

export interface DeadLetterRecord {
  /** When reprise received it (ISO 8601). */
  receivedAt: string;
  /** `ingest` (with the peer address) or `file:line` / `s3://bucket/key:line`. */
  source: string;
  /** Which item of the delivery: '[3]', 'line 7', or '' for the whole of it. */
  item: string;
  problems: string[];
  /** The parsed payload, secret header values redacted; absent when it was not JSON. */
  payload?: unknown;
  /** The raw text, when it was not JSON. */
  text?: string;
  /**
   * The raw bytes, base64, when they were not even UTF-8 (so no `text` could hold them exactly):
   * `base64 -d` gives back what was sent, secret header values replaced.
   */
  textBase64?: string;
  /** The S3 object the payload came from, for pointer payloads. */
  pointer?: PayloadPointer;
  /** Why `payload` is missing although it was JSON (e.g. nested too deeply to write back). */
  payloadOmitted?: string;
}

/**
 * An append-only NDJSON dead-letter file. `append` resolves once the lines are in the kernel
 * (a write(2) to a file opened O_APPEND), so "dead-lettered" in a response is true even if the
 * process is killed right after. Appends are serialized: lines never interleave.
 *
 * @example
 * const dl = await openDeadLetter('./dead-letter.ndjson');
 * await dl.append([{ receivedAt: new Date().toISOString(), source: 'ingest', item: '', problems: ['status: missing'], payload }]);
 */
export class DeadLetterFile {
  private chain: Promise<void> = Promise.resolve();
  /** Records appended through this handle. */
  count = 0;

  /** @internal use openDeadLetter */
  constructor(readonly path: string, private file: OpenedFile | null, private readonly secrets: SecretHeaders) {}

  append(records: DeadLetterRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const text = records.map((r) => `${serialize(r, this.secrets)}\n`).join('');
    const next = this.chain.then(async () => {
      this.file ??= await openFile(this.path);
      await this.file.fh.appendFile(text);
      this.count += records.length;
    });
    this.chain = next.catch(() => undefined);
    return next.catch((err: unknown) => {
      if (err instanceof RepriseError) throw err;
      throw new RepriseError('OUTPUT_UNWRITABLE', `cannot append to dead-letter file: ${(err as Error).message}`, { cause: err, location: { file: this.path } });
    });
  }

  async close(): Promise<void> {
    await this.chain;
    await this.file?.fh.close();
  }

  /** Close after the command failed: a file this handle created and never wrote to is removed again. */
  async closeAfterError(): Promise<void> {
    await this.close();
    if (this.file?.created && this.count === 0) await rm(this.path, { force: true });
  }
}

interface OpenedFile {
  fh: FileHandle;
  /** The file did not exist before. */
  created: boolean;
}

/**
 * Open (create, append to) a dead-letter file, creating its directory. `redactHeaders` is the
 * store's list (secretHeaderNames), so what the store redacts is redacted here too; the
 * defaults are added always, even with `--no-redact` (false): a payload nobody could store is
 * kept for a person to read and fix, and credentials do not help with that.
 * With `createOnFirstRecord` nothing is created until a record is appended (an import that
 * dead-letters nothing leaves no empty file), and a path that cannot be written fails then.
 */
export async function openDeadLetter(path: string, options: { redactHeaders?: readonly string[] | false; createOnFirstRecord?: boolean } = {}): Promise<DeadLetterFile> {
  const extra = options.redactHeaders || [];
  const secrets = new SecretHeaders([...DEFAULT_SECRET_HEADERS, ...extra]);
  return new DeadLetterFile(path, options.createOnFirstRecord ? null : await openFile(path), secrets);
}

async function openFile(path: string): Promise<OpenedFile> {
  try {
    await makeDirs(dirname(path));
    try {
      return { fh: await open(path, 'ax'), created: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return { fh: await open(path, 'a'), created: false };
    }
  } catch (err) {
    throw new RepriseError('OUTPUT_UNWRITABLE', `cannot open dead-letter file: ${(err as Error).message}`, { cause: err, location: { file: path } });
  }
}

function serialize(r: DeadLetterRecord, secrets: SecretHeaders): string {
  try {
    const text = {
      ...(r.text === undefined ? {} : { text: redactTextSecrets(r.text, secrets) }),
      ...(r.textBase64 === undefined ? {} : { textBase64: redactBytesSecrets(r.textBase64, secrets) }),
    };
    return JSON.stringify(r.payload === undefined ? { ...r, ...text } : { ...r, ...text, payload: redactPayloadSecrets(r.payload, secrets) });
  } catch (err) {
    // JSON.stringify recurses: a hostile payload nested 100k levels deep cannot be written back.
    // The record still says what arrived and why it was refused; only the payload is left out.
    const { payload: _payload, ...rest } = r;
    return JSON.stringify({ ...rest, payloadOmitted: `could not be serialized (${(err as Error).message})` });
  }
}

const HEADER_FIELDS = ['request_headers', 'response_headers', ...FIELD_ALIASES.requestMultiHeaders, ...FIELD_ALIASES.responseMultiHeaders];

/** Secret header names, compiled once per dead-letter file: a set for parsed payloads, a pattern for raw text. */
class SecretHeaders {
  readonly names: ReadonlySet<string>;
  /**
   * `"Authorization": "…"` (object member) or `["Set-Cookie", "…"` (pair) in text that is not
   * JSON: a secret name, then the JSON string after it, up to its closing quote or the end.
   */
  readonly inText: RegExp;

  constructor(names: readonly string[]) {
    this.names = new Set(names.map((n) => n.toLowerCase()));
    const alternatives = [...this.names].map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
    this.inText = new RegExp(`("(?:${alternatives})"\\s*[:,]\\s*")((?:[^"\\\\]|\\\\.)*)`, 'gi');
  }
}

/**
 * A copy of a (possibly malformed) payload with secret header values replaced, so the
 * dead-letter file never holds credentials the store itself would not. Best effort: only the
 * header fields a payload normally has are looked at, in both shapes the import accepts —
 * an object of values and a list of `[name, value]` pairs.
 */
function redactPayloadSecrets(payload: unknown, secrets: SecretHeaders): unknown {
  if (!isObject(payload)) return payload;
  let copy: Record<string, unknown> | null = null;
  for (const field of HEADER_FIELDS) {
    const redacted = redactHeaderField(payload[field], secrets.names);
    if (redacted === undefined) continue;
    copy ??= { ...payload };
    copy[field] = redacted;
  }
  return copy ?? payload;
}

/** The header field with secret values replaced, or undefined when it holds none. */
function redactHeaderField(headers: unknown, secret: ReadonlySet<string>): unknown {
  if (Array.isArray(headers)) {
    const isSecretPair = (pair: unknown): boolean => Array.isArray(pair) && typeof pair[0] === 'string' && secret.has(pair[0].toLowerCase());
    if (!headers.some(isSecretPair)) return undefined;
    return headers.map((pair: unknown) => (isSecretPair(pair) ? [(pair as unknown[])[0], REDACTED, ...(pair as unknown[]).slice(2)] : pair));
  }
  if (!isObject(headers)) return undefined;
  const keys = Object.keys(headers).filter((k) => secret.has(k.toLowerCase()));
  if (keys.length === 0) return undefined;
  return { ...headers, ...Object.fromEntries(keys.map((k) => [k, REDACTED])) };
}

/**
 * Raw text that failed to parse (a broken line, a truncated body) with the values of secret
 * headers replaced, so a payload that is not even JSON does not put credentials in the
 * dead-letter file either. Best effort, like redactPayloadSecrets: JSON-shaped header fields only.
 */
function redactTextSecrets(text: string, secrets: SecretHeaders): string {
  return text.replace(secrets.inText, (_m, head: string) => `${head}${REDACTED}`);
}

/**
 * redactTextSecrets over raw bytes that are not UTF-8, leaving every other byte as it was: read
 * as latin1 (one character per byte, so the JSON punctuation and the ASCII header names match as
 * in text, and nothing is replaced), redacted, written back as latin1.
 */
function redactBytesSecrets(base64: string, secrets: SecretHeaders): string {
  return Buffer.from(redactTextSecrets(Buffer.from(base64, 'base64').toString('latin1'), secrets), 'latin1').toString('base64');
}
