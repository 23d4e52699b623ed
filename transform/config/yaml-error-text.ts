import type { YAMLError } from 'yaml';

/**
 * The first line of a YAML parser error, plus a hint for the one mistake users
 * of this tool make most: a JSON path with `[*]` (or a value starting with
 * `*`) left unquoted inside a flow sequence, `jsonPaths: [$.items[*].id]`.
 * YAML reads `*` there as an alias and `[`/`]` as the sequence's own
 * brackets, and the parser's messages ("Alias cannot be an empty string")
 * do not say so.
 */
export function yamlErrorText(e: YAMLError, text: string): string {
  const message = e.message.split('\n')[0]!;
  const lineStart = text.lastIndexOf('\n', e.pos[0] - 1) + 1;
  const lineEnd = text.indexOf('\n', e.pos[0]);
  const line = text.slice(lineStart, lineEnd === -1 ? text.length : lineEnd);
  return /\[[^'"\]]*(?:\[\*\]|[\s,[]\*)/.test(line) ? `${message} (a JSON path with [*] inside [ … ] must be quoted: ['$.items[*].id'])` : message;
}
