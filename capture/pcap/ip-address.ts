/**
 * IP addresses as text, one spelling per address so that segments can be
 * grouped and filtered by plain string comparison: dotted quads for IPv4, and
 * for IPv6 the RFC 5952 form (lower-case hex, no leading zeros, the first
 * longest run of two or more zero groups written as "::"). That is also how
 * the WHATWG URL parser writes IPv6 hosts, which normalizeIp relies on; note
 * that an IPv4-mapped address is therefore written `::ffff:a00:1`, not
 * `::ffff:10.0.0.1`.
 */
import { isIP } from 'node:net';

export function formatIPv4(buf: Buffer, at: number): string {
  return `${buf.readUInt8(at)}.${buf.readUInt8(at + 1)}.${buf.readUInt8(at + 2)}.${buf.readUInt8(at + 3)}`;
}

export function formatIPv6(buf: Buffer, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(at + 2 * i));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (g: number) => g.toString(16);
  if (bestStart < 0) return groups.map(hex).join(':');
  return `${groups.slice(0, bestStart).map(hex).join(':')}::${groups.slice(bestStart + bestLength).map(hex).join(':')}`;
}

/**
 * The spelling formatIPv4/formatIPv6 would give `text`, or undefined when it is
 * not an IP address.
 *
 * @example
 * normalizeIp('2001:DB8:0:0:0:0:0:1'); // '2001:db8::1'
 */
export function normalizeIp(text: string): string | undefined {
  const version = isIP(text);
  if (version === 4) return text;
  if (version !== 6) return undefined;
  const bare = text.replace(/%.*$/, ''); // a zone id (fe80::1%eth0) is not part of the address on the wire
  try {
    return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}
