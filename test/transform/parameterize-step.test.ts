import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replayAnnotations } from '../../transform/exchange-editor.js';
import { applyVariables, loadTemplateVars, resolveTemplates } from '../../transform/templates/resolve-templates.js';
import { escapeTemplates, formatTime, resolveTemplateString, templateProblem } from '../../transform/templates/template-string.js';
import { ex, headerOf, runSteps } from './transform-helpers.js';

const T0 = Date.UTC(2026, 2, 14, 10, 0, 0); // recording start, ms
const NOW = Date.UTC(2027, 0, 1, 12, 0, 0); // replay start, ms

describe('parameterize step', () => {
  it('set: header, query, cookie, JSON path and form field values become ${VAR} templates, resolved at replay', async () => {
    const input = ex({
      method: 'POST',
      query: 'api_key=abc123&q=x',
      headers: [['Authorization', 'Bearer real-token'], ['Cookie', 'sid=s1; theme=dark'], ['Content-Type', 'application/json']],
      body: '{"user": "ada", "password": "hunter2", "pin": 1234}',
    });
    const [out] = await runSteps([{
      type: 'parameterize',
      set: [
        { header: 'authorization', value: 'Bearer ${API_TOKEN}' },
        { query: 'api_key', value: '${API_KEY}' },
        { cookie: 'sid', value: '${SID}' },
        { jsonPath: '$.password', value: '${PASSWORD}' },
        { jsonPath: '$.pin', value: '${PIN}' },
        { header: 'x-tenant', value: '${TENANT}', add: true },
      ],
    }], [input]);
    const o = out!;
    expect(headerOf(o, 'authorization')).toBe('Bearer ${API_TOKEN}');
    expect(headerOf(o, 'cookie')).toBe('sid=${SID}; theme=dark');
    expect(headerOf(o, 'x-tenant')).toBe('${TENANT}');
    expect(o.request.query).toBe('api_key=${API_KEY}&q=x');
    expect(o.request.body!.data).toBe('{"user": "ada", "password": "${PASSWORD}", "pin": "${#PIN}"}');
    expect(JSON.parse(o.request.body!.data)).toBeTruthy(); // still valid JSON while stored
    expect(replayAnnotations(o).templates).toEqual(['request.headers.authorization', 'request.query', 'request.headers.cookie', 'request.body', 'request.headers.x-tenant']);

    const live = resolveTemplates(o, { API_TOKEN: 't"k', API_KEY: 'a&b', SID: 's2', PASSWORD: 'p"w', PIN: '9876', TENANT: 'acme' }, NOW);
    expect(headerOf(live, 'authorization')).toBe('Bearer t"k');
    expect(live.request.query).toBe('api_key=a%26b&q=x');
    expect(JSON.parse(live.request.body!.data)).toEqual({ user: 'ada', password: 'p"w', pin: 9876 });
    expect(live.request.body!.size).toBe(Buffer.byteLength(live.request.body!.data));
    expect(live.meta?.replay).toBeUndefined();
    expect(() => resolveTemplates(o, {}, NOW)).toThrow(/request.headers.authorization: \$\{API_TOKEN\} has no value/);
  });

  it('target: rewrites scheme, host and port, and the Host header; a template host is resolved at replay', async () => {
    const input = ex({ authority: 'api.shop.test', headers: [['Host', 'api.shop.test'], ['Accept', '*/*']] });
    input.request.scheme = 'https';
    const [a] = await runSteps([{ type: 'parameterize', target: { scheme: 'http', host: 'localhost', port: 8080 } }], [input]);
    expect([a!.request.scheme, a!.request.authority, headerOf(a!, 'host')]).toEqual(['http', 'localhost:8080', 'localhost:8080']);
    expect(a!.meta?.replay).toBeUndefined();
    const [b] = await runSteps([{ type: 'parameterize', target: { host: '${TARGET_HOST}', port: 443 } }], [input]);
    expect(b!.request.authority).toBe('${TARGET_HOST}');
    const live = resolveTemplates(b!, { TARGET_HOST: 'staging.internal' }, NOW);
    expect([live.request.authority, headerOf(live, 'host')]).toEqual(['staging.internal', 'staging.internal']);
  });

  it('paths: regex rewrites in order, with groups and templates', async () => {
    const [out] = await runSteps([{
      type: 'parameterize',
      paths: [{ match: '^/api/v1/', replace: '/api/v2/' }, { match: '^/api/v2/users/(\\d+)', replace: '/api/v2/${TENANT}/users/$1' }],
    }], [ex({ path: '/api/v1/users/42/orders' })]);
    expect(out!.request.path).toBe('/api/v2/${TENANT}/users/42/orders');
    expect(resolveTemplates(out!, { TENANT: 'acme' }, NOW).request.path).toBe('/api/v2/acme/users/42/orders');
  });

  it('rebaseTime: ISO and epoch times in bodies, chosen headers and query params shift by (replay start − recording start)', async () => {
    const first = ex({ start: T0 * 1000, path: '/first' });
    const later = ex({
      start: (T0 + 60_000) * 1000,
      method: 'POST',
      query: 'since=1773482400&other=1773482400',
      headers: [['If-Modified-Since', 'Sat, 14 Mar 2026 10:00:00 GMT'], ['Content-Type', 'application/json'], ['X-Id', '1773482400']],
      body: '{"at": "2026-03-14T10:01:00.250Z", "local": "2026-03-14T11:01:00+01:00", "ms": 1773482460000, "s": "1773482460", "id": 1234567890, "note": "${literal}"}',
    });
    const [, out] = await runSteps([{ type: 'parameterize', rebaseTime: { headers: ['if-modified-since'], queryParams: ['since'] } }], [first, later]);
    const o = out!;
    expect(headerOf(o, 'if-modified-since')).toBe('${time:http:+0}');
    expect(headerOf(o, 'x-id')).toBe('1773482400'); // not a chosen header
    expect(o.request.query).toBe('since=${time:epoch-s:+0}&other=1773482400');
    expect(JSON.parse(o.request.body!.data)).toEqual({
      at: '${time:iso3:+60250}', local: '${time:iso0@+01:00:+60000}', ms: '${#time:epoch-ms:+60000}', s: '${time:epoch-s:+60000}', id: 1234567890, note: '$${literal}',
    });
    const live = resolveTemplates(o, {}, NOW);
    expect(headerOf(live, 'if-modified-since')).toBe(new Date(NOW).toUTCString());
    expect(live.request.query).toBe(`since=${NOW / 1000}&other=1773482400`);
    expect(JSON.parse(live.request.body!.data)).toEqual({
      at: new Date(NOW + 60_250).toISOString(), local: '2027-01-01T13:01:00+01:00', ms: NOW + 60_000, s: String(NOW / 1000 + 60), id: 1234567890, note: '${literal}',
    });
  });
});

