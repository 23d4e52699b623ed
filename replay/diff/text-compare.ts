import { decodeParam } from '../../transform/http-values.js';
import { preview, type Difference } from './diff-types.js';

/**
 * Text bodies compare by lines: the common head and tail are stripped and the
 * changed middle is one difference, shown as the first changed lines of each
 * side. HTML is normalized first (comments dropped, whitespace collapsed, one
 * tag per line, attributes sorted) so re-indentation is not a change.
 */

const SHOWN_LINES = 5;

export function compareTextLines(left: string, right: string, path = 'body'): Difference[] {
  if (left === right) return [];
  const a = left.split(/\r?\n/);
  const b = right.split(/\r?\n/);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  if (midA.length === 0 && midB.length === 0) return []; // only line-ending style differed
  const show = (lines: string[]) => preview(lines.slice(0, SHOWN_LINES).join('\n') + (lines.length > SHOWN_LINES ? `\n… ${lines.length - SHOWN_LINES} more lines` : ''), 400);
  return [{ path, kind: 'value', left: `line ${head + 1}: ${show(midA)}`, right: `line ${head + 1}: ${show(midB)}` }];
}

/**
 * HTML with formatting noise removed.
 *
 * @example
 * normalizeHtml('<P  class="b"   id=a>Hi <!-- x -->there</P>') // '<p class="b" id=a>\nHi there\n</p>'
 */
export function normalizeHtml(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/\s+/g, ' ')
    .replace(/<\/?([A-Za-z][\w:-]*)([^>]*)>/g, (_m, name: string, attrs: string) => {
      const closing = _m.startsWith('</');
      const sorted = closing ? '' : sortAttributes(attrs);
      return `\n<${closing ? '/' : ''}${name.toLowerCase()}${sorted}>\n`;
    })
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join('\n');
}

function sortAttributes(attrs: string): string {
  const selfClosing = /\/\s*$/.test(attrs);
  const list = attrs.replace(/\/\s*$/, '').match(/[^\s=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?/g) ?? [];
  const norm = list.map((a) => a.replace(/^([^\s=]+)/, (n) => n.toLowerCase()).replace(/\s*=\s*/, '=')).sort();
  return (norm.length > 0 ? ` ${norm.join(' ')}` : '') + (selfClosing ? ' /' : '');
}

/**
 * A form body (`a=1&token=x`) with the named fields' values replaced by a
 * placeholder: the values redact replaced differ by design, the rest of the body does not.
 *
 * @example
 * maskFormFields('access_token=abc&scope=repo', new Set(['access_token'])) // 'access_token=<redacted>&scope=repo'
 */
export function maskFormFields(text: string, names: ReadonlySet<string>): string {
  return text
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      return eq !== -1 && names.has(decodeParam(part.slice(0, eq))) ? `${part.slice(0, eq)}=<redacted>` : part;
    })
    .join('&');
}
