// Why this file exists: people review captured traffic in pull requests, issues and editors, where
// Markdown renders well. This renders one Exchange as a readable HTTP wire dump; the file and
// index writing lives in markdown-export.ts.
import { createHash } from 'node:crypto';
import { bodyToBuffer } from '../body.js';
import { getHeader, requestUrl, type Body, type Exchange, type Header } from '../exchange.js';

/** Text bodies longer than this are cut: a dump is for reading, the store keeps the whole body. */
const MAX_BODY_CHARS = 8000;
/** Bytes of a binary body shown as hex: enough to see a file signature (PNG, gzip, PDF). */
const HEX_DUMP_BYTES = 64;

/**
 * `0007-GET-users-123.md`: ordinal (4 digits, zero-padded, so names sort in
 * order up to 9999), method, and the path as a slug.
 *
 * @example
 * markdownFileName(ex, 7) // '0007-GET-users-123.md'
 */
export function markdownFileName(ex: Exchange, ordinal: number): string {
  const method = ex.request.method.replace(/[^A-Za-z0-9]+/g, '') || 'REQ';
  const slug = ex.request.path.replace(/[^A-Za-z0-9._-]+|\.{2,}/g, '-').replace(/-{2,}/g, '-')
    .replace(/^[-.]+/, '').slice(0, 60).replace(/[-.]+$/, '');
  return `${String(ordinal).padStart(4, '0')}-${method}-${slug || 'root'}.md`;
}

/**
 * One exchange as Markdown: a short header (id, time, duration, source and
 * notes), then the request and the response as fenced `http` blocks.
 *
 * @example
 * await writeFile('0001-GET-users-123.md', renderExchangeMarkdown(ex, 1));
 */
