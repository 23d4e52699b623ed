import { isIP } from 'node:net';
import tls from 'node:tls';
import { RepriseError } from '../../errors.js';
import type { ReplayTarget } from '../safety/target-policy.js';

/**
 * autocannon connects with `rejectUnauthorized: false` whatever it is given
 * (lib/httpClient.js), so `--max` would talk to any certificate while the
 * timed replay (undici) refuses one that does not verify. Before the run, one
 * TLS handshake with the same trust (system CAs, or `--ca-file`) checks the
 * target's certificate and host name; `--insecure` skips it, as it skips
 * verification in the timed replay. A target that cannot be reached at all is
 * not refused here: the run reports its connection errors as usual.
 *
 * This verifies the endpoint once, not every autocannon connection; a
 * man in the middle on some connections only would not be caught.
 *
 * @example
 * await verifyTargetTls(checkTarget('https://staging.internal'), { ca: await readFile('ca.pem'), timeoutMs: 10_000 });
 */
export async function verifyTargetTls(target: ReplayTarget, o: { ca?: Buffer; timeoutMs: number }): Promise<void> {
  if (target.url.protocol !== 'https:') return;
  const host = target.url.hostname.replace(/^\[|\]$/g, '');
  // Node gives the reason as a code string (DEPTH_ZERO_SELF_SIGNED_CERT, ERR_TLS_CERT_ALTNAME_INVALID, …).
  const failure = await new Promise<string | null>((resolve) => {
    const socket = tls.connect({
      host,
      port: Number(target.url.port || 443),
      ...(isIP(host) === 0 && { servername: host }),
      ...(o.ca !== undefined && { ca: o.ca }),
      // Verdict read from `authorized` below, so an unreachable target is told apart from an untrusted one.
      rejectUnauthorized: false,
    });
    socket.setTimeout(o.timeoutMs, () => {
      socket.destroy();
      resolve(null);
    });
    socket.once('secureConnect', () => {
      const reason = socket.authorized ? null : String(socket.authorizationError ?? 'not trusted');
      socket.destroy();
      resolve(reason);
    });
    socket.once('error', () => resolve(null));
  });
  if (failure !== null) {
    throw new RepriseError('REPLAY_TARGET_UNTRUSTED', `${target.origin}: the certificate does not verify (${failure}); trust its CA with --ca-file, or pass --insecure for a test setup`);
  }
}
