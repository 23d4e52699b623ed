import { describe, expect, it } from 'vitest';
import { HTTP_TOKEN, TCHAR, TCHAR_CLASS } from '../../store/http-token.js';
import { sourcesContaining } from '../support/source-files.js';

// RFC 9110 §5.6.2, as the RFC lists it.
const RFC_TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

describe('the HTTP token (RFC 9110 tchar)', () => {
  it('the pattern and the byte table hold exactly the characters RFC 9110 lists', () => {
    for (let b = 0; b < 256; b++) {
      const c = String.fromCharCode(b);
      const expected = RFC_TCHARS.includes(c);
      expect([b, TCHAR[b] === 1, HTTP_TOKEN.test(c)]).toEqual([b, expected, expected]);
    }
    expect(HTTP_TOKEN.test('')).toBe(false);
    expect(HTTP_TOKEN.test('X-Request-Id')).toBe(true);
    expect(HTTP_TOKEN.test('X-Request-Id ')).toBe(false);
  });

  it('is written once: every header-name and method check uses store/http-token.ts', async () => {
    expect(await sourcesContaining(TCHAR_CLASS.slice(1, -1))).toEqual(['store/http-token.ts']);
  });
});
