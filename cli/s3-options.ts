import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Logger } from '../log.js';
import type { OptionSpec, ParsedArgs } from './command.js';

/**
 * Flags for `s3://bucket/prefix` stores, spread into the options of every
 * command that reads or writes a store. main() turns them into the
 * REPRISE_S3_* environment for the command's run (store/s3/s3-client.ts reads
 * it), so no library signature changes for them.
 */
export const S3_OPTIONS: Record<string, OptionSpec> = {
  's3-endpoint': { type: 'string', hint: 'url', description: 'S3-compatible server for s3:// stores (MinIO, s3rver, LocalStack); implies path-style (env REPRISE_S3_ENDPOINT)' },
  's3-region': { type: 'string', hint: 'region', description: 'region for s3:// stores (default: AWS_REGION / ~/.aws/config; us-east-1 with --s3-endpoint)' },
  's3-path-style': { type: 'boolean', description: 'path-style S3 addressing (endpoint/bucket/key); on by default with --s3-endpoint' },
};

const ENV: Record<string, string> = { 's3-endpoint': 'REPRISE_S3_ENDPOINT', 's3-region': 'REPRISE_S3_REGION', 's3-path-style': 'REPRISE_S3_PATH_STYLE' };

/** Set the REPRISE_S3_* variables from the flags given; returns a function that restores the previous values. */
export function applyS3Options(values: ParsedArgs['values']): () => void {
  const saved: Array<[string, string | undefined]> = [];
  for (const [flag, name] of Object.entries(ENV)) {
    const v = values[flag];
    if (v === undefined || v === false) continue;
    saved.push([name, process.env[name]]);
    process.env[name] = String(v);
  }
  return () => {
    for (const [name, old] of saved) {
      if (old === undefined) delete process.env[name];
      else process.env[name] = old;
    }
  };
}

interface UploadEvent {
  type: string;
  url?: string;
  attempt?: number;
  error?: string;
  delayMs?: number;
  spoolDir?: string;
  pending?: number;
  afterRetries?: number;
  records?: number;
  file?: string;
}

/**
 * Log S3 upload events of store writers through the command's logger:
 * the first failure and every 10th after it, the recovery, and segments left
 * in the spool at close. Returns the unsubscribe function.
 */
export function logS3Events(log: Logger | undefined): () => void {
  if (!log) return () => undefined;
  const onEvent = (message: unknown): void => {
    const e = message as UploadEvent;
    if (e.type === 'retry' && (e.attempt === 1 || e.attempt! % 10 === 0)) {
      log.warn({ store: e.url, attempt: e.attempt, error: e.error, retryInMs: e.delayMs, spool: e.spoolDir }, 'S3 upload failed; segments stay in the spool and are retried');
    } else if (e.type === 'uploaded' && (e.afterRetries ?? 0) > 0) {
      log.info({ store: e.url, afterRetries: e.afterRetries }, 'S3 uploads resumed');
    } else if (e.type === 'pending') {
      log.warn({ store: e.url, pending: e.pending, spool: e.spoolDir, error: e.error }, 'segments not uploaded yet: kept in the spool; the next writer of this store uploads them');
    } else if (e.type === 'recovered') {
      log.warn({ store: e.url, file: e.file, records: e.records }, 'recovered records from a spool segment a killed writer left open');
    }
  };
  subscribe('reprise:store:s3-upload', onEvent);
  return () => unsubscribe('reprise:store:s3-upload', onEvent);
}
