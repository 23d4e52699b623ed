import type { IncomingMessage } from 'node:http';
import type { InterceptedConnection } from './forward-connect.js';
import type { ForwardTarget } from './forward-relay.js';

/**
 * Where a forward-proxy request goes. An absolute-form request names its
 * origin in the URI (RFC 9112 §3.2.2: the URI's authority wins over Host); a
 * request inside an intercepted tunnel goes where the CONNECT said, whatever
 * its Host claims — Host only names it in the record.
 */

/**
 * The target of an absolute-form request (`GET http://host:port/path`), or null for anything else.
 *
 * @example
 * absoluteFormTarget('http://api.test:8080/a?b=1', () => false)
 * // { scheme: 'http', origin: 'http://api.test:8080', authority: 'api.test:8080', path: '/a?b=1', upstream: 'api.test:8080', rewriteHost: true, record: true }
 */
export function absoluteFormTarget(url: string, passThrough: (host: string) => boolean): ForwardTarget | null {
  // Userinfo is dropped: credentials never belong in a request line sent on.
  const m = /^(https?):\/\/(?:[^/?#@]*@)?([^/?#]+)(.*)$/i.exec(url);
  if (!m) return null;
  const scheme = m[1]!.toLowerCase() as 'http' | 'https';
  const authority = m[2]!;
  const port = /:(\d+)$/.exec(authority)?.[1];
  const bare = authority.replace(/:\d+$/, '');
  const hostPort = `${bare}:${port ?? (scheme === 'https' ? 443 : 80)}`;
  const rest = m[3]!.split('#')[0]!;
  return {
    scheme,
    origin: `${scheme}://${hostPort}`,
    authority,
    path: rest.startsWith('/') ? rest : `/${rest}`,
    upstream: hostPort,
    rewriteHost: true,
    record: !passThrough(bare.replace(/^\[|\]$/g, '').toLowerCase()),
  };
}

/** The target of a request that arrived inside an intercepted CONNECT tunnel. */
export function tunnelRequestTarget(req: IncomingMessage, conn: InterceptedConnection): ForwardTarget {
  const scheme = conn.tls ? 'https' : 'http';
  const url = req.url ?? '/';
  const path = url.startsWith('/') || url === '*' ? url : url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '') || '/';
  return {
    scheme,
    origin: `${scheme}://${conn.target.authority}`,
    authority: req.headers.host ?? conn.target.authority,
    path,
    upstream: conn.target.authority,
    rewriteHost: false,
    record: true,
  };
}
