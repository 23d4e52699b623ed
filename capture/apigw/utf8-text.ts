// Why this file exists: forwarder payloads are JSON, and JSON travels as UTF-8 (RFC 8259 §8.1);
// API Gateway itself hands the proxy Lambda text bodies as UTF-8 strings and binary ones base64
// with isBase64Encoded. Bytes that are not UTF-8 cannot be turned into text without replacing
// them with U+FFFD, which would store a body that was never sent. Every place that turns payload
// bytes into text asks here first, and refuses (naming the byte offset) instead of replacing.
import { isUtf8 } from 'node:buffer';

/**
 * Index of the first byte of the first ill-formed sequence in `bytes` (Unicode §3.9, Table 3-7:
 * no overlong forms, no surrogates, nothing above U+10FFFF, no sequence cut short), or -1 when
 * all of it is UTF-8. Valid input costs one SIMD check; only invalid input is walked byte by byte.
 *
 * @example
 * invalidUtf8At(Buffer.from([0x61, 0xe9, 0x62])) // 1
 */
export function invalidUtf8At(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return -1;
  for (let i = 0; i < bytes.length;) {
    const n = wellFormedLength(bytes, i);
    if (n === 0) return i;
    i += n;
  }
  return -1; // unreachable: isUtf8 said otherwise
}

/** Bytes of the well-formed sequence at `i`, or 0 when the sequence there is ill-formed. */
function wellFormedLength(b: Uint8Array, i: number): number {
  const b0 = b[i]!;
  if (b0 < 0x80) return 1;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf; // the allowed range of the second byte
  if (b0 >= 0xc2 && b0 <= 0xdf) n = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    if (b0 === 0xe0) lo = 0xa0; // no overlong three-byte forms
    if (b0 === 0xed) hi = 0x9f; // no UTF-16 surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    if (b0 === 0xf0) lo = 0x90; // no overlong four-byte forms
    if (b0 === 0xf4) hi = 0x8f; // nothing above U+10FFFF
  } else return 0;
  if (i + n > b.length) return 0;
  const b1 = b[i + 1]!;
  if (b1 < lo || b1 > hi) return 0;
  for (let k = 2; k < n; k++) {
    const c = b[i + k]!;
    if (c < 0x80 || c > 0xbf) return 0;
  }
  return n;
}

/**
 * The problem line for bytes that are not UTF-8: where (`offset`, counted in the input as the
 * user has it: the file, the object, the POST body) and which bytes, and what to send instead.
 *
 * @example
 * notUtf8Problem(Buffer.from([0x22, 0xe9, 0x22]), 1, 1041) // 'not UTF-8: invalid byte sequence at byte 1041 (e9 22); …'
 */
export function notUtf8Problem(bytes: Uint8Array, at: number, offset: number): string {
  const shown = [...bytes.subarray(at, at + 4)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
  return `not UTF-8: invalid byte sequence at byte ${offset} (${shown}${at + 4 < bytes.length ? ' …' : ''}); `
    + 'JSON payloads are UTF-8 text, and a binary body is sent base64-encoded with isBase64Encoded: true';
}

/**
 * Index (in UTF-16 code units) of the first unpaired surrogate in `text`, or -1. A JSON string
 * can spell one (`"\udce9"`, what Python's surrogateescape makes of a stray byte); it has no
 * UTF-8 form, so storing it as text would turn it into U+FFFD.
 *
 * @example
 * loneSurrogateAt('caf\udce9') // 3
 */
export function loneSurrogateAt(text: string): number {
  return text.search(/\p{Cs}/u);
}

/**
 * The problem text for an unpaired surrogate at `at` in `text` (see loneSurrogateAt), to which the
 * caller adds what to send instead: which one, where, and why it cannot be stored.
 *
 * @example
 * loneSurrogateProblem('caf\udce9', 3) // 'has an unpaired surrogate (\\udce9) at character 3, which is not text and has no UTF-8 bytes'
 */
export function loneSurrogateProblem(text: string, at: number): string {
  return `has an unpaired surrogate (\\u${text.charCodeAt(at).toString(16)}) at character ${at}, which is not text and has no UTF-8 bytes`;
}
