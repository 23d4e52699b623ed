import { X509Certificate as NodeX509, createPrivateKey } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import type { webcrypto } from 'node:crypto';
import { RepriseError } from '../../errors.js';
import { EC_P256, generateEcKeyPair, importSigningKey, loadX509, privateKeyToPem, randomSerial, type SigningKey, type X509 } from './ca-x509.js';

/**
 * The certificate authority that lets the forward proxy read HTTPS: a
 * self-signed CA the user trusts once, and per-host leaf certificates signed
 * by it on demand. Leaves live a week at most: they are minted per process
 * and never leave memory, so a long life would only widen the window in
 * which a leaked one could be misused.
 */

/** A CA as PEM text: `cert` is what clients trust, `key` stays private. */
export interface CaPem {
  cert: string;
  key: string;
}

export interface CreateCaOptions {
  /** Subject CN; the default names reprise, this machine and the date so several CAs can be told apart in a trust store. */
  commonName?: string;
  /** Default 825 days: long enough not to annoy, short enough that a forgotten trusted CA expires (the CA/Browser Forum's old leaf cap). */
  validityDays?: number;
  now?: Date;
}

const DAY_MS = 86_400_000;
/** Leaves start a day in the past so a client whose clock runs slow still accepts them. */
const LEAF_BACKDATE_MS = DAY_MS;
export const LEAF_VALIDITY_MS = 7 * DAY_MS;

/**
 * A new self-signed CA (CA:true, pathlen 0, keyCertSign + cRLSign, ECDSA P-256).
 *
 * @example
 * const { cert, key } = await createCa();
 */
export async function createCa(options: CreateCaOptions = {}): Promise<CaPem> {
  const x509 = await loadX509();
  const now = options.now ?? new Date();
  const days = options.validityDays ?? 825;
  const cn = options.commonName ?? `reprise CA ${hostname()} ${now.toISOString().slice(0, 10)}`;
  const keys = await generateEcKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [cn] }, { O: ['reprise'] }, { OU: ['reprise HTTPS interception - trust only on machines you control'] }],
    notBefore: new Date(now.getTime() - LEAF_BACKDATE_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
    keys,
    signingAlgorithm: EC_P256,
    extensions: [
      // pathlen 0: this CA signs leaves only, never another CA.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await privateKeyToPem(keys.privateKey) };
}

/** Everything needed to sign leaves, prepared once per proxy. */
export interface CaSigner {
  x509: X509;
  caCert: InstanceType<X509['X509Certificate']>;
  signing: SigningKey;
  /**
   * One key pair shared by every leaf of this process (as mitmproxy does):
   * generating and PEM-encoding a key per host would double the cost of a
   * cold host for no gain, since the key never leaves memory.
   */
  leafKeys: webcrypto.CryptoKeyPair;
  leafKeyPem: string;
}

/**
 * Check a CA (a CA certificate, its matching private key, not expired) and
 * prepare it for signing. `where` names the source in errors (a directory).
 *
 * @example
 * const signer = await openCaSigner(await loadCa('~/.reprise/ca'));
 */
export async function openCaSigner(ca: CaPem, where = 'CA', now: Date = new Date()): Promise<CaSigner> {
  let nodeCert: NodeX509;
  try {
    nodeCert = new NodeX509(ca.cert);
  } catch (err) {
    throw new RepriseError('CA_INVALID', `${where}: ca.crt is not a PEM certificate (${(err as Error).message})`, { cause: err });
  }
  if (!nodeCert.ca) throw new RepriseError('CA_INVALID', `${where}: ca.crt is not a CA certificate (basicConstraints CA:false)`);
  if (new Date(nodeCert.validTo).getTime() <= now.getTime()) {
    throw new RepriseError('CA_INVALID', `${where}: the CA expired on ${nodeCert.validTo}; make a new one with reprise ca init --force`);
  }
  const signing = await importSigningKey(ca.key, `${where}: ca.key`);
  if (!nodeCert.checkPrivateKey(createPrivateKey(ca.key))) {
    throw new RepriseError('CA_INVALID', `${where}: ca.key does not belong to ca.crt`);
  }
  const x509 = await loadX509();
  const leafKeys = await generateEcKeyPair();
  return { x509, caCert: new x509.X509Certificate(ca.cert), signing, leafKeys, leafKeyPem: await privateKeyToPem(leafKeys.privateKey) };
}

/** A leaf certificate for one host, and when it stops being valid. */
export interface LeafCert {
  cert: string;
  key: string;
  notAfter: Date;
}

/**
 * Sign a server certificate for `host` (a DNS name, or an IPv4/IPv6 literal
 * without brackets): SAN dNSName or iPAddress, serverAuth, 7 days.
 *
 * @example
 * const leaf = await issueLeaf(signer, 'api.example.com');
 */
export async function issueLeaf(signer: CaSigner, host: string, now: Date = new Date()): Promise<LeafCert> {
  const { x509, caCert, signing } = signer;
  const ip = isIP(host) !== 0;
  const notAfter = new Date(now.getTime() + LEAF_VALIDITY_MS);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    // RFC 5280 caps a CN at 64 characters; clients match on the SAN anyway.
    subject: host.length <= 64 ? [{ CN: [host] }, { O: ['reprise'] }] : [{ O: ['reprise'] }],
    issuer: caCert.subjectName,
    notBefore: new Date(now.getTime() - LEAF_BACKDATE_MS),
    notAfter,
    publicKey: signer.leafKeys.publicKey,
    signingKey: signing.key,
    signingAlgorithm: signing.algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: ip ? 'ip' : 'dns', value: host }]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: signer.leafKeyPem, notAfter };
}
