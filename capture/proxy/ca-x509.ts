import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { RepriseError } from '../../errors.js';

/**
 * The one door to @peculiar/x509, the pure-TypeScript X.509 builder that
 * signs reprise's CA and leaf certificates over Node's WebCrypto (no
 * binaries, no OpenSSL CLI). It is loaded lazily: it needs the
 * `reflect-metadata` polyfill installed on the global `Reflect` and costs
 * ~150 ms to load, neither of which a `reprise store cat` should pay.
 */

export type X509 = typeof import('@peculiar/x509');

/** A WebCrypto signing key and the algorithm parameters it signs with. */
export interface SigningKey {
  key: webcrypto.CryptoKey;
  /** Passed as `signingAlgorithm` to the certificate generator. */
  algorithm: webcrypto.EcdsaParams | webcrypto.Algorithm;
}

/** Key generation parameters: ECDSA P-256, which every TLS stack (OpenSSL/curl, Node/undici, browsers) accepts and which signs in well under a millisecond. */
export const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

let loading: Promise<X509> | null = null;

/** The x509 module, set up to use Node's WebCrypto. */
export function loadX509(): Promise<X509> {
  loading ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    return x509;
  })();
  return loading;
}

/** A fresh P-256 key pair, extractable so its private half can be written as PEM. */
export async function generateEcKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
}

/** PKCS#8 PEM of a private CryptoKey (what tls.createSecureContext and OpenSSL read). */
export async function privateKeyToPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return pem('PRIVATE KEY', der);
}

export function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * Import a CA private key from PEM for signing. Besides reprise's own P-256
 * keys, P-384 and RSA keys are accepted so an existing corporate or
 * mitmproxy CA can be reused.
 */
export async function importSigningKey(keyPem: string, where: string): Promise<SigningKey> {
  let ko;
  try {
    ko = createPrivateKey(keyPem);
  } catch (err) {
    throw new RepriseError('CA_INVALID', `${where}: not a PEM private key (${(err as Error).message})`, { cause: err });
  }
  const der = ko.export({ type: 'pkcs8', format: 'der' });
  if (ko.asymmetricKeyType === 'ec') {
    const curve = ko.asymmetricKeyDetails?.namedCurve;
    const named = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : null;
    if (!named) throw new RepriseError('CA_INVALID', `${where}: EC curve ${curve ?? '?'} is not supported (use P-256 or P-384)`);
    const key = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: named }, false, ['sign']);
    return { key, algorithm: { name: 'ECDSA', hash: named === 'P-256' ? 'SHA-256' : 'SHA-384' } as webcrypto.EcdsaParams };
  }
  if (ko.asymmetricKeyType === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const key = await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
    return { key, algorithm };
  }
  throw new RepriseError('CA_INVALID', `${where}: ${ko.asymmetricKeyType ?? 'unknown'} keys are not supported (use EC P-256 or RSA)`);
}

/**
 * A random positive 128-bit serial as hex. RFC 5280 wants serials unique per
 * issuer and at most 20 octets; 127 random bits make a collision negligible,
 * and the cleared top bit keeps the DER INTEGER positive.
 */
export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex');
}
