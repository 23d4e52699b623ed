import { describe, expect, it } from 'vitest';
import { mapApigwPayload, type ApigwMapResult } from '../../../capture/apigw/apigw-payload.js';
import { parseTimestampMicros } from '../../../capture/apigw/apigw-fields.js';
import { bodyToBuffer } from '../../../store/body.js';
import type { Exchange } from '../../../store/exchange.js';
import { exchangeProblems } from '../../../store/validate-exchange.js';
import { splitBody } from '../../../capture/apigw/apigw-items.js';
import { ISSUE_EXAMPLE, samplePayload } from './apigw-fixtures.js';

const RECEIVED = Date.UTC(2026, 2, 1, 10, 0, 0) * 1000;
const map = (value: unknown, extra: object = {}): ApigwMapResult => mapApigwPayload(value, { captureId: 'test', receivedAt: RECEIVED, ...extra });
function ok(value: unknown, extra: object = {}): Exchange {
  const r = map(value, extra);
  if (!r.ok) throw new Error(`expected a valid payload, got:\n${r.problems.join('\n')}`);
  expect(exchangeProblems(r.exchange)).toEqual([]);
  return r.exchange;
}
function problems(value: unknown): string[] {
  const r = map(value);
  if (r.ok) throw new Error('expected problems');
  return r.problems;
}

