import { describe, expect, it } from 'vitest';
import { BodyTap } from '../../../capture/proxy/body-tap.js';
import { contentCodings, forwardableHeaders, headerPairs, upgradeRequestHeaders } from '../../../capture/proxy/hop-by-hop.js';
import { classifyUpstreamError } from '../../../capture/proxy/upstream-errors.js';

const err = (code: string, message = `boom ${code}`): Error => Object.assign(new Error(message), { code });

describe('hop-by-hop headers (RFC 9110 §7.6.1)', () => {
  it('drops the fixed set and the fields Connection names, keeping order, case and duplicates of the rest', () => {
    const raw = ['Host', 'a', 'X-A', '1', 'Connection', 'keep-alive, X-Secret-Hop', 'Keep-Alive', 'timeout=5', 'x-secret-hop', 'v',
      'TE', 'trailers', 'Transfer-Encoding', 'chunked', 'Proxy-Connection', 'keep-alive', 'Upgrade', 'h2c', 'Trailer', 'X-T', 'X-A', '2'];
    expect(forwardableHeaders(raw, 'response')).toEqual(['Host', 'a', 'X-A', '1', 'X-A', '2']);
  });

  it('request side: Expect goes (Node answered 100-continue) and only the first Content-Length stays', () => {
    expect(forwardableHeaders(['Expect', '100-continue', 'Content-Length', '3', 'content-length', '3', 'X', 'y'], 'request')).toEqual(['Content-Length', '3', 'X', 'y']);
  });

  it('an upgrade keeps Connection and Upgrade, which the handshake needs', () => {
    expect(upgradeRequestHeaders(['Connection', 'Upgrade', 'Upgrade', 'websocket', 'Keep-Alive', '1', 'TE', 'x'])).toEqual(['Connection', 'Upgrade', 'Upgrade', 'websocket']);
  });

  it('pairs and content codings', () => {
    expect(headerPairs(['A', '1', 'a', '2'])).toEqual([['A', '1'], ['a', '2']]);
    expect(contentCodings(['Content-Encoding', 'deflate, GZIP', 'content-encoding', 'br'])).toEqual(['deflate', 'gzip', 'br']);
    expect(contentCodings(['X', 'y'])).toEqual([]);
  });
});

describe('BodyTap', () => {
  it('keeps the first cap bytes and counts all of them', () => {
    const tap = new BodyTap(5);
    tap.push(Buffer.from('abc'));
    tap.push(Buffer.from('defgh'));
    tap.push(Buffer.from('ijk'));
    expect(tap.bytes().toString()).toBe('abcde');
    expect(tap.size).toBe(11);
    expect(tap.complete).toBe(false);
    const zero = new BodyTap(0);
    zero.push(Buffer.from('x'));
    expect([zero.bytes().length, zero.size]).toEqual([0, 1]);
  });
});

describe('classifyUpstreamError', () => {
  it('maps socket and undici errors to a kind and a gateway status', () => {
    expect(classifyUpstreamError(err('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'))).toEqual({ kind: 'refused', status: 502, message: 'connect ECONNREFUSED 127.0.0.1:1' });
    expect(classifyUpstreamError(err('UND_ERR_SOCKET', 'other side closed'))).toMatchObject({ kind: 'reset', status: 502, message: 'other side closed (UND_ERR_SOCKET)' });
    expect(classifyUpstreamError(err('UND_ERR_HEADERS_TIMEOUT'))).toMatchObject({ kind: 'timeout', status: 504 });
    expect(classifyUpstreamError(err('UND_ERR_CONNECT_TIMEOUT'))).toMatchObject({ kind: 'timeout', status: 504 });
    expect(classifyUpstreamError(err('HPE_INVALID_CONSTANT'))).toMatchObject({ kind: 'protocol', status: 502 });
    expect(classifyUpstreamError(err('ENOTFOUND'))).toMatchObject({ kind: 'other', status: 502 });
    expect(classifyUpstreamError('weird')).toMatchObject({ kind: 'other', message: 'weird' });
  });
});
