import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BodyTap } from '../../../capture/proxy/body-tap.js';
import { buildExchangeHead, completeExchange, splitTarget, type ObservedExchange } from '../../../capture/proxy/proxy-exchange-builder.js';
import { exchangeProblems } from '../../../store/validate-exchange.js';

function observed(over: Partial<ObservedExchange> = {}): ObservedExchange {
  return {
    captureId: 'cap', connection: 'c1', seq: 0, client: '127.0.0.1:5000', server: '127.0.0.1:3000',
    startUs: 1_790_000_000_000_000, startMs: 100, scheme: 'http', authority: 'api.test', method: 'GET', target: '/a/b?x=1&y',
    httpVersion: '1.1', requestHeaders: ['Host', 'api.test'], requestBody: null, responseBody: null, ...over,
  };
}

const tapOf = (bytes: Buffer, cap: number): BodyTap => {
  const t = new BodyTap(cap);
  for (let i = 0; i < bytes.length; i += 1000) t.push(bytes.subarray(i, i + 1000));
  return t;
};

describe('proxy exchange builder', () => {
  it('splits origin-form and absolute-form targets', () => {
    expect(splitTarget('/a/b?x=1&y')).toEqual({ path: '/a/b', query: 'x=1&y' });
    expect(splitTarget('/a#frag')).toEqual({ path: '/a', query: '' });
    expect(splitTarget('http://h:1/p?q')).toEqual({ path: '/p', query: 'q' });
    expect(splitTarget('http://h:1?q')).toEqual({ path: '/', query: 'q' });
    expect(splitTarget('*')).toEqual({ path: '*', query: '' });
  });

  it('a failed exchange: no response, the error, a valid record', () => {
    const ex = buildExchangeHead(observed({ endMs: 101.5, error: { kind: 'refused', message: 'ECONNREFUSED' } }));
    expect(ex).toMatchObject({ response: null, error: { kind: 'refused' }, duration: 1500, source: { kind: 'proxy', captureId: 'cap', connection: 'c1', seq: 0 } });
    expect(exchangeProblems(completeExchange(ex, observed(), 100))).toEqual([]);
  });

  it('a gzip body decoding past the cap: stored decoded and cut (a prefix of at most cap bytes), truncated, encoding kept', () => {
    const text = 'line of text that repeats\n'.repeat(20_000);
    const gz = gzipSync(text);
    const obs = observed({ status: 200, responseHeaders: ['Content-Encoding', 'gzip'], responseBody: tapOf(gz, 1 << 20), headersAtMs: 100.2, endMs: 100.4 });
    const ex = completeExchange(buildExchangeHead(obs), obs, 4096);
    expect(ex.response!.body).toMatchObject({ encoding: 'utf8', truncated: true, contentEncoding: 'gzip' });
    const data = ex.response!.body!.data;
    expect(data.length).toBeGreaterThan(2048);
    expect(data.length).toBeLessThanOrEqual(4096);
    expect(text.startsWith(data)).toBe(true);
    // decodeBody stops at the cap, so the decoded size is only known as a lower bound; a note says so.
    expect(ex.meta?.notes).toEqual([expect.stringMatching(/lower bound/)]);
    expect(ex.timings).toEqual({ wait: 0.2, receive: 0.2 });
    expect(exchangeProblems(ex)).toEqual([]);
  });

  it('a corrupt gzip body is stored as received, with a note', () => {
    const obs = observed({ status: 200, responseHeaders: ['Content-Encoding', 'gzip'], responseBody: tapOf(Buffer.from('not gzip at all'), 100) });
    const ex = completeExchange(buildExchangeHead(obs), obs, 100);
    expect(ex.response!.body).toMatchObject({ data: 'not gzip at all', size: 15 });
    expect(ex.response!.body!.contentEncoding).toBeUndefined();
    expect(ex.meta?.notes).toEqual([expect.stringMatching(/gzip decoding failed/)]);
  });
});
