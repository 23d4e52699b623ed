// Why this file exists: the Markdown export is for people; these tests check that it reads like a
// wire dump, names files predictably, indexes them, and cannot be broken or turned into live
// HTML by what the traffic contains (backticks, pipes, tags).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importHar } from '../../../capture/har/har-import.js';
import type { Exchange } from '../../../store/exchange.js';
import { exportMarkdown } from '../../../store/export/markdown-export.js';
import { markdownFileName, renderExchangeMarkdown } from '../../../store/export/markdown-render.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { syntheticExchange } from '../../support/synthetic-exchange.js';

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => { tmp = await makeTempDir(); });
afterEach(async () => { await tmp.cleanup(); });

const SAMPLE = fileURLToPath(new URL('../../fixtures/har/sample-api.har', import.meta.url));

/** The fenced blocks of a Markdown text: [fence, info, content]. */
function fencedBlocks(md: string): { fence: string; info: string; content: string }[] {
  const out: { fence: string; info: string; content: string }[] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})(\S*)$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith(open[1]!) && /^`+$/.test(l));
    out.push({ fence: open[1]!, info: open[2]!, content: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return out;
}

describe('markdown export', () => {
  it('names files by ordinal, method and path slug', () => {
    const ex = syntheticExchange(0);
    ex.request.path = '/users/123';
    expect(markdownFileName(ex, 7)).toBe('0007-GET-users-123.md');
    ex.request.path = '/';
    expect(markdownFileName(ex, 12345)).toBe('12345-GET-root.md');
    ex.request.path = '/a b/ü/..%2F/' + 'x'.repeat(100);
    expect(markdownFileName(ex, 1)).toMatch(/^0001-GET-a-b-2F-x+\.md$/);
    expect(markdownFileName(ex, 1).length).toBeLessThan(80);
  });

  it('renders a wire dump: header, request line, headers, pretty JSON, status line', () => {
    const ex = syntheticExchange(3);
    ex.request.query = 'dry=1';
    ex.response!.statusText = 'Created';
    ex.redactions = ['request.headers.authorization'];
    const md = renderExchangeMarkdown(ex, 4);
    expect(md).toMatch(/^# 4\. POST `\/orders` → 201\n/);
    expect(md).toContain(`- **Id:** \`${ex.id}\``);
    expect(md).toContain('- **Time:** 2026-11-23T09:00:00.003000Z');
    expect(md).toContain('- **Duration:** 1.800 ms');
    expect(md).toContain('- **Redacted:** `request.headers.authorization`');
    const [req, res] = fencedBlocks(md);
    expect(req!.info).toBe('http');
    expect(req!.content).toBe('POST /orders?dry=1 HTTP/1.1\nHost: api.example.test:8080\nUser-Agent: synthetic/1\nAccept: application/json\n\n{\n  "item": 3\n}');
    expect(res!.content.split('\n')[0]).toBe('HTTP/1.1 201 Created');
    expect(res!.content).toContain('\n{\n  "id": 1003,');
  });

  it('shows binary bodies as size, sha256 and a hex dump; cuts long text; notes truncation and encoding', () => {
    const ex = syntheticExchange(0);
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    ex.response!.body = { encoding: 'base64', data: png.toString('base64'), size: 4000, truncated: true };
    ex.request.body = { encoding: 'utf8', data: 'é'.repeat(9000), size: 18000, contentEncoding: 'gzip' };
    const md = renderExchangeMarkdown(ex, 1);
    expect(md).toContain('<binary, 16 of 4000 bytes stored, sha256 ');
    expect(md).toContain('00000000  89 50 4e 47 0d 0a 1a 0a 00 00 00 0d 49 48 44 52  |.PNG........IHDR|');
    expect(md).toContain('- **Note:** response body truncated in the store: 16 of 4000 bytes kept');
    expect(md).toContain('- **Note:** request body shown decoded; it was sent with Content-Encoding: gzip');
    expect(md).toContain('_Body cut at 8000 characters for reading; 18000 bytes in the store._');
    expect(md).not.toContain('é'.repeat(8001));
  });

  it('uses a fence longer than any backtick run in a body', () => {
    const ex = syntheticExchange(0);
    ex.response!.body = { encoding: 'utf8', data: 'see:\n```\ncode\n````\nend', size: 22 };
    ex.response!.headers = [['Content-Type', 'text/markdown']];
    const md = renderExchangeMarkdown(ex, 1);
    const blocks = fencedBlocks(md);
    expect(blocks[1]!.fence).toBe('`````');
    expect(blocks[1]!.content).toContain('```\ncode\n````');
    expect(md.trimEnd().endsWith('`````')).toBe(true);
  });

  it('says so when there is no response', () => {
    const ex = syntheticExchange(0);
    ex.response = null;
    ex.error = { kind: 'reset', message: 'connection reset by peer' };
    const md = renderExchangeMarkdown(ex, 2);
    expect(md).toMatch(/^# 2\. GET `\/users\/1000` → no response/);
    expect(md).toContain('No response (reset: connection reset by peer).');
  });

  it('writes one file per exchange and an index table linking them', async () => {
    const out = join(tmp.dir, 'md');
    const { count } = await exportMarkdown(importHar(SAMPLE), out);
    expect(count).toBe(60);
    const files = (await readdir(out)).sort();
    expect(files).toHaveLength(61);
    expect(files[0]).toBe('0001-POST-api-v1-auth-login.md');
    expect(files).toContain('0002-GET-api-v1-users-123.md');
    const index = await readFile(join(out, 'index.md'), 'utf8');
    const rows = index.split('\n').filter((l) => /^\| \d+ \|/.test(l));
    expect(rows).toHaveLength(60);
    expect(rows[0]).toMatch(/^\| 1 \| 2026-03-14T10:00:0\d\.\d{6}Z \| POST \| `https:\/\/api\.shop\.test\/api\/v1\/auth\/login` \| 200 \| \d+\.\d{3} ms \| \[0001-POST-api-v1-auth-login\.md\]\(0001-POST-api-v1-auth-login\.md\) \|$/);
    for (const row of rows) expect(files).toContain(/\]\(([^)]+)\)/.exec(row)![1]);
    expect(index).toContain('\n60 exchanges.\n');
    const png = files.find((f) => f.includes('logo.png'))!;
    expect(await readFile(join(out, png), 'utf8')).toMatch(/<binary, \d+ bytes, sha256 [0-9a-f]{16}…>\n00000000  89 50 4e 47/);
  });

  it('keeps paths and messages from the traffic inert', () => {
    const ex = syntheticExchange(0);
    ex.request.path = '/<img src=x onerror=alert(1)>';
    ex.response = null;
    ex.error = { kind: 'other', message: '*boom* <script>' };
    const md = renderExchangeMarkdown(ex, 1);
    expect(md.split('\n')[0]).toBe('# 1. GET `/<img src=x onerror=alert(1)>` → no response');
    expect(md).toContain('- **Error:** other: \\*boom\\* \\<script\\>');
  });

  it('escapes pipes in index cells', async () => {
    const ex: Exchange = syntheticExchange(2);
    ex.request.query = 'q=a|b';
    await exportMarkdown((async function* () { yield ex; })(), tmp.dir);
    expect(await readFile(join(tmp.dir, 'index.md'), 'utf8')).toContain('`http://api.example.test:8080/search?q=a\\|b`');
  });
});
