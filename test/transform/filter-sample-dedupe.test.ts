import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../store/exchange.js';
import { syntheticExchange } from '../support/synthetic-exchange.js';
import { compileSteps, ex, runSteps } from './transform-helpers.js';

const paths = (list: Exchange[]): string[] => list.map((x) => `${x.request.method} ${x.request.path}`);

describe('filter step', () => {
  const input = [
    ex({ path: '/api/users/1', status: 200 }),
    ex({ method: 'POST', path: '/api/orders', status: 500, headers: [['X-Debug', '1']] }),
    ex({ path: '/healthz' }),
    ex({ path: '/actuator/health' }),
    ex({ path: '/api/items', headers: [['User-Agent', 'kube-probe/1.29']] }),
    ex({ path: '/static/app.3f9a.js' }),
    ex({ path: '/img/logo.PNG' }),
    ex({ path: '/favicon.ico' }),
    ex({ path: '/api/orders/9/status' }),
    ex({ authority: 'admin.example.test', path: '/api/users/2' }),
  ];

  it('presets drop health checks and static assets, and nothing else', async () => {
    const out = await runSteps([{ type: 'filter', presets: ['drop-health-checks', 'drop-static-assets'] }], input);
    expect(paths(out)).toEqual(['GET /api/users/1', 'POST /api/orders', 'GET /api/orders/9/status', 'GET /api/users/2']);
  });

  it('include and exclude by method, host glob, path glob or regex, status and header', async () => {
    const keep = async (step: Record<string, unknown>): Promise<string[]> => paths(await runSteps([{ type: 'filter', ...step }], input));
    expect(await keep({ include: { methods: ['POST'] } })).toEqual(['POST /api/orders']);
    expect(await keep({ include: { paths: ['/api/users/*'], hosts: ['api.**'] } })).toEqual(['GET /api/users/1']);
    expect(await keep({ include: [{ statuses: ['5xx'] }, { pathRegex: '^/img/' }] })).toEqual(['POST /api/orders', 'GET /img/logo.PNG']);
    expect(await keep({ include: { paths: ['/api/**'] }, exclude: { headers: [{ name: 'x-debug' }, { name: 'user-agent', value: '^kube' }] } }))
      .toEqual(['GET /api/users/1', 'GET /api/orders/9/status', 'GET /api/users/2']);
  });

  it('counts what it dropped', async () => {
    const p = await compileSteps([{ type: 'filter', presets: ['drop-static-assets'] }]);
    for (const x of input) p.apply(x);
    expect(p.stats).toMatchObject({ in: 10, out: 7, dropped: [3] });
  });
});

describe('sample step', () => {
  const many = Array.from({ length: 4000 }, (_, i) => {
    const x = syntheticExchange(i);
    return { ...x, request: { ...x.request, headers: [...x.request.headers, ['X-User', `u${i % 100}`]] as Array<[string, string]> } };
  });

  it('keeps about the given percentage, the same exchanges for the same seed', async () => {
    const a = await runSteps([{ type: 'sample', percent: 25, seed: 7 }], many);
    const b = await runSteps([{ type: 'sample', percent: 25, seed: 7 }], many);
    const c = await runSteps([{ type: 'sample', percent: 25, seed: 8 }], many);
    expect(a.length).toBeGreaterThan(900);
    expect(a.length).toBeLessThan(1100);
    expect(b.map((x) => x.id)).toEqual(a.map((x) => x.id));
    expect(c.map((x) => x.id)).not.toEqual(a.map((x) => x.id));
    // Order-independent: the decision for an exchange does not depend on what came before it.
    const reversed = await runSteps([{ type: 'sample', percent: 25, seed: 7 }], [...many].reverse());
    expect(new Set(reversed.map((x) => x.id))).toEqual(new Set(a.map((x) => x.id)));
  });

  it('keyed: all of one user kept or dropped together', async () => {
    const out = await runSteps([{ type: 'sample', percent: 30, by: { header: 'x-user' } }], many);
    const users = new Set(out.map((x) => x.request.headers.find(([n]) => n === 'X-User')![1]));
    expect(users.size).toBeGreaterThan(15);
    expect(users.size).toBeLessThan(45);
    expect(out.length).toBe(users.size * 40); // every kept user with all 40 of their requests
  });

  it('perEndpoint caps each endpoint template', async () => {
    const out = await runSteps([{ type: 'sample', perEndpoint: 3 }], many);
    const counts = new Map<string, number>();
    for (const x of out) counts.set(`${x.request.method} ${x.request.path.replace(/\d+/g, ':id')}`, (counts.get(`${x.request.method} ${x.request.path.replace(/\d+/g, ':id')}`) ?? 0) + 1);
    expect([...counts.values()]).toEqual([3, 3, 3, 3]);
  });
});

describe('dedupe step', () => {
  const at = (ms: number, over: Parameters<typeof ex>[0] = {}): Exchange => ex({ start: 1_000_000_000_000 + ms * 1000, path: '/api/x', ...over });

  it('drops identical requests within the window and keeps one per window', async () => {
    const input = [at(0), at(100), at(900), at(1000), at(1500), at(2100), at(50, { path: '/api/y' }), at(60, { query: 'a=1' }), at(70, { method: 'POST', body: '{"a":1}' }), at(80, { method: 'POST', body: '{"a":2}' }), at(90, { method: 'POST', body: '{"a":1}' })];
    const out = await runSteps([{ type: 'dedupe', window: '1s' }], input);
    expect(out.map((x) => `${(x.start - 1_000_000_000_000) / 1000} ${x.request.path}?${x.request.query} ${x.request.body?.data ?? ''}`)).toEqual([
      '0 /api/x? ', '1000 /api/x? ', '2100 /api/x? ', '50 /api/y? ', '60 /api/x?a=1 ', '70 /api/x? {"a":1}', '80 /api/x? {"a":2}',
    ]);
  });

  it('chosen headers are part of the identity; memory is capped by maxEntries', async () => {
    const input = [at(0, { headers: [['Accept', 'a']] }), at(1, { headers: [['Accept', 'b']] }), at(2, { headers: [['Accept', 'a']] })];
    expect((await runSteps([{ type: 'dedupe', headers: ['accept'] }], input)).length).toBe(2);
    expect((await runSteps([{ type: 'dedupe' }], input)).length).toBe(1);
    const p = await compileSteps([{ type: 'dedupe', maxEntries: 2 }]);
    for (const q of ['a', 'b', 'c', 'a']) p.apply(at(0, { query: q }));
    expect(p.stats.out).toBe(4); // 'a' was forgotten when 'c' came
    expect(p.stats.warnings.join()).toMatch(/raise maxEntries/);
  });
});
