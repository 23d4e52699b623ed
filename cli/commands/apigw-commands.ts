import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { importApigw, newApigwImportReport } from '../../capture/apigw/apigw-import.js';
import { makePointerResolver } from '../../capture/apigw/apigw-pointer.js';
import { openDeadLetter, type DeadLetterFile } from '../../capture/apigw/dead-letter.js';
import { startIngestServer, type IngestSummary } from '../../capture/apigw/ingest-server.js';
import { RepriseError } from '../../errors.js';
import { isS3Url, makeS3Client } from '../../store/s3/s3-client.js';
import { writeExchanges } from '../../store/write-exchanges.js';
import { positiveNumber, requirePositionals, requireString, type Command, type OptionSpec, type ParsedArgs } from '../command.js';
import { REDACT_OPTIONS, redactHeadersFromArgs } from '../redact-options.js';
import { parseListenAddress } from '../../capture/listen-address.js';

const COMMON: Record<string, OptionSpec> = {
  out: { type: 'string', short: 'o', hint: 'store', description: 'store to append to (created if missing)' },
  'dead-letter': { type: 'string', hint: 'file', description: 'NDJSON file for payloads that cannot be stored (default <store>/dead-letter.ndjson)' },
  's3-endpoint': { type: 'string', hint: 'url', description: 'S3-compatible endpoint for pointer payloads and s3:// inputs (path-style); default: the AWS chain' },
  'body-cap': { type: 'string', hint: 'bytes', description: 'bytes of each body stored (default 10485760); the true size is always kept' },
  ...REDACT_OPTIONS,
  'no-redact': { type: 'boolean', description: 'store the default secret headers in clear (--redact-header ones, headers the forwarder sent as [REDACTED], and dead letters stay redacted)' },
  json: { type: 'boolean', description: 'print the summary as JSON' },
};

