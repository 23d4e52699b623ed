import { describe, expect, it } from 'vitest';
import { DETECTOR_NAMES, DetectorSet, isCardNumber, luhn } from '../../transform/redact/detectors.js';

const all = new DetectorSet(DETECTOR_NAMES);
const kinds = (text: string): string[] => all.find(text).map((m) => `${m.kind}:${text.slice(m.start, m.end)}`);

describe('detectors', () => {
  it('find emails (also percent-encoded in URLs), keeping the surrounding text', () => {
    expect(kinds('contact ada@example.test, or zoe.s+tag@mail.example.co.uk.')).toEqual(['email:ada@example.test', 'email:zoe.s+tag@mail.example.co.uk']);
    expect(kinds('/invite?to=ada%40example.test&x=1')).toEqual(['email:ada%40example.test']);
    expect(kinds('not@an-email and a@b')).toEqual([]);
  });

  it('find card numbers only with an issuer prefix, a valid length and the Luhn check', () => {
    expect(kinds('card 4111 1111 1111 1111 exp')).toEqual(['card:4111 1111 1111 1111']);
    expect(kinds('4111-1111-1111-1111')).toEqual(['card:4111-1111-1111-1111']);
    expect(kinds('{"pan":5555555555554444}')).toEqual(['card:5555555555554444']);
    expect(kinds('amex 378282246310005')).toEqual(['card:378282246310005']);
    expect(kinds('4111 1111 1111 1112')).toEqual([]); // Luhn fails
    expect(kinds('start 1773482401590000 µs')).toEqual([]); // a timestamp, not an issuer prefix
    expect(kinds('id 41111111111111111111111')).toEqual([]); // 23 digits: part of a longer number
    expect(luhn('79927398713')).toBe(true);
    expect(isCardNumber('6011111111111117')).toBe(true);
  });

  it('find a card number with more digits after or before it: whole groups apart, or up to four digits glued on after', () => {
    // An expiry, a CVV or a reference written next to the card, as separate groups: the card is masked, the rest kept.
    expect(kinds('card 4111111111111111 12/26')).toEqual(['card:4111111111111111']);
    expect(kinds('5555555555554444 01')).toEqual(['card:5555555555554444']);
    expect(kinds('4111 1111 1111 1111 123')).toEqual(['card:4111 1111 1111 1111']);
    expect(kinds('4111-1111-1111-1111-12')).toEqual(['card:4111-1111-1111-1111']);
    expect(kinds('card=4111+1111+1111+1111+123')).toEqual(['card:4111+1111+1111+1111']);
    expect(kinds('ref 12 4111111111111111')).toEqual(['card:4111111111111111']);
    expect(kinds('12-4111-1111-1111-1111')).toEqual(['card:4111-1111-1111-1111']);
    expect(kinds('4111 1111 1111 1111 5555 5555 5555 4444')).toEqual(['card:4111 1111 1111 1111', 'card:5555 5555 5555 4444']);
    // Glued on after (an expiry or CVV with no separator) in a number too long to be a card: the whole
    // number is masked, so no digit of it is left.
    expect(kinds('41111111111111111234')).toEqual(['card:41111111111111111234']);
    expect(kinds('{"track":"41111111111111111226"}')).toEqual(['card:41111111111111111226']);
    expect(kinds('{"ref":55555555555544440126}')).toEqual(['card:55555555555544440126']);
    // Bounded: a number of 13–19 digits is judged whole (ids and timestamps that long are common), and
    // five digits after, digits glued on before, a longer number or a list of short ones are not looked through.
    expect(kinds('4111111111111111123')).toEqual([]);
    expect(kinds('411111111111111112345')).toEqual([]);
    expect(kinds('ref 164111111111111111')).toEqual([]);
    expect(kinds('hash 4111111111111111000000000000000000000000')).toEqual([]);
    expect(kinds('1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30')).toEqual([]);
  });

  it('find card numbers URL-encoded in text nobody decoded (+ and %20 separators), still Luhn-checked', () => {
    expect(kinds('pay?card=4111%201111%201111%201111&exp=12')).toEqual(['card:4111%201111%201111%201111']);
    expect(kinds('card=4111+1111+1111+1111')).toEqual(['card:4111+1111+1111+1111']);
    expect(kinds('amex=3782%20822463%2010005')).toEqual(['card:3782%20822463%2010005']);
    expect(kinds('Card:%204111%201111%201111%201111')).toEqual(['card:4111%201111%201111%201111']); // right after a %20
    expect(kinds('id 12%204111111111111111')).toEqual(['card:4111111111111111']); // a whole group after another
    expect(kinds('card=4111+1111+1111+1112')).toEqual([]); // Luhn fails
    expect(kinds('sum 1+2+3 at 2026-03-14T10:00:01+02:00, 50%20off')).toEqual([]);
    // The pre-scan that decides whether a JSON body is looked at closely lets them through.
    const cards = new DetectorSet(['card']);
    for (const text of ['{"u":"/pay?c=4111%201111%201111%201111"}', '{"u":"/pay?c=4111+1111+1111+1111"}']) {
      expect(cards.maybe(text), text).toBe(true);
      expect(cards.hints(text).length, text).toBeGreaterThan(0);
    }
  });

  it('find JWTs, AWS access key ids and bearer tokens', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMiLCJuYW1lIjoiQWRhIn0.c2lnbmF0dXJl';
    expect(kinds(`token=${jwt}`)).toEqual([`jwt:${jwt}`]);
    expect(kinds(`Bearer ${jwt}`)).toEqual([`jwt:${jwt}`]); // one span, named by the more specific detector
    expect(kinds('key AKIAIOSFODNN7EXAMPLE and ASIAY34FZKBOKMUTVV7A')).toEqual(['aws-key:AKIAIOSFODNN7EXAMPLE', 'aws-key:ASIAY34FZKBOKMUTVV7A']);
    expect(kinds('xAKIAIOSFODNN7EXAMPLE')).toEqual([]);
    expect(kinds('Authorization: Bearer 9f8e7d6c5b4a39281706')).toEqual(['bearer:9f8e7d6c5b4a39281706']);
    expect(kinds('WWW-Authenticate: Bearer realm="api"')).toEqual([]);
  });

  it('find phone numbers but not dates, times, IPs, versions or ids', () => {
    expect(kinds('call +1 415 555 2671 or (415) 555-2671 or +14155552671 or +44 20 7946 0958')).toEqual([
      'phone:+1 415 555 2671', 'phone:(415) 555-2671', 'phone:+14155552671', 'phone:+44 20 7946 0958',
    ]);
    // A tel: URI's number (links in HTML and JSON); other colons still stop it (times, ports, URL parts).
    expect(kinds('<a href="tel:+14155552671">call</a> TEL:415 555 2671')).toEqual(['phone:+14155552671', 'phone:415 555 2671']);
    expect(kinds('at 12:415 555 2671 and x:+14155552671')).toEqual([]);
    for (const benign of ['2026-03-14T10:00:01.590Z', 'Sat, 14 Mar 2026 10:00:01 GMT', '192.168.100.200', '10.0.0.1:8080',
      '9f1c2e3a-4b5d-4c6e-8f70-1a2b3c4d5e6f', 'v1.2.3', '14.03.2026', '"total":"175.17"', '127.0.0.1:58786-127.0.0.1:36259#0', '1773482401590000']) {
      expect(kinds(benign), benign).toEqual([]);
    }
  });

  it('run in linear time on hostile input (no catastrophic backtracking)', () => {
    const inputs = [
      'a'.repeat(1 << 20) + '@',
      `${'a.'.repeat(1 << 19)}@x`,
      '1 '.repeat(1 << 19),
      `eyJ${'a'.repeat(1 << 20)}`,
      `Bearer ${'x'.repeat(1 << 20)}`,
      `${'1-'.repeat(1 << 19)}`,
      `${'1+'.repeat(1 << 19)}`,
      `${'1%20'.repeat(1 << 18)}`,
      '4 '.repeat(1 << 19), // every group may start a card: the most windows a card run is searched for
      `+${'1'.repeat(1 << 20)}`,
    ];
    for (const text of inputs) {
      const t0 = performance.now();
      all.find(text);
      expect(performance.now() - t0, text.slice(0, 20)).toBeLessThan(1500);
    }
  });
});