describe('templates', () => {
  it('resolve, escape, and report bad syntax', () => {
    expect(resolveTemplateString('a ${X} $${Y} ${corr.z}', { vars: { X: '1', 'corr.z': '2' } }, 'f')).toBe('a 1 ${Y} 2');
    expect(resolveTemplateString('a ${X} $${Y} ${corr.z}', { vars: { 'corr.z': '2' }, onlyCorrelation: true }, 'f')).toBe('a ${X} $${Y} 2');
    expect(escapeTemplates('x${a}')).toBe('x$${a}');
    expect(templateProblem('Bearer ${API_TOKEN}')).toBeNull();
    expect(templateProblem('${a b}')).toMatch(/not a variable name/);
    expect(templateProblem('x ${oops')).toMatch(/unclosed/);
    expect(formatTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678), 'iso6')).toBe('2026-01-02T03:04:05.678000Z');
    expect(formatTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678), 'iso0@-05:30')).toBe('2026-01-01T21:34:05-05:30');
  });

  it('applyVariables fills only correlation variables, percent-encoding them in the path and query', () => {
    const e = ex({ path: '/orders/${corr.id}', query: 'q=${corr.q}&k=${API}', headers: [['Authorization', 'Bearer ${corr.tok}']] });
    e.meta = { replay: { templates: ['request.path', 'request.query', 'request.headers.authorization'] } };
    const out = applyVariables(e, { 'corr.id': 'a/b', 'corr.q': 'x y', 'corr.tok': 'T' });
    expect(out.request.path).toBe('/orders/a%2Fb');
    expect(out.request.query).toBe('q=x%20y&k=${API}');
    expect(headerOf(out, 'authorization')).toBe('Bearer T');
    expect(() => applyVariables(e, { 'corr.id': 'x', 'corr.q': 'y', 'corr.tok': 'a\r\nX-Evil: 1' })).toThrow(/line break/);
  });

  it('loadTemplateVars reads the environment and a secrets file (dotenv or YAML/JSON), the file winning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'reprise-vars-'));
    await writeFile(join(dir, 's.env'), '# secrets\nAPI_TOKEN=from-file\nexport QUOTED="a b"\n');
    await writeFile(join(dir, 's.yaml'), 'API_TOKEN: yaml\nN: 3\n');
    expect(await loadTemplateVars({ env: { API_TOKEN: 'env', HOME: '/h' }, secretsFile: join(dir, 's.env') })).toEqual({ API_TOKEN: 'from-file', HOME: '/h', QUOTED: 'a b' });
    expect(await loadTemplateVars({ secretsFile: join(dir, 's.yaml') })).toEqual({ API_TOKEN: 'yaml', N: '3' });
    await expect(loadTemplateVars({ secretsFile: join(dir, 'missing.env') })).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND' });
  });
});
