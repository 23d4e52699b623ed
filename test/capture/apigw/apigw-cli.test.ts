import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { makeTempDir } from '../../support/temp-dir.js';
import { expectOneLineError, runCli } from '../../support/run-cli.js';
import { samplePayload } from './apigw-fixtures.js';
import { storedExchanges } from './ingest-support.js';

const bin = fileURLToPath(new URL('../../../bin/reprise.js', import.meta.url));
const KEY = 'cli-test-key-0c4e8a';

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  tmp = await makeTempDir('reprise-apigw-cli-');
});
afterEach(async () => {
  await tmp.cleanup();
});

describe('reprise capture ingest / import apigw (real executable)', () => {
  it('capture ingest: POST payloads, SIGTERM → exit 0 and the store holds every record', async () => {
    const store = join(tmp.dir, 'store');
    const proc = spawn(process.execPath, [bin, 'capture', 'ingest', '--listen', '127.0.0.1:0', '--out', store, '--api-key-env', 'REPRISE_TEST_INGEST_KEY'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, REPRISE_TEST_INGEST_KEY: KEY, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      proc.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      void exited.then(() => reject(new Error(`ingest exited early:\n${stderr}`)));
    });
    const agent = new Agent({ keepAliveTimeout: 10, keepAliveMaxTimeout: 10 });
    try {
      const post = async (body: string, contentType = 'application/json'): Promise<number> => {
        const res = await request(url, { method: 'POST', body, headers: { 'content-type': contentType, 'x-api-key': KEY }, dispatcher: agent });
        await res.body.text();
        return res.statusCode;
      };
      expect(await post(JSON.stringify([samplePayload(0), samplePayload(1)]))).toBe(202);
      expect(await post(`${JSON.stringify(samplePayload(2))}\n${JSON.stringify(samplePayload(1))}\n`, 'application/x-ndjson')).toBe(202);
      expect(await post('{"not": "a payload"}')).toBe(400);
    } finally {
      await agent.close();
      proc.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).not.toContain(KEY); // the key is never logged
    expect(stdout).toMatch(/stored\s+3/);
    expect(stdout).toMatch(/duplicates\s+1/);
    expect(stdout).toMatch(/rejected\s+1 \(dead-lettered to .*dead-letter\.ndjson\)/);
    expect((await storedExchanges(store)).map((e) => e.meta?.requestId)).toEqual(['req-000000', 'req-000001', 'req-000002']);
  });

  it('capture ingest refuses to start without a usable key', async () => {
    const r = await runCli(['capture', 'ingest', '--listen', '127.0.0.1:0', '--out', join(tmp.dir, 's')]);
    expect(r.code).toBe(2);
    expectOneLineError(r, 'CLI_USAGE');
    const r2 = await runCli(['capture', 'ingest', '--listen', '127.0.0.1:0', '--out', join(tmp.dir, 's'), '--api-key-env', 'REPRISE_SURELY_UNSET_VAR']);
    expect(r2.code).toBe(1);
    expect(expectOneLineError(r2, 'APIGW_CONFIG_INVALID')).toContain('REPRISE_SURELY_UNSET_VAR');
  });

  it('import apigw: a file into a store, and a malformed line as one error line with file:line', async () => {
    const file = join(tmp.dir, 'payloads.ndjson');
    await writeFile(file, `${[0, 1, 2].map((i) => JSON.stringify(samplePayload(i))).join('\n')}\n{"from": 1}\n`);
    const store = join(tmp.dir, 'store');
    const r = await runCli(['import', 'apigw', file, '--out', store]);
    expect(r.code).toBe(1);
    expect(expectOneLineError(r, 'APIGW_PAYLOAD_INVALID')).toContain(`${file}:4: from: must be a host name, not a number; endpoint: missing`);
    const ok = await runCli(['import', 'apigw', file, '--out', join(tmp.dir, 'store2'), '--skip-invalid']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^imported 3 exchanges from .*payloads\.ndjson \(1 source\) into .*; 1 invalid dead-lettered to .*dead-letter\.ndjson\n$/);
    expect(await storedExchanges(join(tmp.dir, 'store2'))).toHaveLength(3);
  });

  it('import apigw: the store and the dead-letter file redact the same headers: the defaults, and --redact-header ones even with --no-redact', async () => {
    const secrets = { Authorization: 'Bearer dl-secret-1', Cookie: 'sid=dl-secret-2', 'X-Session': 'dl-secret-3' };
    const good = { ...samplePayload(0), request_headers: { Accept: 'application/json', ...secrets } };
    const bad = { ...good, status: 'oops', response_headers: { 'Set-Cookie': 'sid=dl-secret-4' } };
    const file = join(tmp.dir, 'payloads.ndjson');
    // A good payload, a malformed one, and a line that is not JSON: the last two go to the dead letter.
    await writeFile(file, `${JSON.stringify(good)}\n${JSON.stringify(bad)}\n{"request_headers":{"cookie":"sid=dl-secret-5"} oops}\n`);
    const run = async (name: string, flags: string[]): Promise<{ stored: string; deadLetter: string }> => {
      const store = join(tmp.dir, name);
      const r = await runCli(['import', 'apigw', file, '--out', store, '--skip-invalid', ...flags]);
      expect(r.code, r.stderr).toBe(0);
      return { stored: JSON.stringify(await storedExchanges(store)), deadLetter: await readFile(join(store, 'dead-letter.ndjson'), 'utf8') };
    };
    const redacted = await run('redacted', ['--redact-header', 'x-session']);
    expect(redacted.stored).not.toMatch(/dl-secret/);
    expect(redacted.deadLetter).not.toMatch(/dl-secret/);
    expect(redacted.deadLetter.trimEnd().split('\n')).toHaveLength(2);
    // --no-redact keeps the defaults in the store in clear; a header named with --redact-header is still
    // redacted; a dead letter never holds the defaults in clear.
    const clear = await run('clear', ['--no-redact', '--redact-header', 'X-Session']);
    expect(clear.stored).toMatch(/Bearer dl-secret-1/);
    expect(clear.stored).not.toMatch(/dl-secret-3/);
    expect(clear.deadLetter).not.toMatch(/dl-secret/);
  });
});
