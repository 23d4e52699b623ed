import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importHar } from '../../capture/har/har-import.js';
import { pcapExchanges } from '../../capture/pcap/capture-pcap.js';
import type { Exchange } from '../../store/exchange.js';
import { listSegments, readExchanges } from '../../store/segment-reader.js';
import { writeExchanges } from '../../store/write-exchanges.js';
import { extractVariables } from '../../transform/correlate/extraction-rules.js';
import { replayAnnotations } from '../../transform/exchange-editor.js';
import { DETECTOR_NAMES, DetectorSet } from '../../transform/redact/detectors.js';
import { isRedactionToken } from '../../transform/redact/replacer.js';
import { applyVariables, resolveTemplates } from '../../transform/templates/resolve-templates.js';
import { transformStore } from '../../transform/transform-store.js';
import { makeTempDir } from '../support/temp-dir.js';
import { headerOf, TEST_KEY } from './transform-helpers.js';

const fixture = (p: string): string => fileURLToPath(new URL(`../fixtures/${p}`, import.meta.url));
const plugin = fileURLToPath(new URL('./fixtures/tag-plugin.ts', import.meta.url));
const env = { REPRISE_REDACT_KEY: TEST_KEY };

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
const stores: Record<string, string> = {};

beforeAll(async () => {
  tmp = await makeTempDir('reprise-transform-');
  stores.har = join(tmp.dir, 'har');
  await writeExchanges(importHar(fixture('har/sample-api.har'), { redactHeaders: false }), stores.har);
  for (const name of ['loopback-node-keepalive', 'loopback-curl']) {
    stores[name] = join(tmp.dir, name);
    // Secrets in clear, as a capture with --no-redact would store them: the transform has to find them.
    await writeExchanges(pcapExchanges(createReadStream(fixture(`pcap/${name}.pcap`)), { name, redactHeaders: false }), stores[name]!);
  }
});
afterAll(async () => tmp.cleanup());

async function readAll(store: string): Promise<Exchange[]> {
  const out: Exchange[] = [];
  for await (const x of readExchanges(store)) out.push(x);
  return out;
}

const EVERY_STEP = `
steps:
  - type: filter
    presets: [drop-health-checks, drop-static-assets]
  - type: dedupe
    window: 30s
  - type: sample
    perEndpoint: 6
  - type: correlate
    session: capture
  - type: redact
    headers: [authorization, cookie, set-cookie]
    jsonPaths: [$..password, $..email]
    detectors: default
    mode: hash
  - type: parameterize
    target: { host: '\${TARGET_HOST}' }
    set:
      - { header: x-api-version, value: '\${API_VERSION}', add: true }
    rebaseTime: { headers: [if-modified-since] }
  - type: plugin
    path: ${JSON.stringify(plugin)}
    options: { tenant: fixture }
`;

