import { X509Certificate, webcrypto } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCa, issueLeaf, openCaSigner, type CaPem } from '../../../capture/proxy/ca-create.js';
import { loadCa } from '../../../capture/proxy/ca-files.js';
import { loadX509, pem } from '../../../capture/proxy/ca-x509.js';
import { parseConnectTarget } from '../../../capture/proxy/forward-connect.js';
import { compileHostGlobs } from '../../../capture/proxy/forward-proxy-options.js';
import { LeafCertCache } from '../../../capture/proxy/tls-leaf-cache.js';
import { expectOneLineError, runCli } from '../../support/run-cli.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { testCas } from './forward-fixtures.js';

/** The interception CA: what it signs, how leaves are cached, and `reprise ca init` on disk. */

let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe('CA and leaf certificates', () => {
  it('the CA is a self-signed CA naming reprise, with a fresh serial each time', async () => {
    const { reprise } = await testCas();
    const other = await createCa();
    const ca = new X509Certificate(reprise.cert);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toMatch(/CN=reprise CA/);
    expect(ca.issuer).toBe(ca.subject);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.serialNumber).not.toBe(new X509Certificate(other.cert).serialNumber);
    const x509 = await loadX509();
    const parsed = new x509.X509Certificate(reprise.cert);
    const usage = parsed.getExtension(x509.KeyUsagesExtension)!;
    expect(usage.usages & x509.KeyUsageFlags.keyCertSign).toBeTruthy();
    expect(parsed.getExtension(x509.BasicConstraintsExtension)).toMatchObject({ ca: true, critical: true });
  });

  it('leaves carry a DNS or IP SAN and serverAuth, are signed by the CA and short-lived', async () => {
    const { reprise } = await testCas();
    const signer = await openCaSigner(reprise);
    const ca = new X509Certificate(reprise.cert);
    const byName = new X509Certificate((await issueLeaf(signer, 'api.example.com')).cert);
    const byIp = new X509Certificate((await issueLeaf(signer, '127.0.0.1')).cert);
    const byV6 = new X509Certificate((await issueLeaf(signer, '::1')).cert);
    expect(byName.subjectAltName).toBe('DNS:api.example.com');
    expect(byIp.subjectAltName).toBe('IP Address:127.0.0.1');
    expect(byV6.subjectAltName).toMatch(/^IP Address:0?:?0?:?.*1$/i);
    for (const leaf of [byName, byIp]) {
      expect(leaf.ca).toBe(false);
      expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // serverAuth
      expect(leaf.checkIssued(ca)).toBe(true);
      expect(leaf.verify(ca.publicKey)).toBe(true);
      const days = (Date.parse(leaf.validTo) - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(6);
      expect(days).toBeLessThan(8);
    }
  });

  it('refuses a CA that is not one, or a key that is not its own', async () => {
    const { reprise, upstream } = await testCas();
    const leaf = await issueLeaf(await openCaSigner(reprise), 'x.test');
    await expect(openCaSigner({ cert: leaf.cert, key: leaf.key })).rejects.toMatchObject({ code: 'CA_INVALID', message: expect.stringMatching(/not a CA/) });
    await expect(openCaSigner({ cert: reprise.cert, key: upstream.key })).rejects.toMatchObject({ code: 'CA_INVALID', message: expect.stringMatching(/does not belong/) });
    await expect(openCaSigner({ cert: 'nonsense', key: reprise.key })).rejects.toMatchObject({ code: 'CA_INVALID' });
  });

  it('signs with an existing RSA CA too', async () => {
    const x509 = await loadX509();
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
    const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({ name: 'CN=corporate RSA CA', keys, signingAlgorithm: alg, extensions: [new x509.BasicConstraintsExtension(true, 0, true)] });
    const rsa: CaPem = { cert: cert.toString('pem'), key: pem('PRIVATE KEY', Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey))) };
    const leaf = new X509Certificate((await issueLeaf(await openCaSigner(rsa), 'rsa.test')).cert);
    expect(leaf.checkIssued(new X509Certificate(rsa.cert))).toBe(true);
    expect(leaf.verify(new X509Certificate(rsa.cert).publicKey)).toBe(true);
  });

  it('concurrent requests for one host share one signing; the cache is bounded', async () => {
    const { reprise } = await testCas();
    const cache = await LeafCertCache.open(reprise, { maxHosts: 2 });
    const contexts = await Promise.all(Array.from({ length: 50 }, () => cache.contextFor('Same.Host.test')));
    expect(new Set(contexts).size).toBe(1);
    expect(cache.stats).toMatchObject({ issued: 1, hits: 49 });
    await cache.contextFor('b.test');
    await cache.contextFor('c.test'); // evicts same.host.test, the least recently used
    expect(cache.size).toBe(2);
    expect(cache.stats.evicted).toBe(1);
    await cache.contextFor('same.host.test');
    expect(cache.stats.issued).toBe(4);
  });
});