export function renderExchangeMarkdown(ex: Exchange, ordinal: number): string {
  const req = ex.request;
  const res = ex.response;
  // Paths, methods and messages come from the traffic: code spans and escapes keep them inert.
  const out: string[] = [`# ${ordinal}. ${escapeMarkdown(req.method)} ${inlineCode(req.path)}${res ? ` → ${res.status}` : ' → no response'}`, ''];
  out.push(`- **URL:** ${inlineCode(requestUrl(req))}`);
  out.push(`- **Time:** ${formatMicros(ex.start)}`);
  out.push(`- **Duration:** ${formatDuration(ex.duration)}`);
  const s = ex.source;
  out.push(`- **Source:** ${s.kind} ${inlineCode(s.captureId)}${s.connection !== undefined ? `, connection ${inlineCode(s.connection)}` : ''}${s.seq !== undefined ? `, request #${s.seq}` : ''}`);
  out.push(`- **Id:** ${inlineCode(ex.id)}`);
  if (ex.redactions?.length) out.push(`- **Redacted:** ${ex.redactions.map(inlineCode).join(', ')}`);
  if (ex.incomplete) out.push(`- **Incomplete:** ${escapeMarkdown(ex.incomplete)}`);
  if (ex.error) out.push(`- **Error:** ${ex.error.kind}: ${escapeMarkdown(ex.error.message)}`);
  for (const [label, body] of [['request', req.body], ['response', res?.body ?? null]] as const) {
    if (body?.truncated) out.push(`- **Note:** ${label} body truncated in the store: ${storedLength(body)} of ${body.size} bytes kept`);
    if (body?.contentEncoding) out.push(`- **Note:** ${label} body shown decoded; it was sent with Content-Encoding: ${escapeMarkdown(body.contentEncoding)}`);
  }
  out.push('', '## Request', '');
  const query = req.query === '' ? '' : `?${req.query}`;
  out.push(...renderMessage(`${req.method} ${req.path}${query} HTTP/${req.httpVersion}`, req.headers, req.body));
  out.push('', '## Response', '');
  if (res) {
    out.push(...renderMessage(`HTTP/${res.httpVersion} ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, res.headers, res.body));
  } else {
    out.push(`No response${ex.error ? ` (${ex.error.kind}: ${escapeMarkdown(ex.error.message)})` : ''}.`);
  }
  out.push('');
  return out.join('\n');
}

/** Start line, headers and body in a fence longer than any backtick run inside. */
function renderMessage(startLine: string, headers: readonly Header[], body: Body | null): string[] {
  const lines = [startLine, ...headers.map(([n, v]) => `${n}: ${v}`)];
  const shown = body ? renderBody(body, getHeader(headers, 'content-type')) : null;
  if (shown) lines.push('', shown.text);
  const content = lines.join('\n');
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(content) + 1));
  const out = [`${fence}http`, content, fence];
  if (shown?.note) out.push('', `_${shown.note}_`);
  return out;
}

function renderBody(body: Body, contentType: string | undefined): { text: string; note?: string } {
  if (body.encoding === 'base64') {
    const bytes = bodyToBuffer(body);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const what = body.truncated ? `${bytes.length} of ${body.size} bytes stored` : `${body.size} bytes`;
    return { text: `<binary, ${what}, sha256 ${sha.slice(0, 16)}…>\n${hexDump(bytes.subarray(0, HEX_DUMP_BYTES))}` };
  }
  let text = body.data;
  if (!body.truncated && (/json/i.test(contentType ?? '') || /^\s*[[{]/.test(text))) text = prettyJson(text) ?? text;
  text = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\uFFFD');
  if (text.length <= MAX_BODY_CHARS) return { text };
  return { text: `${text.slice(0, MAX_BODY_CHARS)}\n…`, note: `Body cut at ${MAX_BODY_CHARS} characters for reading; ${body.size} bytes in the store.` };
}

function prettyJson(text: string): string | null {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return null;
  }
}

/**
 * A classic hex dump, 16 bytes a line.
 *
 * @example
 * hexDump(png.subarray(0, 16)) // '00000000  89 50 4e 47 0d 0a 1a 0a 00 00 00 0d 49 48 44 52  |.PNG........IHDR|'
 */
export function hexDump(bytes: Buffer): string {
  const lines: string[] = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ').padEnd(47);
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex}  |${ascii}|`);
  }
  return lines.join('\n');
}

/**
 * Integer µs since the epoch as ISO 8601 with microseconds.
 *
 * @example
 * formatMicros(1773482400123456) // '2026-03-14T10:00:00.123456Z'
 */
export function formatMicros(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString().replace('Z', `${String(((us % 1000) + 1000) % 1000).padStart(3, '0')}Z`);
}

/**
 * A duration in µs for people: milliseconds below a second, seconds above.
 *
 * @example
 * formatDuration(25750) // '25.750 ms'; formatDuration(null) // 'unknown'
 */
export function formatDuration(us: number | null): string {
  if (us === null) return 'unknown';
  return us >= 1_000_000 ? `${(us / 1_000_000).toFixed(3)} s` : `${(us / 1000).toFixed(3)} ms`;
}

/**
 * A code span that survives backticks in its text.
 *
 * @example
 * inlineCode('a`b') // '``a`b``'
 */
export function inlineCode(text: string): string {
  const ticks = '`'.repeat(longestBacktickRun(text) + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${text}${pad}${ticks}`;
}

/**
 * Text with the characters that make emphasis, links, HTML or table cells
 * backslash-escaped, on one line.
 *
 * @example
 * escapeMarkdown('<b>*x*</b>') // '\\<b\\>\\*x\\*\\</b\\>'
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>|]/g, '\\$&').replace(/[\r\n]+/g, ' ');
}

function longestBacktickRun(text: string): number {
  let best = 0;
  for (const m of text.matchAll(/`+/g)) best = Math.max(best, m[0].length);
  return best;
}

function storedLength(body: Body): number {
  return body.encoding === 'base64' ? Buffer.byteLength(body.data, 'base64') : Buffer.byteLength(body.data);
}
