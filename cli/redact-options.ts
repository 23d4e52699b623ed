import { secretHeaderNames } from '../transform/redact-headers.js';
import type { OptionSpec, ParsedArgs } from './command.js';

/** The redaction flags of every command that captures or imports traffic. */
export const REDACT_OPTIONS: Record<string, OptionSpec> = {
  'redact-header': { type: 'string', multiple: true, hint: 'name', description: 'also redact this header (Authorization, Cookie, Set-Cookie, API keys always are)' },
  'no-redact': { type: 'boolean', description: 'store the default secret headers in clear (--redact-header ones are still redacted)' },
};

/** The headers to redact, as every capture source takes them (false: none). */
export function redactHeadersFromArgs(values: ParsedArgs['values']): readonly string[] | false {
  return secretHeaderNames({ defaults: values['no-redact'] !== true, extra: (values['redact-header'] as string[] | undefined) ?? [] });
}