describe('host globs and CONNECT targets', () => {
  it('matches pass-through globs case-insensitively, * spanning dots', () => {
    const m = compileHostGlobs(['*.bank.example', 'login.example.com', '10.0.*', '[::1]']);
    expect(m('api.eu.BANK.example')).toBe(true);
    expect(m('bank.example')).toBe(false);
    expect(m('login.example.com')).toBe(true);
    expect(m('xlogin.example.com')).toBe(false);
    expect(m('10.0.3.4')).toBe(true);
    expect(m('::1')).toBe(true);
    expect(compileHostGlobs([])('anything')).toBe(false);
  });

  it('parses host:port and [v6]:port, refuses names that could not go in a certificate', () => {
    expect(parseConnectTarget('Example.com:443')).toEqual({ host: 'example.com', port: 443, authority: 'example.com:443' });
    expect(parseConnectTarget('[::1]:8443')).toEqual({ host: '::1', port: 8443, authority: '[::1]:8443' });
    for (const bad of ['example.com', 'a b:443', 'x:0', 'x:70000', '[nothex]:1', 'a/b:443', ':443', 'CN=x,O=y:443']) expect(parseConnectTarget(bad)).toBeNull();
  });
});

describe('reprise ca init (real CLI)', () => {
  it('writes ca.crt and a 0600 ca.key, then refuses to overwrite without --force', async () => {
    const { dir, cleanup } = await makeTempDir();
    cleanups.push(cleanup);
    const caDir = join(dir, 'ca');
    const first = await runCli(['ca', 'init', '--dir', caDir]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(join(caDir, 'ca.crt'));
    expect((await stat(join(caDir, 'ca.key'))).mode & 0o777).toBe(0o600);
    const written = await loadCa(caDir);
    expect(new X509Certificate(written.cert).ca).toBe(true);
    await openCaSigner(written); // cert and key belong together

    const second = await runCli(['ca', 'init', '--dir', caDir]);
    expect(second.code).toBe(1);
    expect(expectOneLineError(second, 'CA_EXISTS')).toContain('--force');
    expect(await readFile(join(caDir, 'ca.crt'), 'utf8')).toBe(written.cert);

    const forced = await runCli(['ca', 'init', '--dir', caDir, '--force', '--json']);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ certPath: join(caDir, 'ca.crt') });
    expect(await readFile(join(caDir, 'ca.crt'), 'utf8')).not.toBe(written.cert);
    expect((await stat(join(caDir, 'ca.key'))).mode & 0o777).toBe(0o600);
  });

  it('capture proxy --forward with a missing --ca-dir is a one-line error', async () => {
    const { dir, cleanup } = await makeTempDir();
    cleanups.push(cleanup);
    const r = await runCli(['capture', 'proxy', '--forward', '--listen', '127.0.0.1:0', '--out', join(dir, 'store'), '--ca-dir', join(dir, 'nope')]);
    expect(r.code).toBe(1);
    expectOneLineError(r, 'CA_NOT_FOUND');
  });
});
