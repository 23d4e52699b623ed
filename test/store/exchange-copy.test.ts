import { describe, expect, it } from 'vitest';
import { BODY_FIELDS, copyBody, copyExchange, copyRequest, copyResponse, EXCHANGE_FIELDS, REQUEST_FIELDS, RESPONSE_FIELDS } from '../../store/exchange-copy.js';
import type { Body, Exchange, ExchangeRequest, ExchangeResponse } from '../../store/exchange.js';

// One distinct value per listed field, so a field the copy forgets shows up as missing.
function filled<T>(fields: Record<string, true>, value: (name: string) => unknown): T {
  return Object.fromEntries(Object.keys(fields).map((k) => [k, value(k)])) as T;
}

describe('exchange copies', () => {
  it('keep every field of the format, in its order, and share the parts', () => {
    const cases: Array<[Record<string, true>, (o: never) => object]> = [
      [EXCHANGE_FIELDS, copyExchange as (o: never) => object],
      [REQUEST_FIELDS, copyRequest as (o: never) => object],
      [RESPONSE_FIELDS, copyResponse as (o: never) => object],
      [BODY_FIELDS, copyBody as (o: never) => object],
    ];
    for (const [fields, copy] of cases) {
      const original = filled<object>(fields, (k) => ({ field: k }));
      const out = copy(original as never);
      expect(out).not.toBe(original);
      expect(out).toEqual(original);
      expect(Object.keys(out)).toEqual(Object.keys(fields));
      for (const k of Object.keys(fields)) expect((out as Record<string, unknown>)[k]).toBe((original as Record<string, unknown>)[k]);
    }
  });

  it('leave absent optional fields absent, so a copy serializes like the original', () => {
    const body: Body = { encoding: 'utf8', data: '{}', size: 2 };
    const request: ExchangeRequest = { method: 'GET', scheme: 'http', authority: 'a', path: '/', query: '', httpVersion: '1.1', headers: [], body };
    const response: ExchangeResponse = { status: 200, httpVersion: '1.1', headers: [], body: null };
    const ex: Exchange = { v: 1, id: 'x', start: 1, duration: null, source: { kind: 'synthetic', captureId: 'c' }, request, response };
    expect(JSON.stringify(copyExchange(ex))).toBe(JSON.stringify(ex));
    expect(JSON.stringify(copyRequest(request))).toBe(JSON.stringify(request));
    expect(JSON.stringify(copyResponse(response))).toBe(JSON.stringify(response));
    expect(JSON.stringify(copyResponse({ ...response, statusText: 'OK' }))).toBe('{"status":200,"statusText":"OK","httpVersion":"1.1","headers":[],"body":null}');
    expect(JSON.stringify(copyBody(body))).toBe(JSON.stringify(body));
  });
});
