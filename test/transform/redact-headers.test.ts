import { describe, expect, it } from 'vitest';
import { DEFAULT_SECRET_HEADERS, redactSecretHeaders, REDACTED, secretHeaderNames } from '../../transform/redact-headers.js';
import { syntheticExchange } from '../support/synthetic-exchange.js';

describe('redactSecretHeaders', () => {
  const base = syntheticExchange(0);
  const ex = {
    ...base,
    request: { ...base.request, headers: [['Host', 'h'], ['Authorization', 'Bearer abc.def.ghi'], ['Cookie', 'session=s3cr3t; csrf=tok'], ['X-API-Key', 'k-123'], ['Accept', '*/*']] as [string, string][] },
    response: { ...base.response!, headers: [['Set-Cookie', 'session=new; Path=/; HttpOnly'], ['Set-Cookie', 'b=2'], ['Content-Type', 'application/json']] as [string, string][] },
  };

  it('masks secret values, keeps scheme, cookie names, attributes, order and case', () => {
    const out = redactSecretHeaders(ex);
    expect(out.request.headers).toEqual([['Host', 'h'], ['Authorization', `Bearer ${REDACTED}`], ['Cookie', `session=${REDACTED}; csrf=${REDACTED}`], ['X-API-Key', REDACTED], ['Accept', '*/*']]);
    expect(out.response!.headers).toEqual([['Set-Cookie', `session=${REDACTED}; Path=/; HttpOnly`], ['Set-Cookie', `b=${REDACTED}`], ['Content-Type', 'application/json']]);
    expect(out.redactions).toEqual(['request.headers.authorization', 'request.headers.cookie', 'request.headers.x-api-key', 'response.headers.set-cookie']);
    expect(JSON.stringify(out)).not.toMatch(/s3cr3t|abc\.def|k-123|session=new/);
  });

  it('does not modify its input and is idempotent', () => {
    const before = JSON.stringify(ex);
    const once = redactSecretHeaders(ex);
    expect(JSON.stringify(ex)).toBe(before);
    expect(redactSecretHeaders(once)).toEqual(once);
  });

  it('returns the same object when there is nothing to redact', () => {
    expect(redactSecretHeaders(base)).toBe(base);
  });
});

describe('secretHeaderNames', () => {
  it('is the one list every capture redacts: the defaults unless turned off, plus the user\'s, lower-cased once, no repeats', () => {
    expect(secretHeaderNames()).toEqual(DEFAULT_SECRET_HEADERS);
    expect(secretHeaderNames({ extra: ['X-Session', 'Authorization', 'x-session'] })).toEqual([...DEFAULT_SECRET_HEADERS, 'x-session']);
    expect(secretHeaderNames({ defaults: false, extra: ['X-Session'] })).toEqual(['x-session']);
    expect(secretHeaderNames({ defaults: false })).toBe(false); // nothing left to redact: stored in clear
  });
});