describe('the whole pipeline on real captures', () => {
  it('sample HAR: every step does its part, and every template resolves', async () => {
    const file = join(tmp.dir, 'every-step.yaml');
    await writeFile(file, EVERY_STEP);
    const out = join(tmp.dir, 'har-out');
    const summary = await transformStore(stores.har!, out, file, { env });
    expect(summary.in).toBe(60);
    const dropped = Object.fromEntries(summary.steps.map((s) => [s.label.split(' (')[0], s.dropped]));
    expect(dropped['step 1']).toBe(1); // the logo PNG
    expect(dropped['step 2']).toBeGreaterThan(0); // repeated GETs within 30 s
    expect(dropped['step 3']).toBeGreaterThan(0); // /users/:id beyond 6
    expect(summary.out).toBe(60 - summary.steps.reduce((a, s) => a + s.dropped, 0));
    expect(summary.redactions.header).toBeGreaterThan(0);
    expect(summary.redactions.jsonPath).toBeGreaterThan(0);
    expect(summary.templated.correlation).toBeGreaterThan(0);
    expect(summary.explanation).toContain('corr.login_token ← POST /api/v1/auth/login response json $.token');

    const written = await readAll(out);
    expect(written.length).toBe(summary.out);
    const [login, ...rest] = written as [Exchange, ...Exchange[]];
    expect(login.request.path).toBe('/api/v1/auth/login');
    expect(replayAnnotations(login).extract?.map((r) => r.var)).toContain('login_token');
    expect(login.request.body!.data).toMatch(/^\{"email":"tok_[0-9a-f]{16}","password":"tok_[0-9a-f]{16}"\}$/);
    expect(rest.filter((x) => x.request.path.startsWith('/api/')).every((x) => headerOf(x, 'authorization') === 'Bearer ${corr.login_token}')).toBe(true);
    expect(written.every((x) => x.request.authority === '${TARGET_HOST}' && headerOf(x, 'x-tenant') === 'tenant-fixture' && headerOf(x, 'x-api-version') === '${API_VERSION}')).toBe(true);
    expect(written.some((x) => headerOf(x, 'if-none-match') !== undefined)).toBe(true);
    const text = (await Promise.all((await listSegments(out)).map(async (s) => gunzipSync(await readFile(s.path)).toString()))).join('');
    expect(text).not.toMatch(/eyJhbGciOiJIUzI1NiJ9|ada@example\.test|correct horse|s%3A7f3a9c2e1b/);

    // Replay-time: variables come from (here: recorded) responses in order, then every template resolves.
    const vars: Record<string, string> = { TARGET_HOST: 'localhost:8080', API_VERSION: '2' };
    for (const x of written) {
      const ready = resolveTemplates(applyVariables(x, vars), vars, Date.now());
      expect(JSON.stringify(ready)).not.toMatch(/\$\{(?!#)/);
      if (x.response) extractVariables(replayAnnotations(x).extract, x.response, vars);
    }
    expect(vars['corr.login_token']).toMatch(/^tok_/);
  });

  it('pcap captures: the same pipeline runs on real HTTP/1 traffic', async () => {
    const file = join(tmp.dir, 'every-step.yaml');
    for (const name of ['loopback-node-keepalive', 'loopback-curl']) {
      const out = join(tmp.dir, `${name}-out`);
      const summary = await transformStore(stores[name]!, out, file, { env });
      const written = await readAll(out);
      expect(summary.in, name).toBeGreaterThan(3);
      expect(written.length, name).toBe(summary.out);
      // The host is replaced; the recorded port stays unless the target names one.
      expect(written.every((x) => /^\$\{TARGET_HOST\}:\d+$/.test(x.request.authority) && headerOf(x, 'host') === x.request.authority && headerOf(x, 'x-tenant') === 'tenant-fixture')).toBe(true);
      // A 1 MB response and a 200 KB upload pass through with their sizes kept consistent.
      for (const x of written) for (const b of [x.request.body, x.response?.body]) if (b && b.encoding === 'utf8' && !b.truncated) expect(b.size).toBe(Buffer.byteLength(b.data));
    }
  });
});

describe('no detector finding survives redact', () => {
  const detectors = new DetectorSet(DETECTOR_NAMES);
  async function findings(store: string): Promise<string[]> {
    const hits: string[] = [];
    for (const seg of await listSegments(store)) {
      const lines = gunzipSync(await readFile(seg.path)).toString('utf8').split('\n');
      for (const line of lines) {
        for (const m of detectors.find(line, isRedactionToken)) hits.push(`${m.kind}: ${line.slice(m.start, m.end)}`);
      }
    }
    return hits;
  }

  it('scans every line of every output segment: zero hits, where the input had them', async () => {
    const file = join(tmp.dir, 'redact-default.yaml');
    await writeFile(file, 'steps:\n  - type: redact\n    detectors: default\n');
    for (const name of ['har', 'loopback-node-keepalive', 'loopback-curl']) {
      const out = join(tmp.dir, `${name}-redacted`);
      await transformStore(stores[name]!, out, file);
      expect(await findings(out), name).toEqual([]);
    }
    const before = await findings(stores.har!);
    expect(before.some((h) => h.startsWith('jwt:'))).toBe(true);
    expect(before.some((h) => h.startsWith('email:'))).toBe(true);
  });

  async function storeText(store: string): Promise<string> {
    return (await Promise.all((await listSegments(store)).map(async (s) => gunzipSync(await readFile(s.path)).toString()))).join('');
  }

  it('every default detector, in every place a secret can sit, in mask and hash mode: zero hits after', async () => {
    const input = join(tmp.dir, 'secrets-everywhere');
    await writeExchanges(secretsEverywhere(), input);
    const kinds = new Set((await findings(input)).map((h) => h.split(':')[0]));
    expect([...kinds].sort()).toEqual([...DETECTOR_NAMES].sort()); // the input has every kind
    for (const mode of ['mask', 'hash']) {
      const file = join(tmp.dir, `redact-${mode}.yaml`);
      await writeFile(file, `steps:\n  - type: redact\n    detectors: default\n    mode: ${mode}\n`);
      const out = join(tmp.dir, `secrets-${mode}`);
      const summary = await transformStore(input, out, file, { env });
      expect(await findings(out), mode).toEqual([]);
      // A card with more digits around it (a CVV, an expiry, a reference): the card's digits are gone too.
      expect(await storeText(out), mode).not.toMatch(/6011[ -]?1111[ -]?1111[ -]?1117/);
      expect(summary.out).toBe(summary.in);
      for (const kind of DETECTOR_NAMES) expect(summary.redactions[`detector:${kind}`], `${mode} ${kind}`).toBeGreaterThan(0);
    }
  });
});

/**
 * Records with each detector's kind of secret in each place redact looks:
 * request and response headers, cookies, query, path segments, JSON keys and
 * string and number values (nested, in arrays), form fields, plain text, and
 * the cut-off tail of a truncated JSON body.
 */
function secretsEverywhere(): Exchange[] {
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEiLCJpYXQiOjE3MDAwMDAwMDB9.c2lnbmF0dXJlLWJ5dGVz';
  const aws = 'AKIAIOSFODNN7EXAMPLE';
  const json = (v: unknown): string => JSON.stringify(v);
  const body = (data: string, truncated = false) => ({ encoding: 'utf8' as const, data, size: Buffer.byteLength(data) + (truncated ? 100 : 0), ...(truncated && { truncated: true }) });
  const base = (i: number, { resHeaders, resBody, ...spec }: Partial<Exchange['request']> & { resHeaders?: Exchange['request']['headers']; resBody?: ReturnType<typeof body> | null }): Exchange => ({
    v: 1,
    id: `01a2084d-0000-7000-8000-${String(i).padStart(12, '0')}`,
    start: Date.UTC(2026, 10, 23) * 1000 + i * 1000,
    duration: 1000,
    source: { kind: 'synthetic', captureId: 'secrets', connection: 'c1', seq: i },
    request: { method: 'POST', scheme: 'https', authority: 'api.example.test', path: '/', query: '', httpVersion: '1.1', headers: [['Host', 'api.example.test']], body: null, ...spec },
    response: { status: 200, httpVersion: '1.1', headers: resHeaders ?? [['Content-Type', 'application/json']], body: resBody ?? null },
  });
  return [
    base(0, {
      path: '/users/ada%40example.test/cards/4111111111111111',
      query: `email=grace%40example.test&token=${jwt}&phone=%2B14155552671&track=60111111111111171226`,
      headers: [['Host', 'api.example.test'], ['X-Contact', 'ops@example.test'], ['X-Card', '6011 1111 1111 1117 123'], ['X-Debug-Token', `Bearer ${jwt}`], ['X-Aws', aws], ['Cookie', `sid=${jwt}; mail=ada@example.test`]],
      resHeaders: [['Content-Type', 'application/json'], ['X-Owner', 'owner@example.test'], ['Set-Cookie', `sid=${jwt}; Path=/; HttpOnly`]],
      resBody: body(json({ user: { email: 'ada@example.test', phones: ['+44 20 7946 0958', '(415) 555-2671'] }, cards: [{ number: '4111 1111 1111 1111' }, { number: 5555555555554444 }, { pan: '6011111111111117 12/26' }, { ref: '60111111111111170126' }], 'linus@example.test': true, keys: { aws }, note: `Bearer sk_live_0123456789abcdef` })),
    }),
    base(1, {
      headers: [['Host', 'api.example.test'], ['Content-Type', 'application/x-www-form-urlencoded']],
      body: body(`email=ada%40example.test&card=4111-1111-1111-1111&phone=%2B14155552671&key=${aws}&auth=Bearer+abcdefgh12345678`),
      resHeaders: [['Content-Type', 'text/plain']],
      resBody: body(`Contact ada@example.test or call +1 (415) 555-2671; card 378282246310005; ref 12-6011-1111-1111-1117-123; ${jwt}; ${aws}; Authorization: Bearer abcdefgh12345678`),
    }),
    // Truncated JSON: the secret sits in the cut-off tail the scanner never sees as a value.
    base(2, { headers: [['Host', 'api.example.test'], ['Content-Type', 'application/json']], body: body('{"items":[{"a":1}],"owner":"x","contact":"grace@example.test and +14155552671 and 4111111111111111', true) }),
  ];
}