describe('mapApigwPayload', () => {
  it('maps the issue example exactly', () => {
    const ex = ok(ISSUE_EXAMPLE);
    expect(ex.source).toEqual({ kind: 'apigw', captureId: 'test' });
    expect(ex.start).toBe(RECEIVED); // no timestamp: the receive time
    expect(ex.duration).toBeNull();
    expect(ex.request).toMatchObject({ method: 'POST', scheme: 'https', authority: 'abc123.execute-api.eu-west-1.amazonaws.com', path: '/api/v1/users', query: '', httpVersion: '1.1' });
    expect(ex.request.headers).toEqual([['Content-Type', 'application/json'], ['Authorization', '[REDACTED]']]);
    expect(ex.request.body).toEqual({ encoding: 'utf8', data: '{"name":"morpheus"}', size: 19 });
    expect(ex.response).toMatchObject({ status: 201, headers: [['Content-Type', 'application/json; charset=utf-8']] });
    expect(ex.response!.body).toEqual({ encoding: 'utf8', data: '{"id":"573"}', size: 12 });
    expect(ex.redactions).toEqual(['request.headers.authorization']);
  });

  it('keeps string bodies as sent, JSON-valued bodies as JSON text, and decodes base64 when flagged', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]);
    const ex = ok({ ...ISSUE_EXAMPLE, body: 'name=morpheus&x=1', response: png.toString('base64'), response_is_base64_encoded: true });
    expect(ex.request.body).toEqual({ encoding: 'utf8', data: 'name=morpheus&x=1', size: 17 });
    expect(ex.response!.body!.encoding).toBe('base64');
    expect(bodyToBuffer(ex.response!.body)).toEqual(png);
    const json = ok({ ...ISSUE_EXAMPLE, body: '{"already":"text"}', response: [1, 'two', null, true] });
    expect(json.request.body!.data).toBe('{"already":"text"}'); // a string is never re-encoded
    expect(json.response!.body!.data).toBe('[1,"two",null,true]');
    const b64text = ok({ ...ISSUE_EXAMPLE, body: Buffer.from('héllo').toString('base64'), isBase64Encoded: true });
    expect(b64text.request.body).toEqual({ encoding: 'utf8', data: 'héllo', size: 6 }); // valid UTF-8 stays readable
    expect(ok({ ...ISSUE_EXAMPLE, body: null, response: '' }).request.body).toBeNull();
    expect(problems({ ...ISSUE_EXAMPLE, body: 'not base64!', isBase64Encoded: true })).toEqual(['body: is flagged base64 but is not base64 text']);
    expect(problems({ ...ISSUE_EXAMPLE, body: { a: 1 }, isBase64Encoded: true })).toEqual(['body: is flagged base64 but is an object, not a string']);
  });

  it('turns multi-value headers into duplicates, in order, without repeating the single value', () => {
    const ex = ok({
      ...ISSUE_EXAMPLE,
      request_headers: { Accept: 'application/json', 'X-Forwarded-For': '1.1.1.1', 'X-Num': 42 },
      multiValueHeaders: { 'x-forwarded-for': ['1.1.1.1', '10.0.0.1'], 'X-Only-Multi': ['a', 'b'] },
      response_headers: { 'Set-Cookie': ['a=1; Path=/', 'b=2'], Vary: 'Accept' },
    });
    expect(ex.request.headers).toEqual([['Accept', 'application/json'], ['x-forwarded-for', '1.1.1.1'], ['x-forwarded-for', '10.0.0.1'], ['X-Num', '42'], ['X-Only-Multi', 'a'], ['X-Only-Multi', 'b']]);
    // Set-Cookie values are redacted by default capture redaction, names and attributes kept.
    expect(ex.response!.headers).toEqual([['Set-Cookie', 'a=[REDACTED]; Path=/'], ['Set-Cookie', 'b=[REDACTED]'], ['Vary', 'Accept']]);
    expect(ex.redactions).toEqual(['response.headers.set-cookie']);
  });

  it('builds the query from the raw string, the endpoint, or the parameter objects (order kept)', () => {
    expect(ok({ ...ISSUE_EXAMPLE, query_string: '?b=2&a=1&a=0' }).request.query).toBe('b=2&a=1&a=0');
    expect(ok({ ...ISSUE_EXAMPLE, endpoint: '/search?q=x%20y&p=2' })).toMatchObject({ request: { path: '/search', query: 'q=x%20y&p=2' } });
    expect(ok({ ...ISSUE_EXAMPLE, queryStringParameters: { q: 'a b', page: '2' } }).request.query).toBe('q=a%20b&page=2');
    const multi = ok({ ...ISSUE_EXAMPLE, queryStringParameters: { tag: 'z' }, multiValueQueryStringParameters: { tag: ['x', 'y'], flag: [null] } });
    expect(multi.request.query).toBe('tag=x&tag=y&flag');
    expect(ok({ ...ISSUE_EXAMPLE, endpoint: '/users/john doe/ü' }).request.path).toBe('/users/john%20doe/%C3%BC');
    // A character beyond U+FFFF is two UTF-16 code units; it is encoded whole (API Gateway hands the path decoded).
    expect(ok({ ...ISSUE_EXAMPLE, endpoint: '/menu/🍵 tea/𝄞' }).request.path).toBe('/menu/%F0%9F%8D%B5%20tea/%F0%9D%84%9E');
    expect(ok({ ...ISSUE_EXAMPLE, endpoint: 'https://other.example/x?y=1' }).request).toMatchObject({ path: '/x', query: 'y=1' });
  });

  it('maps the extra fields a forwarder may add, and ignores unknown ones', () => {
    const ex = ok({
      ...ISSUE_EXAMPLE,
      request_id: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      requestTimeEpoch: 1772359200123,
      latency: 12.5,
      stage: 'prod',
      source_ip: '203.0.113.9',
      protocol: 'HTTP/2.0',
      some_future_field: { nested: [1, 2, 3] },
      another: 'x',
    });
    expect(ex.start).toBe(1772359200123000);
    expect(ex.duration).toBe(12500);
    expect(ex.request.httpVersion).toBe('2');
    expect(ex.meta).toEqual({ requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef', stage: 'prod', sourceIp: '203.0.113.9' });
    expect(ok({ ...ISSUE_EXAMPLE, timestamp: '2026-03-01T10:00:00.123456Z' }).start).toBe(1772359200123456);
    expect(ok({ ...ISSUE_EXAMPLE, requestTime: '01/Mar/2026:11:00:00 +0100' }).start).toBe(1772359200000000);
    expect(parseTimestampMicros(1772359200)).toBe(1772359200000000);
  });

  it('marks "[REDACTED]" in any case as a redaction, and redacts secrets the forwarder left in clear', () => {
    const ex = ok({ ...ISSUE_EXAMPLE, request_headers: { Authorization: 'Bearer abc.def', 'X-Api-Key': 'k-123', Cookie: '[redacted]', 'X-Custom': '[Redacted]' } });
    expect(ex.request.headers).toEqual([['Authorization', 'Bearer [REDACTED]'], ['X-Api-Key', '[REDACTED]'], ['Cookie', '[REDACTED]'], ['X-Custom', '[REDACTED]']]);
    expect(new Set(ex.redactions)).toEqual(new Set(['request.headers.cookie', 'request.headers.x-custom', 'request.headers.authorization', 'request.headers.x-api-key']));
    const clear = ok({ ...ISSUE_EXAMPLE, request_headers: { Authorization: 'Bearer abc', 'X-Custom': '[REDACTED]' } }, { redactHeaders: false });
    expect(clear.request.headers).toEqual([['Authorization', 'Bearer abc'], ['X-Custom', '[REDACTED]']]);
    expect(clear.redactions).toEqual(['request.headers.x-custom']); // the forwarder's redaction stays marked
  });

  it('reports every problem at once, each with its JSON path', () => {
    expect(problems({ from: 7, method: ['GET'], status: 'two hundred', request_headers: { 'Bad Name': 'x', Ok: { nested: true }, Multi: ['a', 3, {}] }, body: 1, latency: -1 })).toEqual([
      'from: must be a host name, not a number',
      'endpoint: missing (the request path, e.g. /api/v1/users)',
      'method: must be a string, not a list',
      'status: must be an integer 100–599, not a string',
      'request_headers["Bad Name"]: is not a valid header name',
      'request_headers.Ok: must be a string or a list of strings, not an object',
      'request_headers.Multi[2]: must be a string, not an object',
      'latency: must be milliseconds (a number from 0 to 86400000)',
    ]);
    expect(problems('just a string')).toEqual(['(payload): must be a JSON object, not a string']);
    expect(problems([1, 2])).toEqual(['(payload): must be a JSON object, not a list']);
    expect(problems({ ...ISSUE_EXAMPLE, status: 99 })).toEqual(['status: must be an integer 100–599, not 99']);
    expect(problems({ ...ISSUE_EXAMPLE, endpoint: 'api/v1' })).toEqual(['endpoint: must start with "/": "api/v1"']);
    expect(problems({ ...ISSUE_EXAMPLE, request_headers: { 'X-Evil': 'a\r\nInjected: 1' } })).toEqual(['request_headers.X-Evil: contains CR, LF or NUL (not allowed in a header value)']);
    expect(problems({ ...ISSUE_EXAMPLE, requestTimeEpoch: 'yesterday' })).toEqual(['requestTimeEpoch: must be epoch milliseconds']);
  });

  it('keeps credentials in a `from` URL out of the record and out of problem messages', () => {
    const ex = ok({ ...ISSUE_EXAMPLE, from: 'https://deploy:hunter2@abc123.execute-api.eu-west-1.amazonaws.com/prod' });
    expect(ex.request.authority).toBe('abc123.execute-api.eu-west-1.amazonaws.com');
    expect(problems({ ...ISSUE_EXAMPLE, from: 'https://deploy:hunter2@not a host/' })).toEqual(['from: is not a host[:port]: "https://[REDACTED]@not a host/"']);
    expect(problems({ ...ISSUE_EXAMPLE, from: 'deploy:hunter2@bad host' })).toEqual(['from: is not a host[:port]: "[REDACTED]@bad host"']);
  });

  it('survives hostile payloads: huge strings, deep nesting, many headers', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    expect(problems({ ...ISSUE_EXAMPLE, body: deep })[0]).toMatch(/nests deeper than \d+ levels/);
    expect(problems({ ...ISSUE_EXAMPLE, whatever: deep })[0]).toMatch(/^\(payload\): nests deeper/);
    expect(problems({ ...ISSUE_EXAMPLE, from: 'h'.repeat(1 << 20) })).toEqual(['from: is longer than 8192 characters']);
    expect(problems({ ...ISSUE_EXAMPLE, request_headers: { A: 'v'.repeat(70_000) } })).toEqual(['request_headers.A: is 70000 characters, more than 65536']);
    const many = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`h${i}`, 'v']));
    expect(problems({ ...ISSUE_EXAMPLE, request_headers: many })).toEqual(['request_headers: has 2000 headers, more than 1000']);
    const wrong = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`h${i}`, {}]));
    const listed = problems({ ...ISSUE_EXAMPLE, request_headers: wrong });
    expect(listed).toHaveLength(51); // capped, with a note
    expect(listed.at(-1)).toBe('…more problems not listed');
    const big = ok({ ...ISSUE_EXAMPLE, body: 'x'.repeat(3 << 20) }, { bodyCap: 1 << 20 });
    expect(big.request.body).toMatchObject({ size: 3 << 20, truncated: true });
    expect(big.request.body!.data.length).toBe(1 << 20);
  });

  it('never throws on mutated payloads or truncated bodies (fuzz)', () => {
    let x = 42;
    const next = (): number => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
    const odd: unknown[] = [null, 0, -1, 1e308, '', '[REDACTED]', 'x'.repeat(300), [], [[]], {}, { a: { b: [] } }, true, '\u0000', '2026-13-45T99:99:99Z', NaN];
    for (let round = 0; round < 2000; round++) {
      const p: Record<string, unknown> = { ...samplePayload(round) };
      const keys = [...Object.keys(p), 'multiValueHeaders', 'query_string', 'timestamp', 'stage', 'isBase64Encoded'];
      for (let m = 0; m < 1 + Math.floor(next() * 3); m++) {
        const k = keys[Math.floor(next() * keys.length)]!;
        if (next() < 0.2) delete p[k];
        else p[k] = odd[Math.floor(next() * odd.length)];
      }
      const r = map(p);
      if (r.ok) expect(exchangeProblems(r.exchange)).toEqual([]);
      else for (const line of r.problems) expect(line).toMatch(/^(\(payload\)|[\w\-\[\]".]+(\[\d+\])?): .+|^…more problems not listed$/);
      const text = JSON.stringify(p);
      const cut = text.slice(0, Math.floor(next() * text.length));
      const items = splitBody(cut, next() < 0.5 ? 'application/json' : undefined);
      expect(items.length).toBeGreaterThan(0);
    }
  });
});
