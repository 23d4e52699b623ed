// Why this file exists: an HTTP token (RFC 9110 §5.6.2) is what a header field name and a request
// method must be. Capture (pcap, HAR, API Gateway payloads), replay and diff (extra headers) and
// scenarios all check it; it is spelled out once, here, beside the Exchange format whose headers
// and methods it describes.

/**
 * tchar as a regular-expression character class, to build larger patterns from:
 * "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
 *
 * @example
 * new RegExp(`^${TCHAR_CLASS}{1,32}$`).test('PATCH') // true
 */
export const TCHAR_CLASS = "[!#$%&'*+.^_`|~0-9A-Za-z-]";

/**
 * A whole token: a valid header field name or request method.
 *
 * @example
 * HTTP_TOKEN.test('X-Request-Id') // true
 * HTTP_TOKEN.test('Bad Header') // false
 */
export const HTTP_TOKEN = new RegExp(`^${TCHAR_CLASS}+$`);

/**
 * 1 for the bytes allowed in a token, 0 for the rest: the same set, for scanners that look at
 * raw bytes one at a time.
 *
 * @example
 * TCHAR[0x2d] // 1 ('-')
 */
export const TCHAR = new Uint8Array(256);
const ONE_TCHAR = new RegExp(`^${TCHAR_CLASS}$`);
for (let b = 0; b < 256; b++) TCHAR[b] = ONE_TCHAR.test(String.fromCharCode(b)) ? 1 : 0;
