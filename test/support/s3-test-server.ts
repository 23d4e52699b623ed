import type { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { makeTempDir } from './temp-dir.js';
import { makeS3Client } from '../../store/s3/s3-client.js';

/**
 * A real S3-compatible server (s3rver) on 127.0.0.1, for tests. Data lives in a
 * temp directory that survives stop()/restart() (same port, same data), so a
 * test can take S3 away mid-run and bring it back. Credentials S3RVER/S3RVER,
 * region us-east-1, path-style addressing.
 */
export interface S3TestServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  /** A client for this server (path-style, test credentials). */
  client: S3Client;
  /** The server's data directory. */
  dir: string;
  /** Env vars that point the reprise CLI (and the AWS SDK) at this server. */
  env: Record<string, string>;
  createBucket(name: string): Promise<void>;
  /** Close the server and drop every open connection (as if S3 went away). */
  stop(): Promise<void>;
  /** Start again on the same port with the same data. */
  restart(): Promise<void>;
  /** stop() if running, destroy the client, remove the data directory. */
  close(): Promise<void>;
}

export const S3_TEST_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export async function startS3TestServer(): Promise<S3TestServer> {
  const { dir, cleanup } = await makeTempDir('reprise-s3rver-');
  let server: S3rver | undefined;

  const start = async (port: number): Promise<number> => {
    const s = new S3rver({ address: '127.0.0.1', port, silent: true, directory: dir });
    const address = await s.run();
    server = s;
    return address.port;
  };

  const port = await start(0);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = await makeS3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3_TEST_CREDENTIALS });

  const stop = async (): Promise<void> => {
    const s = server;
    if (!s) return;
    server = undefined;
    const closed = s.close();
    s.httpServer?.closeAllConnections();
    await closed;
  };

  return {
    endpoint,
    port,
    client,
    dir,
    env: {
      REPRISE_S3_ENDPOINT: endpoint,
      AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
    },
    async createBucket(name) {
      const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    stop,
    async restart() {
      await stop();
      await start(port);
    },
    async close() {
      await stop();
      client.destroy();
      await cleanup();
    },
  };
}
