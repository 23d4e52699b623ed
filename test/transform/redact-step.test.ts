import { describe, expect, it } from 'vitest';
import { REDACTED } from '../../transform/redact-headers.js';
import { ex, headerOf, runSteps } from './transform-helpers.js';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMiLCJuYW1lIjoiQWRhIn0.c2lnbmF0dXJl';

describe('redact step', () => {
  it('redacts headers by name keeping their shape, and cookies by name in Cookie and Set-Cookie', async () => {
    const input = ex({
      headers: [['Host', 'h'], ['Authorization', `Bearer ${JWT}`], ['Cookie', 'session=s3cr3t; theme=dark'], ['X-Trace', 'abc']],
      resHeaders: [['Set-Cookie', 'session=n3w; Path=/; HttpOnly'], ['Set-Cookie', 'theme=light']],
    });
    const [out] = await runSteps([{ type: 'redact', headers: ['authorization'], cookies: ['session'] }], [input]);
    expect(out!.request.headers).toEqual([['Host', 'h'], ['Authorization', `Bearer ${REDACTED}`], ['Cookie', `session=${REDACTED}; theme=dark`], ['X-Trace', 'abc']]);
    expect(out!.response!.headers).toEqual([['Set-Cookie', `session=${REDACTED}; Path=/; HttpOnly`], ['Set-Cookie', 'theme=light']]);
    expect(out!.redactions).toEqual(['request.headers.authorization', 'request.cookies.session', 'response.cookies.session']);
    expect(input.request.headers[1]![1]).toBe(`Bearer ${JWT}`); // the input is not modified
  });

  it('redacts query parameters and form fields, re-encoding only what changed', async () => {
    const input = ex({
      method: 'POST',
      query: 'api_key=k%2B1&q=running%20shoes&api_key=k2',
      headers: [['Content-Type', 'application/x-www-form-urlencoded'], ['Content-Length', '34']],
      body: 'user=ada&password=hunter2&keep=1+2',
    });
    const [out] = await runSteps([{ type: 'redact', queryParams: ['api_key'], formFields: ['password'] }], [input]);
    expect(out!.request.query).toBe('api_key=%5BREDACTED%5D&q=running%20shoes&api_key=%5BREDACTED%5D');
    expect(out!.request.body!.data).toBe('user=ada&password=%5BREDACTED%5D&keep=1+2');
    expect(out!.request.body!.size).toBe(Buffer.byteLength(out!.request.body!.data));
    expect(headerOf(out!, 'content-length')).toBe(String(out!.request.body!.size));
    expect(out!.redactions).toEqual(['request.query.api_key', 'request.body.form.password']);
  });

  it('redacts JSON paths with wildcards and recursive descent; the body stays valid JSON with its formatting', async () => {
    const resBody = '{\n  "user": {"email": "ada@example.test", "id": 12345678901234567890},\n  "items": [{"card": "4111111111111111", "sku": "A"}, {"card": 5555555555554444}],\n  "nested": {"deep": {"password": "p1"}}, "password": null\n}';
    const input = ex({ resBody, body: '{"login": {"password": "hunter2"}}', headers: [['Content-Type', 'application/json']] });
    const [out] = await runSteps([{ type: 'redact', jsonPaths: ['$.user.email', '$.items[*].card', '$..password'] }], [input]);
    const res = out!.response!.body!.data;
    expect(JSON.parse(res)).toEqual({ user: { email: REDACTED, id: 12345678901234567000 }, items: [{ card: REDACTED, sku: 'A' }, { card: REDACTED }], nested: { deep: { password: REDACTED } }, password: null });
    expect(res).toContain('"id": 12345678901234567890'); // not re-serialized: big integers survive
    expect(res.startsWith('{\n  "user": {"email": "[REDACTED]"')).toBe(true);
    expect(out!.response!.body!.size).toBe(Buffer.byteLength(res));
    expect(out!.request.body!.data).toBe('{"login": {"password": "[REDACTED]"}}');
    expect(out!.redactions).toEqual(['request.body.$.login.password', 'response.body.$.user.email', 'response.body.$.items[*].card', 'response.body.$.nested.deep.password']);
  });

  it('detectors scan header values, the query, the path and text bodies of both directions', async () => {
    const input = ex({
      path: '/users/ada@example.test/profile',
      query: 'contact=zoe%40example.test&phone=%2B14155552671',
      headers: [['X-Forwarded-Auth', `Bearer ${JWT}`], ['X-Amz-Key', 'AKIAIOSFODNN7EXAMPLE']],
      resHeaders: [['Content-Type', 'text/plain']],
      resBody: 'card 4111 1111 1111 1111, call (415) 555-2671\nthanks',
    });
    const [out] = await runSteps([{ type: 'redact', detectors: 'default' }], [input]);
    expect(out!.request.path).toBe('/users/%5BREDACTED%5D/profile');
    expect(out!.request.query).toBe('contact=%5BREDACTED%5D&phone=%5BREDACTED%5D');
    expect(out!.request.headers).toEqual([['X-Forwarded-Auth', `Bearer ${REDACTED}`], ['X-Amz-Key', REDACTED]]);
    expect(out!.response!.body!.data).toBe(`card ${REDACTED}, call ${REDACTED}\nthanks`);
    expect(out!.redactions).toEqual(['request.headers.x-forwarded-auth', 'request.headers.x-amz-key', 'request.query.contact', 'request.query.phone', 'request.path', 'response.body']);
  });

  it('the card detector finds URL-encoded card numbers in a text body without a form content type', async () => {
    const input = ex({
      method: 'POST',
      headers: [['Content-Type', 'text/plain']],
      body: 'order=7&card=4111%201111%201111%201111&backup=5555+5555+5555+4444&note=1+2',
    });
    const [out] = await runSteps([{ type: 'redact', detectors: ['card'] }], [input]);
    expect(out!.request.body!.data).toBe(`order=7&card=${REDACTED}&backup=${REDACTED}&note=1+2`);
    expect(out!.redactions).toEqual(['request.body']);
  });

  it('detectors inside JSON edit string values and keys, and turn a card-number number into a string', async () => {
    const input = ex({ resBody: '{"note": "mail ada@example.test now", "pan": 4111111111111111, "by": {"zoe@example.test": 1}, "n": 42}' });
    const [out] = await runSteps([{ type: 'redact', detectors: ['email', 'card'] }], [input]);
    expect(JSON.parse(out!.response!.body!.data)).toEqual({ note: `mail ${REDACTED} now`, pan: REDACTED, by: { [REDACTED]: 1 }, n: 42 });
    expect(out!.redactions).toEqual(['response.body.$.note', 'response.body.$.pan', 'response.body.$.by']);
  });

  it('detectors see JSON strings decoded: a secret spelled with \\u escapes is found (the raw text shows no @ nor digit run)', async () => {
    const body = String.raw`{"a": "ada\u0040example.test", "b": "4111\u00201111\u00201111\u00201111", "c": "AKIA\u0049OSFODNN7EXAMPLE", "d": {"zoe\u0040example.test": 1}, "e": "caf\u00e9 \u003cb\u003e", "f": "Bearer\u0020abcdef123456"}`;
    const [out] = await runSteps([{ type: 'redact', detectors: 'default' }], [ex({ resBody: body })]);
    const got = JSON.parse(out!.response!.body!.data) as Record<string, unknown>;
    expect(got).toEqual({ a: REDACTED, b: REDACTED, c: REDACTED, d: { [REDACTED]: 1 }, e: 'café <b>', f: `Bearer ${REDACTED}` });
    // An escape that spells nothing (non-ASCII, markup) is left as written.
    expect(out!.response!.body!.data).toContain(String.raw`"caf\u00e9 \u003cb\u003e"`);
  });

  it('hash mode: the same input gives the same keyed token everywhere, a different key a different token', async () => {
    const a = ex({ headers: [['Authorization', `Bearer ${JWT}`]], resBody: `{"token": "${JWT}", "email": "ada@example.test"}` });
    const b = ex({ query: 'email=ada%40example.test' });
    const step = { type: 'redact', headers: ['authorization'], jsonPaths: ['$.token'], detectors: ['email'], mode: 'hash' };
    const [x, y] = await runSteps([step], [a, b], { REPRISE_REDACT_KEY: 'one-key-0123456789' });
    const tok = headerOf(x!, 'authorization')!.slice('Bearer '.length);
    expect(tok).toMatch(/^tok_[0-9a-f]{16}$/);
    const body = JSON.parse(x!.response!.body!.data);
    expect(body.token).toBe(tok); // the token in the response joins with the header that used it
    expect(y!.request.query).toBe(`email=${body.email}`);
    const [z] = await runSteps([step], [a], { REPRISE_REDACT_KEY: 'another-key-0123456789' });
    expect(headerOf(z!, 'authorization')).not.toBe(`Bearer ${tok}`);
  });

  it('hash mode without a key: a random key and a warning; a named but unset env var is an error', async () => {
    const { compileSteps } = await import('./transform-helpers.js');
    const p = await compileSteps([{ type: 'redact', headers: ['authorization'], mode: 'hash' }], {});
    expect(p.stats.warnings.join()).toMatch(/REPRISE_REDACT_KEY is not set/);
    await expect(compileSteps([{ type: 'redact', headers: ['x'], mode: 'hash', key: { env: 'NOPE_KEY' } }], {})).rejects.toThrow(/step 1 \(redact headers x \(as keyed-hash tokens\)\) could not start: .*NOPE_KEY is not set/);
  });

  it('is idempotent, leaves templates alone, and returns the same object when there is nothing to do', async () => {
    const step = { type: 'redact', headers: ['authorization', 'cookie'], detectors: 'default', jsonPaths: ['$.token'], mode: 'hash' };
    const input = ex({ headers: [['Authorization', `Bearer ${JWT}`], ['Cookie', 'sid=${corr.login_sid}']], resBody: `{"token": "${JWT}"}` });
    const [once] = await runSteps([step], [input]);
    const [twice] = await runSteps([step], [once!]);
    expect(twice).toEqual(once);
    expect(headerOf(once!, 'cookie')).toBe('sid=${corr.login_sid}');
    const templated = ex({ headers: [['Authorization', 'Bearer ${corr.login_token}']] });
    const [same] = await runSteps([step], [templated]);
    expect(same).toBe(templated);
  });

  it('leaves binary bodies alone and scans truncated text bodies as far as they go', async () => {
    const bin = ex({});
    bin.response!.body = { encoding: 'base64', data: Buffer.from([0xff, 0x00, 0x40]).toString('base64'), size: 3 };
    const cut = ex({ resBody: '{"email": "ada@example.test", "more": "zoe@exam' });
    cut.response!.body!.truncated = true;
    cut.response!.body!.size = 1000;
    const [b, c] = await runSteps([{ type: 'redact', detectors: ['email'] }], [bin, cut]);
    expect(b).toBe(bin);
    expect(c!.response!.body!.data).toBe(`{"email": "${REDACTED}", "more": "zoe@exam`);
    expect(c!.response!.body!.size).toBe(1000 - 'ada@example.test'.length + REDACTED.length);
  });

  it('bounds redaction marks: a value nested deep or under a huge key marks an ancestor with ..*', async () => {
    const deep = `${'{"a":'.repeat(5000)}{"email":"ada@example.test"}${'}'.repeat(5000)}`;
    const longKey = `{"${'k'.repeat(100_000)}":{"email":"zoe@example.test"},"user":{"email":"max@example.test"}}`;
    const [a, b] = await runSteps([{ type: 'redact', detectors: ['email'] }], [ex({ resBody: deep }), ex({ resBody: longKey })]);
    expect(a!.response!.body!.data).not.toContain('ada@');
    expect(a!.redactions).toEqual([`response.body.$${'.a'.repeat(32)}..*`]); // MAX_MARK_DEPTH parts, then "and below"
    expect(b!.redactions).toEqual(['response.body.$..*', 'response.body.$.user.email']); // the key alone is over MAX_MARK_CHARS
  });

  it('counts replacements by kind and dedupes marks across repeated hits', async () => {
    const { compileSteps } = await import('./transform-helpers.js');
    const p = await compileSteps([{ type: 'redact', headers: ['authorization'], detectors: ['email'] }]);
    const r = p.apply(ex({ headers: [['Authorization', 'Basic dXNlcjpwYXNz']], resBody: '{"a": [{"e": "a@b.example"}, {"e": "c@d.example"}]}' }));
    expect((r as { redactions: string[] }).redactions).toEqual(['request.headers.authorization', 'response.body.$.a[*].e']);
    expect(p.stats.redactions).toEqual({ header: 1, 'detector:email': 2 });
  });
});
