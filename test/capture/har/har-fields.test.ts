// Why this file exists: dates, URLs and HTTP versions in HAR files come in many spellings; these
// tests pin down how each spelling is read: µs precision and offsets, raw paths and queries kept,
// and versions mapped to the Exchange's '1.1' / '2' / '3'.
import { describe, expect, it } from 'vitest';
import { normalizeHttpVersion, parseIsoMicros, readNameValues, splitUrl } from '../../../capture/har/har-fields.js';

const T = Date.UTC(2026, 2, 14, 10, 0, 0) * 1000; // 2026-03-14T10:00:00Z in µs

describe('parseIsoMicros', () => {
  it.each([
    ['2026-03-14T10:00:00Z', T],
    ['2026-03-14T10:00:00.1Z', T + 100_000],
    ['2026-03-14T10:00:00.123Z', T + 123_000],
    ['2026-03-14T10:00:00.123456Z', T + 123_456],
    ['2026-03-14T10:00:00.123456789Z', T + 123_456], // nanoseconds: cut, not rounded
    ['2026-03-14T11:00:00.123456+01:00', T + 123_456],
    ['2026-03-14T04:30:00.000-05:30', T],
    ['2026-03-14T11:00:00+0100', T],
    ['2026-03-14T11:00:00+01', T],
    ['2026-03-14T10:00:00,5Z', T + 500_000],
    ['2026-03-14 10:00:00.000Z', T],
    ['2026-03-14T10:00:00.000', T], // no offset: UTC
    ['2026-03-14T10:00Z', T],
  ])('%s', (text, want) => {
    expect(parseIsoMicros(text)).toBe(want);
  });

  it.each(['', 'yesterday', '2026-13-01T00:00:00Z', '2026-03-14', '1710410400000', '2026-03-14T10:00:00Zjunk'])('rejects %j', (text) => {
    expect(parseIsoMicros(text)).toBeNull();
  });
});

describe('splitUrl', () => {
  it('keeps path and query exactly as written and drops the fragment', () => {
    expect(splitUrl('HTTPS://Api.Test:8443/a%2Fb/../%7e?q=caf%C3%A9+x&a=1&a=2&#frag')).toEqual({
      scheme: 'https', authority: 'Api.Test:8443', path: '/a%2Fb/../%7e', query: 'q=caf%C3%A9+x&a=1&a=2&',
    });
    expect(splitUrl('http://[::1]:8080?x')).toEqual({ scheme: 'http', authority: '[::1]:8080', path: '/', query: 'x' });
    expect(splitUrl('/only/path?x=1')).toEqual({ scheme: '', authority: '', path: '/only/path', query: 'x=1' });
    expect(splitUrl('https://a.test/sp ace"quote')).toMatchObject({ path: '/sp ace"quote' });
  });

  it('drops user:password@ from the authority: it never goes on the wire and must not reach disk', () => {
    expect(splitUrl('https://ada:hunter2@api.test:8443/x?q=1')).toEqual({ scheme: 'https', authority: 'api.test:8443', path: '/x', query: 'q=1' });
    expect(splitUrl('http://a@b:p%40ss@[::1]/')).toMatchObject({ authority: '[::1]' });
  });

  it('rejects text that is not a URL', () => {
    expect(splitUrl('not a url')).toBeNull();
    expect(splitUrl('')).toBeNull();
  });
});

describe('normalizeHttpVersion', () => {
  it.each([
    ['HTTP/1.1', '1.1'], ['http/1.0', '1.0'], ['HTTP/2.0', '2'], ['HTTP/2', '2'], ['h2', '2'], ['h2c', '2'],
    ['h3', '3'], ['h3-29', '3'], ['HTTP/3', '3'], ['', null], ['unknown', null], ['SPDY/3.1', 'spdy/3.1'],
  ])('%j → %j', (v, want) => {
    expect(normalizeHttpVersion(v)).toBe(want);
  });
});

describe('readNameValues', () => {
  it('splits a value holding line breaks into one header per line (devtools joins repeated Set-Cookie with \\n)', () => {
    const res = { headers: [{ name: 'Set-Cookie', value: 'a=1; Path=/\nb=2; HttpOnly\r\n\nc=3' }, { name: 'X-One', value: 'v' }] };
    expect(readNameValues(res, 'headers', ['response'])).toEqual([['Set-Cookie', 'a=1; Path=/'], ['Set-Cookie', 'b=2; HttpOnly'], ['Set-Cookie', 'c=3'], ['X-One', 'v']]);
    // No value with a line break reaches the store: it would split the header block on replay.
    expect(readNameValues({ headers: [{ name: 'X-Evil', value: 'ok\r\nInjected: yes' }] }, 'headers', ['request']).every(([, v]) => !/[\r\n]/.test(v))).toBe(true);
  });
});
