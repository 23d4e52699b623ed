/**
 * A listen address as users write it (`--listen`, a scenario's `capture.listen`): `host:port`,
 * `[v6]:port`, or a bare port (127.0.0.1). Null when it is none of those.
 */
export function parseListenAddress(raw: string): { host: string; port: number } | null {
  const m = /^(?:(\[[^\]]+\]|[^:\s]+):)?(\d+)$/.exec(raw);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) return null;
  return { host: m[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1', port };
}
