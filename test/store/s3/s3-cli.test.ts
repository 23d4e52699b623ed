import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeExchanges } from '../../../store/write-exchanges.js';
import { startS3TestServer, type S3TestServer } from '../../support/s3-test-server.js';
import { syntheticExchange } from '../../support/synthetic-exchange.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { expectOneLineError, runCli } from '../../support/run-cli.js';

/** The real `reprise` executable against s3rver, as a user would run it. */

const sampleHar = fileURLToPath(new URL('../../fixtures/har/sample-api.har', import.meta.url));
let s3: S3TestServer;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
const written = Array.from({ length: 2000 }, (_, i) => syntheticExchange(i));

beforeAll(async () => {
  s3 = await startS3TestServer();
  tmp = await makeTempDir();
  await s3.createBucket('reprise-cli');
  await writeExchanges(written, 's3://reprise-cli/store', { s3: { client: s3.client }, spoolDir: join(tmp.dir, 'spool'), segmentBytes: 4 * 1024 });
  // runCli passes this process's env on: credentials and a spool for the child, but no endpoint (flags give it).
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', REPRISE_SPOOL_DIR: join(tmp.dir, 'cli-spool') });
});
afterAll(async () => {
  await s3.close();
  await tmp.cleanup();
});

describe('reprise CLI on s3:// stores', () => {
  it('store inspect and store cat read an S3 store, with nothing on stderr', async () => {
    const inspect = await runCli(['store', 'inspect', 's3://reprise-cli/store', '--s3-endpoint', s3.endpoint, '--json']);
    expect(inspect.stderr).toBe('');
    expect(inspect.code).toBe(0);
    const summary = JSON.parse(inspect.stdout) as { exchanges: number; segments: number; unsealedSegments: number };
    expect(summary).toMatchObject({ exchanges: 2000, unsealedSegments: 0 });
    expect(summary.segments).toBeGreaterThan(1);

    const cat = await runCli(['store', 'cat', 's3://reprise-cli/store', '--s3-endpoint', s3.endpoint]);
    expect(cat.stderr).toBe('');
    expect(cat.code).toBe(0);
    expect(cat.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual(written);

    const some = await runCli(['store', 'cat', 's3://reprise-cli/store', '--s3-endpoint', s3.endpoint, '--status', '5xx', '--limit', '3']);
    expect(some.stdout.trimEnd().split('\n')).toHaveLength(3);
  });

  it('import har writes to S3 (endpoint from REPRISE_S3_ENDPOINT) and export har reads it back', async () => {
    const env = process.env;
    env.REPRISE_S3_ENDPOINT = s3.endpoint;
    try {
      const imp = await runCli(['import', 'har', sampleHar, '--out', 's3://reprise-cli/har']);
      expect(imp.stderr).toBe('');
      expect(imp.code).toBe(0);
      const n = Number(/imported (\d+)/.exec(imp.stdout)?.[1]);
      expect(n).toBeGreaterThan(0);
      const out = join(tmp.dir, 'back.har');
      const exp = await runCli(['export', 'har', 's3://reprise-cli/har', '--out', out]);
      expect(exp.code).toBe(0);
      expect(exp.stdout).toContain(`exported ${n} exchanges`);
    } finally {
      delete env.REPRISE_S3_ENDPOINT;
    }
  });

  it('a missing bucket or an empty prefix is STORE_NOT_FOUND on one line (no SDK warning)', async () => {
    const noBucket = await runCli(['store', 'inspect', 's3://no-such-bucket/x', '--s3-endpoint', s3.endpoint]);
    expect(noBucket.code).toBe(1);
    expect(expectOneLineError(noBucket, 'STORE_NOT_FOUND')).toContain('no-such-bucket');
    const empty = await runCli(['store', 'cat', 's3://reprise-cli/nothing-here', '--s3-endpoint', s3.endpoint]);
    expect(empty.code).toBe(1);
    expect(expectOneLineError(empty, 'STORE_NOT_FOUND')).toContain('s3://reprise-cli/nothing-here');
  });

  it('an unreachable endpoint is STORE_IO on one line naming it', async () => {
    const dead = 'http://127.0.0.1:9'; // discard port: nothing listens
    const r = await runCli(['store', 'inspect', 's3://reprise-cli/store', '--s3-endpoint', dead]);
    expect(r.code).toBe(1);
    expect(expectOneLineError(r, 'STORE_IO')).toContain(`cannot reach S3 at ${dead}`);
  });
});