export const captureIngestCommand: Command = {
  path: ['capture', 'ingest'],
  args: '',
  summary: 'Be the destination of an API Gateway traffic forwarder: an HTTP endpoint that stores each POSTed payload once, durably; stops on SIGINT/SIGTERM.',
  options: {
    ...COMMON,
    listen: { type: 'string', hint: 'addr:port', description: 'address to listen on, e.g. 127.0.0.1:9000 (port 0 picks a free one)' },
    'api-key-env': { type: 'string', hint: 'NAME', description: 'environment variable holding the key senders must send in x-api-key' },
    'api-key-file': { type: 'string', hint: 'file', description: 'file holding that key (trailing newline ignored)' },
    'max-body': { type: 'string', hint: 'bytes', description: 'largest POST body accepted, else 413 (default 33554432)' },
    'dedupe-window': { type: 'string', hint: 'seconds', description: 'how long a payload is remembered to drop redeliveries (default 900)' },
  },
  examples: [
    'INGEST_KEY=$(openssl rand -hex 24) reprise capture ingest --listen 0.0.0.0:9000 --out ./store --api-key-env INGEST_KEY',
    'reprise capture ingest --listen 127.0.0.1:9000 --out ./store --api-key-file /run/secrets/ingest-key --dead-letter ./rejected.ndjson',
  ],
  async run(parsed, ctx) {
    requirePositionals(this, parsed, []);
    const out = requireString(this, parsed, 'out');
    const listen = requireString(this, parsed, 'listen');
    const address = parseListenAddress(listen);
    if (!address) throw new RepriseError('CLI_USAGE', `capture ingest: --listen "${listen}" must be addr:port`);
    const apiKey = await readApiKey(this, parsed);
    const v = parsed.values;
    const dedupeSeconds = positiveNumber(this, parsed, 'dedupe-window');
    const maxBody = positiveNumber(this, parsed, 'max-body', true);
    const bodyCap = positiveNumber(this, parsed, 'body-cap', true);
    const server = await startIngestServer({
      host: address.host,
      port: address.port,
      store: out,
      apiKey,
      deadLetterFile: deadLetterPath(this, parsed, out),
      resolvePointer: pointerResolver(parsed),
      ...(maxBody !== undefined ? { maxBodyBytes: maxBody } : {}),
      ...(dedupeSeconds !== undefined ? { dedupeWindowMs: dedupeSeconds * 1000 } : {}),
      ...(bodyCap !== undefined ? { bodyCap } : {}),
      redactHeaders: redactHeadersFromArgs(v),
      ...(ctx.log ? { log: ctx.log } : {}),
    });
    const summary = await new Promise<IngestSummary>((resolve, reject) => {
      const stop = (signal: string): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        ctx.log?.info({ signal }, 'ingest: stopping (finishing deliveries in progress, flushing the store)');
        server.close().then(resolve, reject);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    ctx.stdout.write(v.json ? `${JSON.stringify(summary, null, 2)}\n` : formatIngestSummary(summary));
    return 0;
  },
};

export const importApigwCommand: Command = {
  path: ['import', 'apigw'],
  args: '<file|dir|s3://bucket/prefix>',
  summary: 'Import archived API Gateway forwarder payloads (JSON, JSON arrays or NDJSON; files, directory trees or an S3 prefix) into a store.',
  options: {
    ...COMMON,
    'skip-invalid': { type: 'boolean', description: 'count and dead-letter malformed payloads instead of stopping at the first' },
  },
  examples: [
    'reprise import apigw ./archive --out ./store',
    'reprise import apigw s3://forwarder-archive/2026/03/ --out ./store --skip-invalid',
  ],
  async run(parsed, ctx) {
    const [input] = requirePositionals(this, parsed, ['<file|dir|s3://bucket/prefix>']);
    const out = requireString(this, parsed, 'out');
    const v = parsed.values;
    const bodyCap = positiveNumber(this, parsed, 'body-cap', true);
    const report = newApigwImportReport();
    // The dead letter gets the store's list (openDeadLetter adds the defaults even under --no-redact).
    const redactHeaders = redactHeadersFromArgs(v);
    let deadLetter: DeadLetterFile | undefined;
    // Created by the first dead letter, after the store: an import that fails before either leaves nothing behind.
    if (v['skip-invalid']) deadLetter = await openDeadLetter(deadLetterPath(this, parsed, out), { redactHeaders, createOnFirstRecord: true });
    const endpoint = v['s3-endpoint'] as string | undefined;
    const s3 = (): ReturnType<typeof makeS3Client> => makeS3Client(endpoint ? { endpoint } : {});
    try {
      const exchanges = importApigw(input!, {
        report,
        s3,
        resolvePointer: pointerResolver(parsed),
        ...(v['skip-invalid'] ? { skipInvalid: true } : {}),
        ...(deadLetter ? { deadLetter } : {}),
        ...(bodyCap !== undefined ? { bodyCap } : {}),
        redactHeaders,
      });
      const summary = await writeExchanges(exchanges, out, { onProgress: (count) => ctx.log?.info({ count, input }, 'importing') });
      if (report.skippedFiles.length > 0) ctx.log?.warn({ skipped: report.skippedFiles.length, first: report.skippedFiles.slice(0, 5) }, 'files not read (extension not .json, .ndjson, .jsonl or none)');
      if (report.invalid > 0) ctx.log?.warn({ invalid: report.invalid, deadLetter: deadLetter?.path, first: report.problems.slice(0, 5) }, 'malformed payloads skipped and dead-lettered');
      ctx.stdout.write(v.json
        ? `${JSON.stringify({ ...report, store: summary }, null, 2)}\n`
        : `imported ${summary.exchanges} exchanges from ${input} (${report.sources} ${report.sources === 1 ? 'source' : 'sources'}) into ${out}${report.invalid ? `; ${report.invalid} invalid dead-lettered to ${deadLetter?.path}` : ''}\n`);
      return 0;
    } finally {
      await deadLetter?.close();
    }
  },
};

async function readApiKey(cmd: Command, parsed: ParsedArgs): Promise<string> {
  const env = parsed.values['api-key-env'];
  const file = parsed.values['api-key-file'];
  if ((typeof env === 'string') === (typeof file === 'string')) {
    throw new RepriseError('CLI_USAGE', `${cmd.path.join(' ')}: give exactly one of --api-key-env NAME or --api-key-file FILE (senders must present the key in x-api-key)`);
  }
  // The key itself never appears in a message or a log line.
  if (typeof env === 'string') {
    const key = process.env[env];
    if (!key) throw new RepriseError('APIGW_CONFIG_INVALID', `environment variable ${env} (--api-key-env) is not set or empty`);
    return key;
  }
  let text: string;
  try {
    text = await readFile(file as string, 'utf8');
  } catch (err) {
    throw new RepriseError('APIGW_CONFIG_INVALID', `cannot read --api-key-file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err, location: { file: file as string } });
  }
  const key = text.replace(/\r?\n$/, '');
  if (key === '') throw new RepriseError('APIGW_CONFIG_INVALID', '--api-key-file is empty', { location: { file: file as string } });
  return key;
}

function deadLetterPath(cmd: Command, parsed: ParsedArgs, out: string): string {
  const given = parsed.values['dead-letter'];
  if (typeof given === 'string' && given !== '') return given;
  if (isS3Url(out)) throw new RepriseError('CLI_USAGE', `${cmd.path.join(' ')}: with an s3:// store, name a local --dead-letter file`);
  return join(out, 'dead-letter.ndjson');
}

function pointerResolver(parsed: ParsedArgs): ReturnType<typeof makePointerResolver> {
  const endpoint = parsed.values['s3-endpoint'] as string | undefined;
  // The client is made on the first pointer: most deliveries have none, and the SDK is slow to load.
  return makePointerResolver({ client: () => makeS3Client(endpoint ? { endpoint } : {}) });
}

function formatIngestSummary(s: IngestSummary): string {
  return [
    `deliveries   ${s.deliveries}`,
    `stored       ${s.accepted}`,
    `duplicates   ${s.duplicates} (redeliveries, not stored again)`,
    `rejected     ${s.rejected} (dead-lettered to ${s.deadLetterFile})`,
    `refused      ${s.unauthorized} without the key, ${s.tooLarge} too large, ${s.retryLater} told to retry`,
    `pointers     ${s.pointers} fetched from S3`,
    `store        ${s.store.dir} (${s.store.exchanges} exchanges, ${s.flushes} flushes)`,
    '',
  ].join('\n');
}
