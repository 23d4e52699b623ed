import type { YAMLError } from 'yaml';

// Longest line looked at for the hint.
const MAX_LINE = 2000;

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
  // The error's line, if it is a short one: this runs once per parser error on hostile input too
  // (a 100 KB line of brackets), so every scan is bounded and every pattern linear.
  const at = e.pos[0];
  const before = text.slice(Math.max(0, at - MAX_LINE), at);
  const after = text.slice(at, at + MAX_LINE);
  const start = before.lastIndexOf('\n');
  const end = after.indexOf('\n');
  const line = (start === -1 && at > MAX_LINE) || (end === -1 && at + MAX_LINE < text.length) ? '' : before.slice(start + 1) + (end === -1 ? after : after.slice(0, end));
  const flowStar = line.length <= MAX_LINE && line.includes('[') && (/\[\*\]/.test(line) || /[\s,[]\*/.test(line));
  return flowStar ? `${message} (a JSON path with [*] inside [ … ] must be quoted: ['$.items[*].id'])` : message;
}
