import { readFile } from 'node:fs/promises';
import { RepriseError } from '../../errors.js';

/** A `--ca-file`: PEM certificates that staging's TLS certificate must chain to. */
export async function readCa(file: string): Promise<Buffer> {
  try {
    const pem = await readFile(file);
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new RepriseError('REPLAY_OPTIONS_INVALID', 'CA file holds no PEM certificate (-----BEGIN CERTIFICATE-----)', { location: { file } });
    return pem;
  } catch (err) {
    if (err instanceof RepriseError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new RepriseError(code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE', `CA file cannot be read (${code ?? (err as Error).message})`, { cause: err, location: { file } });
  }
}
