import { X509Certificate } from 'node:crypto';
import { chmod, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { RepriseError } from '../../errors.js';
import { createCa, type CaPem, type CreateCaOptions } from './ca-create.js';
import { makeDirs } from '../../store/make-dirs.js';

/**
 * The CA on disk: `ca.crt` (PEM, the file users trust) and `ca.key` (PEM,
 * mode 0600) in one directory, `~/.reprise/ca` by default. Files are written
 * to a temporary name and renamed, so a crash never leaves a half-written
 * key or certificate behind.
 */

export const DEFAULT_CA_DIR = join(homedir(), '.reprise', 'ca');
export const CA_CERT_FILE = 'ca.crt';
export const CA_KEY_FILE = 'ca.key';

export interface InitCaOptions extends CreateCaOptions {
  /** Directory for ca.crt and ca.key (created 0700 if missing); default ~/.reprise/ca. */
  dir?: string;
  /** Replace an existing CA. Clients that trusted the old one stop trusting the proxy. */
  force?: boolean;
}

export interface InitCaResult {
  certPath: string;
  keyPath: string;
  subject: string;
  validTo: string;
  /** SHA-256 fingerprint, to compare with what a browser or trust store shows. */
  fingerprint256: string;
}

/**
 * Create a CA and write it to `dir`; refuses to overwrite unless `force`.
 *
 * @example
 * const { certPath } = await initCa({ dir: './ca' });
 */
export async function initCa(options: InitCaOptions = {}): Promise<InitCaResult> {
  const dir = resolve(options.dir ?? DEFAULT_CA_DIR);
  const certPath = join(dir, CA_CERT_FILE);
  const keyPath = join(dir, CA_KEY_FILE);
  if (!options.force) {
    for (const p of [certPath, keyPath]) {
      if (await exists(p)) throw new RepriseError('CA_EXISTS', `${p} already exists; pass --force to replace the CA (clients trusting the old one will stop trusting reprise)`);
    }
  }
  const ca = await createCa(options);
  try {
    await makeDirs(dir, 0o700);
    // The key first: a cert on disk without its key would be a CA nobody can use.
    await writeAtomic(keyPath, ca.key, 0o600);
    await writeAtomic(certPath, ca.cert, 0o644);
  } catch (err) {
    throw new RepriseError('OUTPUT_UNWRITABLE', `cannot write the CA to ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const x = new X509Certificate(ca.cert);
  return { certPath, keyPath, subject: x.subject.replace(/\n/g, ', '), validTo: x.validTo, fingerprint256: x.fingerprint256 };
}

/**
 * Read the CA written by `initCa` (not validated here; see openCaSigner).
 *
 * @example
 * const ca = await loadCa(DEFAULT_CA_DIR);
 */
export async function loadCa(dir: string = DEFAULT_CA_DIR): Promise<CaPem> {
  const abs = resolve(dir);
  const read = async (file: string): Promise<string> => {
    try {
      return await readFile(join(abs, file), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new RepriseError('CA_NOT_FOUND', `${join(abs, file)} not found; create a CA with reprise ca init --dir ${dir}`, { cause: err });
      }
      throw new RepriseError('INPUT_UNREADABLE', `cannot read ${join(abs, file)}: ${(err as Error).message}`, { cause: err });
    }
  };
  return { cert: await read(CA_CERT_FILE), key: await read(CA_KEY_FILE) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    // `mode` applies only when the file is created; chmod covers a leftover temp file.
    await writeFile(tmp, text, { mode, flag: 'w' });
    await chmod(tmp, mode);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
