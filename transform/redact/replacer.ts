import { createHmac, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { RepriseError } from '../../errors.js';
import { REDACTED } from '../redact-headers.js';
import type { RedactStep } from '../step-definitions.js';
import type { StepContext } from '../step-types.js';

/**
 * What a redacted value becomes. `mask` writes a fixed string; `hash` writes
 * `tok_` + 16 hex digits of HMAC-SHA256(key, value): the same input gives the
 * same token, so a user id redacted in a response still joins with the same
 * id redacted in a later request, while the key keeps the tokens from being
 * reversed by hashing guesses.
 */

export const DEFAULT_KEY_ENV = 'REPRISE_REDACT_KEY';
const TOKEN = /^tok_[0-9a-f]{16}$/;

export interface Replacer {
  replace(secret: string): string;
  /** Output of a redaction (a token or the mask): never redacted again, so a second run changes nothing. */
  isToken(value: string): boolean;
}

export function isRedactionToken(value: string): boolean {
  return value === REDACTED || TOKEN.test(value);
}

export async function createReplacer(def: RedactStep, ctx: StepContext): Promise<Replacer> {
  const mask = def.mask ?? REDACTED;
  if ((def.mode ?? 'mask') === 'mask') {
    return { replace: () => mask, isToken: (v) => v === mask || isRedactionToken(v) };
  }
  const key = await loadKey(def, ctx);
  // Requests repeat the same secrets (one session token on every call): a
  // bounded cache turns most HMACs into a map lookup. Cleared when full so
  // memory stays flat on a stream of unique values.
  const cache = new Map<string, string>();
  return {
    replace(secret) {
      let tok = cache.get(secret);
      if (tok === undefined) {
        tok = `tok_${createHmac('sha256', key).update(secret).digest('hex').slice(0, 16)}`;
        if (cache.size >= 4096) cache.clear();
        cache.set(secret, tok);
      }
      return tok;
    },
    isToken: (v) => v === mask || isRedactionToken(v),
  };
}

async function loadKey(def: RedactStep, ctx: StepContext): Promise<Buffer> {
  const fail = (why: string): never => {
    throw new RepriseError('TRANSFORM_INVALID', `${ctx.label}: hash key ${why}`);
  };
  if (def.key?.file) {
    const file = resolve(ctx.baseDir, def.key.file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      return fail(`file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    const k = text.replace(/\r?\n$/, '');
    if (k.length < 16) fail(`file ${file} holds fewer than 16 characters`);
    return Buffer.from(k);
  }
  const name = def.key?.env ?? DEFAULT_KEY_ENV;
  const value = ctx.env[name];
  if (value !== undefined && value !== '') {
    if (value.length < 16) fail(`in $${name} is shorter than 16 characters`);
    return Buffer.from(value);
  }
  if (def.key?.env) return fail(`environment variable ${name} is not set`);
  ctx.warn(`${ctx.label}: ${DEFAULT_KEY_ENV} is not set, so hash tokens use a random key: consistent within this run only`);
  return randomBytes(32);
}
