import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../store/exchange.js';
import { runPipeline } from '../../transform/compile-pipeline.js';
import { isCandidate, valueHash } from '../../transform/correlate/candidate-values.js';
import { maskExample } from '../../transform/correlate/correlation-plan.js';
import { extractVariables } from '../../transform/correlate/extraction-rules.js';
import { replayAnnotations } from '../../transform/exchange-editor.js';
import { applyVariables } from '../../transform/templates/resolve-templates.js';
import { compileSteps, ex, headerOf, runSteps } from './transform-helpers.js';

const TOKEN = '4f9c2a7e1b3d5f60a8c9e0d1';

/** login → token (JSON) + session cookie; create order → id + Location; then calls that use them. */
function flow(connection = 'c1', token = TOKEN, order = 'ord_7Hq2Lm9x'): Exchange[] {
  return [
    ex({ connection, seq: 0, method: 'POST', path: '/api/login', headers: [['Content-Type', 'application/json']], body: '{"user": "ada", "remember": true}',
      resHeaders: [['Content-Type', 'application/json'], ['Set-Cookie', `sid=S${token.slice(0, 10)}; Path=/`]], resBody: `{"token": "${token}", "ok": true, "user": {"id": 42, "name": "Ada"}}` }),
    ex({ connection, seq: 1, method: 'POST', path: '/api/orders', headers: [['Authorization', `Bearer ${token}`], ['Cookie', `sid=S${token.slice(0, 10)}; theme=dark`]],
      status: 201, resHeaders: [['Location', `/api/orders/${order}`], ['Content-Type', 'application/json']], resBody: `{"id": "${order}", "total": "42.50"}` }),
    ex({ connection, seq: 2, path: `/api/orders/${order}`, query: 'expand=items', headers: [['Authorization', `Bearer ${token}`]] }),
    ex({ connection, seq: 3, method: 'POST', path: '/api/payments', headers: [['Authorization', `Bearer ${token}`], ['Content-Type', 'application/json']], body: `{"order": "${order}", "user": 42, "amount": "42.50"}` }),
  ];
}

