import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RepriseError } from '../../errors.js';

/**
 * Bind a proxy's server, turning a bind failure (port in use, no such
 * address) into CAPTURE_LISTEN after `cleanup` released what the proxy had
 * already opened (its upstream pools).
 */
export async function listenOrFail(server: Server, listen: { host: string; port: number }, cleanup: () => Promise<unknown>): Promise<AddressInfo> {
  const { host, port } = listen;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (err: unknown) => {
    await cleanup();
    throw new RepriseError('CAPTURE_LISTEN', `cannot listen on ${host}:${port}: ${(err as Error).message}`, { cause: err });
  });
  return server.address() as AddressInfo;
}
