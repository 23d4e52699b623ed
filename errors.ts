/**
 * The error catalogue. Every error a user can cause carries a stable `code`
 * (listed in docs/errors.md); the CLI prints those as one line. Anything that
 * is not a RepriseError is a bug and is printed with its stack.
 */

export type ErrorCode =
  | 'STORE_NOT_FOUND'
  | 'STORE_SCHEMA'
  | 'STORE_CORRUPT'
  | 'STORE_EXISTS'
  | 'STORE_IO'
  | 'STORE_LOCKED'
  | 'HAR_INVALID'
  | 'HAR_ENTRY_TOO_LARGE'
  | 'INPUT_UNREADABLE'
  | 'OUTPUT_UNWRITABLE'
  | 'INPUT_NOT_FOUND'
  | 'CLI_USAGE'
  | 'FILTER_INVALID'
  | 'PCAP_INVALID'
  | 'PCAP_UNSUPPORTED'
  | 'CAPTURE_LISTEN'
  | 'CAPTURE_OPTIONS_INVALID'
  | 'TRANSFORM_INVALID'
  | 'TRANSFORM_PLUGIN'
  | 'TRANSFORM_FAILED'
  | 'TRANSFORM_VARIABLE'
  | 'PROXY_OPTIONS_INVALID'
  | 'CA_EXISTS'
  | 'CA_NOT_FOUND'
  | 'CA_INVALID'
  | 'APIGW_PAYLOAD_INVALID'
  | 'APIGW_POINTER_UNRESOLVED'
  | 'APIGW_CONFIG_INVALID'
  | 'SCENARIO_INVALID'
  | 'REPLAY_OPTIONS_INVALID'
  | 'REPLAY_PROFILE_INVALID'
  | 'REPLAY_TARGET_NOT_ALLOWED'
  | 'REPLAY_RECORDED_HOST'
  | 'REPLAY_TARGET_UNTRUSTED'
  | 'REPLAY_THRESHOLD_INVALID'
  | 'REPLAY_SUMMARY_INVALID'
  | 'DIFF_OPTIONS_INVALID'
  | 'DIFF_THRESHOLD_INVALID'
  | 'DIFF_TARGET_INVALID'
  | 'DIFF_TARGET_UNREACHABLE';

export interface ErrorLocation {
  file?: string;
  /** 1-based line number inside the (decompressed) file. */
  line?: number;
  column?: number;
  /** Byte offset inside the file as stored on disk. */
  offset?: number;
}

export class RepriseError extends Error {
  override readonly name = 'RepriseError';
  readonly code: ErrorCode;
  readonly location: ErrorLocation | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; location?: ErrorLocation } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.location = options.location;
  }

  /** `file:line:col` or `file@offset` prefix, whichever is known. */
  get where(): string {
    return formatLocation(this.location);
  }
}

export function formatLocation(loc: ErrorLocation | undefined): string {
  if (!loc?.file) return '';
  if (loc.line !== undefined) return `${loc.file}:${loc.line}${loc.column !== undefined ? `:${loc.column}` : ''}`;
  if (loc.offset !== undefined) return `${loc.file} at byte ${loc.offset}`;
  return loc.file;
}

export function isRepriseError(err: unknown): err is RepriseError {
  return err instanceof RepriseError;
}