describe('correlate step (learned)', () => {
  it('learns tokens, cookies and ids, and rewrites later requests of the session as templates', async () => {
    const p = await compileSteps([{ type: 'correlate' }]);
    const out: Exchange[] = [];
    for await (const x of runPipeline(p, flow())) out.push(x);
    const [login, create, get, pay] = out as [Exchange, Exchange, Exchange, Exchange];
    expect(replayAnnotations(login).extract).toEqual([
      { var: 'login_token', from: 'json', path: '$.token' },
      { var: 'login_cookie_sid', from: 'cookie', name: 'sid' },
      { var: 'login_user_id', from: 'json', path: '$.user.id' },
    ]);
    expect(headerOf(create, 'authorization')).toBe('Bearer ${corr.login_token}');
    expect(headerOf(create, 'cookie')).toBe('sid=${corr.login_cookie_sid}; theme=dark');
    expect(replayAnnotations(create).extract).toEqual([{ var: 'orders_id', from: 'json', path: '$.id' }]);
    expect(get.request.path).toBe('/api/orders/${corr.orders_id}');
    expect(get.request.query).toBe('expand=items');
    expect(pay.request.body!.data).toBe('{"order": "${corr.orders_id}", "user": "${#corr.login_user_id}", "amount": "42.50"}');
    expect(replayAnnotations(pay).templates).toEqual(['request.headers.authorization', 'request.body']);
    expect(p.stats.extractRules).toBe(4);
    const explained = p.explain();
    expect(explained).toContain('corr.login_token ← POST /api/login response json $.token (e.g. 4f9c…(24 chars); from 1 response) → request.headers.authorization ×3');
    expect(explained).not.toContain(TOKEN);
  });

  it('--explain shows at most a quarter of an example value, so a short token is not given away', () => {
    expect(maskExample(TOKEN)).toBe('4f9c…(24 chars)');
    expect(maskExample('s%3A7f3a9c2e1b')).toBe('s%3…(14 chars)');
    expect(maskExample('Zk9x2Q')).toBe('Z…(6 chars)');
    expect(maskExample('123')).toBe('…(3 chars)');
  });

  it('learns from the Location header when the body does not carry the id', async () => {
    const out = await runSteps([{ type: 'correlate' }], [
      ex({ method: 'POST', path: '/api/carts', status: 201, resHeaders: [['Location', 'https://api.example.test/api/carts/cart-88f1a2?ref=web']], resBody: null }),
      ex({ path: '/api/carts/cart-88f1a2/items' }),
    ]);
    const rule = replayAnnotations(out[0]!).extract![0]!;
    expect(rule).toMatchObject({ var: 'carts_location_carts', from: 'header', name: 'location' });
    expect(out[1]!.request.path).toBe('/api/carts/${corr.carts_location_carts}/items');
    const vars: Record<string, string> = {};
    extractVariables([rule], { headers: [['location', '/api/carts/cart-LIVE']] }, vars);
    expect(vars).toEqual({ 'corr.carts_location_carts': 'cart-LIVE' });
  });

  it('the runtime half: extractVariables from live responses, applyVariables into the next requests', async () => {
    const out: Exchange[] = [];
    for await (const x of runPipeline(await compileSteps([{ type: 'correlate' }]), flow())) out.push(x);
    const vars: Record<string, string> = {};
    const missing = extractVariables(replayAnnotations(out[0]!).extract, {
      headers: { 'set-cookie': ['sid=LIVE; Path=/'], 'content-type': 'application/json' },
      body: Buffer.from('{"token": "LIVE-TOKEN", "user": {"id": 7}}'),
    }, vars);
    expect(missing).toEqual([]);
    expect(vars).toEqual({ 'corr.login_token': 'LIVE-TOKEN', 'corr.login_cookie_sid': 'LIVE', 'corr.login_user_id': '7' });
    extractVariables(replayAnnotations(out[1]!).extract, { headers: [], body: '{"id": "ord_LIVE"}' }, vars);
    const location = extractVariables([{ var: 'o', from: 'header', name: 'location', regex: '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*)?\\/api\\/orders\\/([^/?#]+)' }], { headers: [['Location', 'http://h/api/orders/ord_LIVE?x=1']] }, vars);
    expect([location, vars['corr.o']]).toEqual([[], 'ord_LIVE']);
    const pay = applyVariables(out[3]!, vars);
    expect(headerOf(pay, 'authorization')).toBe('Bearer LIVE-TOKEN');
    expect(JSON.parse(pay.request.body!.data)).toEqual({ order: 'ord_LIVE', user: 7, amount: '42.50' });
    expect(extractVariables([{ var: 'x', from: 'json', path: '$.nope' }], { headers: [], body: '{}' }, vars)).toEqual(['corr.x']);
  });

  it('one response listing many ids, used one by one later: each use gets the rule of its own place', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `it_${(1000 + i).toString(36)}x9`);
    const list = ex({ seq: 0, path: '/api/items', resBody: JSON.stringify({ items: ids.map((id, i) => ({ id, rank: i })) }) });
    const uses = ids.map((id, i) => ex({ seq: i + 1, path: `/api/items/${id}` }));
    const out = await runSteps([{ type: 'correlate' }], [list, ...uses]);
    const rules = replayAnnotations(out[0]!).extract!;
    expect(rules).toHaveLength(40);
    ids.forEach((_, i) => {
      const rule = rules[i]!;
      expect(rule).toMatchObject({ from: 'json', path: `$.items[${i}].id` });
      expect(out[i + 1]!.request.path).toBe(`/api/items/\${corr.${rule.var}}`);
    });
  });

  it('keeps sessions apart, ignores trivial values and values the client made up', async () => {
    const a = flow('a', 'aaaaaaaaaaaaaaaaaaaaaaaa');
    const b = flow('b', 'bbbbbbbbbbbbbbbbbbbbbbbb', 'ord_other1');
    // In session b, the client sends the token before any response produced it: not a correlation.
    b.unshift(ex({ connection: 'b', path: '/api/warmup', headers: [['Authorization', 'Bearer bbbbbbbbbbbbbbbbbbbbbbbb']] }));
    const out = await runSteps([{ type: 'correlate' }], [...a, ...b]);
    expect(headerOf(out[2]!, 'authorization')).toBe('Bearer ${corr.login_token}');
    expect(out.slice(4).map((x) => headerOf(x, 'authorization'))).toEqual(['Bearer bbbbbbbbbbbbbbbbbbbbbbbb', undefined, 'Bearer bbbbbbbbbbbbbbbbbbbbbbbb', 'Bearer bbbbbbbbbbbbbbbbbbbbbbbb', 'Bearer bbbbbbbbbbbbbbbbbbbbbbbb']);
    expect(out[7]!.request.path).toBe('/api/orders/${corr.orders_id}'); // the order id still correlates in b
    // One character is never enough, even under an id-like key: `"lineId": 1` would wire itself to `page=1`.
    for (const [v, k] of [['true', 'ok'], ['42', 'count'], ['London', 'city'], ['Ada Lovelace', 'name'], ['42.50', 'total'], ['EUR', 'currency'], ['7', 'orderId'], ['x', 'key']]) expect(isCandidate(v!, k!), v).toBe(false);
    for (const [v, k] of [['42', 'id'], ['42', 'user.id'], ['17', 'orderId'], ['s%3A7f3a9c2e1b', 'session'], ['ord_7Hq2Lm9x', 'location.orders']]) expect(isCandidate(v!, k!), v).toBe(true);
  });

  it('enumeration keys (postalCode, currencyCode, status, type…) are not correlated; issued codes and ids still are', async () => {
    const produced = '{"id": "ord_7Hq2Lm9x", "countryCode": "US", "postalCode": "94107", "currencyCode": "EUR", "postal_code": "10115", "status": "pending_payment",'
      + ' "type": "subscription_item", "kind": "recurring", "locale": "en-US", "language": "english", "currency": "usd", "object": "payment_intent",'
      + ' "confirmationCode": "K7Q2ZP", "sessionCode": "8811", "code": "SplxlOBeZQQYbYS6WxSbIA"}';
    const usedQuery = 'country=US&zip=94107&zip2=10115&cur=EUR&st=pending_payment&t=subscription_item&k=recurring&loc=en-US&lang=english&c=usd&o=payment_intent'
      + '&confirm=K7Q2ZP&sc=8811&auth=SplxlOBeZQQYbYS6WxSbIA&order=ord_7Hq2Lm9x';
    const out = await runSteps([{ type: 'correlate' }], [
      ex({ seq: 0, method: 'POST', path: '/api/checkout', resHeaders: [['Content-Type', 'application/json']], resBody: produced }),
      ex({ seq: 1, path: '/api/quote', query: usedQuery }),
    ]);
    const params = Object.fromEntries(new URLSearchParams(out[1]!.request.query.replaceAll('${', '%24%7B').replaceAll('}', '%7D')));
    // Members of fixed sets are left as recorded: the second request repeats them by coincidence.
    for (const k of ['country', 'zip', 'zip2', 'cur', 'st', 't', 'k', 'loc', 'lang', 'c', 'o']) expect(params[k], k).not.toMatch(/corr\./);
    // Issued per user or session: still learned.
    for (const k of ['confirm', 'sc', 'auth', 'order']) expect(params[k], k).toMatch(/^\$\{corr\.[a-z_]+\}$/);
    for (const [v, k] of [['US', 'countryCode'], ['94107', 'postalCode'], ['EUR', 'currencyCode'], ['200', 'statusCode'], ['E_TIMEOUT', 'error_code'], ['pending_payment', 'status'],
      ['payment_intent', 'object'], ['Bearer', 'tokenType'], ['en-US', 'locale'], ['deu', 'language'], ['active', 'user.state']]) expect(isCandidate(v!, k!), `${k}=${v}`).toBe(false);
    // An enumeration-named key holding a generated token still correlates: the OAuth `state` of a redirect.
    for (const [v, k] of [['af0ifjsldkj3n4b5v6c7x8z9', 'location.state'], ['K7Q2ZP', 'confirmationCode'], ['8811', 'sessionCode'], ['AB12CD', 'code'], ['42', 'orderId'], ['4f9c2a7e1b3d', 'user_token']])
      expect(isCandidate(v!, k!), `${k}=${v}`).toBe(true);
  });

  it('values are remembered by hash, but a value that only shares the hash of a produced one is never templated', async () => {
    // Two token-like values with the same 30-bit valueHash (found by search: ~40,000 tries).
    const byHash = new Map<number, string>();
    let pair: [string, string] | null = null;
    for (let i = 0; pair === null; i++) {
      const v = `tk_${i.toString(36)}x9`;
      const other = byHash.get(valueHash(v));
      if (other !== undefined) pair = [other, v];
      else byHash.set(valueHash(v), v);
    }
    const [produced, lookalike] = pair;
    expect(valueHash(produced)).toBe(valueHash(lookalike));
    const out = await runSteps([{ type: 'correlate' }], [
      ex({ seq: 0, method: 'POST', path: '/api/login', resHeaders: [['Content-Type', 'application/json']], resBody: `{"token": "${produced}"}` }),
      ex({ seq: 1, path: '/api/a', headers: [['X-Token', lookalike]] }),
      ex({ seq: 2, path: '/api/b', headers: [['X-Token', produced]] }),
      ex({ seq: 3, path: '/api/c', headers: [['X-Token', lookalike]] }),
    ]);
    expect(out.map((x) => headerOf(x, 'x-token'))).toEqual([undefined, lookalike, '${corr.login_token}', lookalike]);
  });

  it('session: capture correlates across connections; memory per session is capped', async () => {
    const [login, ...rest] = flow();
    const moved = rest.map((x) => ({ ...x, source: { ...x.source, connection: 'c2' } }));
    const byConn = await runSteps([{ type: 'correlate' }], [login!, ...moved]);
    expect(headerOf(byConn[1]!, 'authorization')).toBe(`Bearer ${TOKEN}`);
    const byCapture = await runSteps([{ type: 'correlate', session: 'capture' }], [login!, ...moved]);
    expect(headerOf(byCapture[1]!, 'authorization')).toBe('Bearer ${corr.login_token}');
    // With one remembered value per session, the token (produced first) is forgotten by the time it is used.
    const capped = await runSteps([{ type: 'correlate', maxValuesPerSession: 1 }], flow());
    expect(headerOf(capped[1]!, 'authorization')).toBe(`Bearer ${TOKEN}`);
  });

  it('manual rules: extract by header/JSON path/regex into a variable, inject by header, JSON path or query', async () => {
    const input = [
      ex({ path: '/csrf', resHeaders: [['X-CSRF-Token', 'csrf-1']], resBody: '{"n": 1}' }),
      ex({ method: 'POST', path: '/form', query: 'csrf=old', headers: [['X-CSRF-Token', 'old'], ['Content-Type', 'application/json']], body: '{"csrf": "old", "x": 1}', resBody: 'ticket=T-991;' }),
      ex({ path: '/next', headers: [] }),
    ];
    const p = await compileSteps([{ type: 'correlate', learn: false, rules: [
      { var: 'csrf', extract: { header: 'x-csrf-token' }, from: { paths: ['/csrf'] }, inject: [{ header: 'x-csrf-token' }, { jsonPath: '$.csrf' }, { query: 'csrf' }] },
      { var: 'ticket', extract: { regex: 'ticket=([\\w-]+)' }, inject: [{ header: 'x-ticket', add: true }] },
    ] }]);
    expect(p.buffers).toBe(false);
    const out: Exchange[] = [];
    for await (const x of runPipeline(p, input)) out.push(x); // no learning pass: a one-shot stream is fine
    expect(replayAnnotations(out[0]!).extract).toEqual([{ var: 'csrf', from: 'header', name: 'x-csrf-token' }]);
    expect(headerOf(out[1]!, 'x-csrf-token')).toBe('${corr.csrf}');
    expect(out[1]!.request.query).toBe('csrf=${corr.csrf}');
    expect(out[1]!.request.body!.data).toBe('{"csrf": "${corr.csrf}", "x": 1}');
    expect(replayAnnotations(out[1]!).extract).toEqual([{ var: 'ticket', from: 'body', regex: 'ticket=([\\w-]+)' }]);
    expect(headerOf(out[2]!, 'x-ticket')).toBe('${corr.ticket}');
  });

  it('a manual rule injected into Authorization keeps the recorded scheme, as learned correlations do', async () => {
    const out = await runSteps([{ type: 'correlate', learn: false, rules: [
      { var: 'tok', extract: { jsonPath: '$.access_token' }, inject: [{ header: 'authorization' }, { header: 'proxy-authorization' }, { header: 'x-token' }] },
    ] }], [
      ex({ method: 'POST', path: '/login', resBody: `{"access_token": "${TOKEN}"}` }),
      ex({ path: '/me', headers: [['Authorization', `Bearer ${TOKEN}`], ['Proxy-Authorization', `Basic ${TOKEN}`], ['X-Token', TOKEN]] }),
      ex({ path: '/raw', headers: [['Authorization', TOKEN]] }),
    ]);
    expect(headerOf(out[1]!, 'authorization')).toBe('Bearer ${corr.tok}');
    expect(headerOf(out[1]!, 'proxy-authorization')).toBe('Basic ${corr.tok}');
    expect(headerOf(out[1]!, 'x-token')).toBe('${corr.tok}');
    expect(headerOf(out[2]!, 'authorization')).toBe('${corr.tok}'); // no scheme recorded, none added
  });

  it('parameterize set still writes the whole header value it is given', async () => {
    const out = await runSteps([{ type: 'parameterize', set: [{ header: 'authorization', value: 'Token ${API_TOKEN}' }] }], [
      ex({ path: '/me', headers: [['Authorization', `Bearer ${TOKEN}`]] }),
    ]);
    expect(headerOf(out[0]!, 'authorization')).toBe('Token ${API_TOKEN}');
  });

  it('--explain lists each manual rule with where it was injected, and says when a rule never found its value', async () => {
    const p = await compileSteps([{ type: 'correlate', learn: false, rules: [
      { var: 'tok', extract: { jsonPath: '$.access_token' }, inject: [{ header: 'authorization' }, { query: 'access_token' }] },
      { var: 'csrf', extract: { header: 'x-csrf' }, from: { paths: ['/form'] }, inject: [{ formField: 'csrf' }] },
    ] }]);
    const input = [
      ex({ method: 'POST', path: '/login', resBody: `{"access_token": "${TOKEN}"}` }),
      ex({ path: '/me', query: `access_token=${TOKEN}`, headers: [['Authorization', `Bearer ${TOKEN}`]] }),
      ex({ path: '/you', headers: [['Authorization', `Bearer ${TOKEN}`]] }),
    ];
    for await (const _ of runPipeline(p, input));
    const lines = p.explain().split('\n');
    expect(lines).toContain('  corr.tok ← rule: response json $.access_token (from 1 response) → request.headers.authorization ×2, request.query.access_token ×1');
    expect(lines).toContain('  corr.csrf ← rule: response header x-csrf: no response had it, so nothing was injected (check extract and from)');
  });

  it('runs in one pass over a one-shot stream; a first use beyond the lookahead is left as recorded and reported', async () => {
    async function* stream(): AsyncGenerator<Exchange> {
      const [login, ...rest] = flow();
      yield login!;
      for (let i = 0; i < 5; i++) yield ex({ path: `/api/noise/${i}` });
      yield* rest;
    }
    const p = await compileSteps([{ type: 'correlate', lookahead: 3 }]);
    expect(p.buffers).toBe(true);
    const out: Exchange[] = [];
    for await (const x of runPipeline(p, stream())) out.push(x);
    expect(out.map((x) => x.request.path)).toEqual(['/api/login', '/api/noise/0', '/api/noise/1', '/api/noise/2', '/api/noise/3', '/api/noise/4', '/api/orders', '/api/orders/${corr.orders_id}', '/api/payments']);
    expect(headerOf(out[6]!, 'authorization')).toBe(`Bearer ${TOKEN}`); // the login had left the window
    // …while the order id, used right after it was produced, was close enough (the path above).
    expect(p.stats.warnings.join()).toMatch(/uses of a response value came more than 3 exchanges after it/);
    expect(p.explain()).toMatch(/\d+ uses were left as recorded/);

    const wide = await compileSteps([{ type: 'correlate' }]);
    const all: Exchange[] = [];
    for await (const x of runPipeline(wide, stream())) all.push(x);
    expect(headerOf(all[6]!, 'authorization')).toBe('Bearer ${corr.login_token}');
  });

  it('push/end give the same result as transform, for callers with their own loop', async () => {
    const p = await compileSteps([{ type: 'correlate' }, { type: 'filter', exclude: { paths: ['/api/payments'] } }]);
    const out: Exchange[] = [];
    for (const x of flow()) out.push(...(await p.push(x)));
    expect(out).toEqual([]); // all held inside the lookahead window
    out.push(...(await p.end()));
    expect(out.map((x) => x.request.path)).toEqual(['/api/login', '/api/orders', '/api/orders/${corr.orders_id}']);
    expect(p.stats).toMatchObject({ in: 4, out: 3, dropped: [0, 1] });
    expect(() => p.apply(flow()[0]!)).toThrow(/holds exchanges back: use push\(\)\/end\(\) or transform\(\)/);
  });
});
