import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileDiffRules } from '../../../replay/diff/diff-rules.js';
import type { DiffReport } from '../../../replay/diff/diff-report.js';
import type { DiffRulesInput } from '../../../replay/diff/diff-rules.js';
import { compareEventStreams, readEventStream } from '../../../replay/diff/event-stream.js';
import { MAX_DIFFS_PER_PAIR } from '../../../replay/diff/json-compare.js';
import { diffLive, diffStores } from '../../../replay/diff/run-diff.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { writeBodyStores, type StoredAnswer } from './support/body-stores.js';

/**
 * Server-Sent Events bodies are compared event by event, as the elements of
 * an array `$`: `$[1].data.status` is a field of the second event's JSON
 * data, grouped under `$[*].data.status`, so ignore and array rules reach
 * inside events, and comments (keep-alives) and line endings are no change.
 */

function findings(report: DiffReport): string[] {
  return report.endpoints.flatMap((e) => e.findings.map((f) => `${f.field} ${f.kind}`)).sort();
}

function examplePaths(report: DiffReport): string[] {
  return report.endpoints.flatMap((e) => e.findings.flatMap((f) => f.examples.map((x) => `${x.path} ${x.baseline ?? '-'} ${x.candidate ?? '-'}`))).sort();
}

type Ev = { event?: string; data?: unknown; id?: string; comment?: string };

/** Events as a server writes them; `data` that is not a string is sent as JSON. */
function stream(events: Ev[], eol = '\n'): string {
  return events.map((e) => {
    const lines: string[] = [];
    if (e.comment !== undefined) lines.push(`: ${e.comment}`);
    if (e.id !== undefined) lines.push(`id: ${e.id}`);
    if (e.event !== undefined) lines.push(`event: ${e.event}`);
    if (e.data !== undefined) for (const l of (typeof e.data === 'string' ? e.data : JSON.stringify(e.data)).split('\n')) lines.push(`data: ${l}`);
    return lines.join(eol) + eol + eol;
  }).join('');
}

const sse = (body: string): StoredAnswer => ({ type: 'text/event-stream', body });

describe('Server-Sent Events bodies', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await makeTempDir('reprise-diff-sse-')));
  afterEach(async () => cleanup());

  let run = 0;
  const diff = async (left: StoredAnswer, right: StoredAnswer, rules: DiffRulesInput = {}) => {
    const s = await writeBodyStores(`${dir}/${++run}`, [{ path: '/events', left, right }]);
    return diffStores({ baselineStore: s.left, candidateStore: s.right, rules });
  };

  it('a changed field in JSON data is that field of that event; clocks, keep-alives and line endings are no change', async () => {
    const left = stream([
      { id: '1', event: 'job', data: { status: 'queued', ts: '2026-11-23T09:00:00.000Z', seq: 17 } },
      { comment: 'keep-alive' },
      { id: '2', event: 'job', data: { status: 'running', ts: '2026-11-23T09:00:01.000Z', seq: 18 } },
    ]);
    const right = stream([
      { id: '1', event: 'job', data: { seq: 90, ts: '2026-11-23T10:30:00.000Z', status: 'queued' } },
      { id: '2', event: 'job', data: { status: 'started', ts: '2026-11-23T10:30:01.000Z', seq: 91 } },
    ], '\r\n');
    const report = await diff(sse(left), sse(right), { ignore: ['$[*].data.seq'] });
    expect(findings(report)).toEqual(['$[*].data.status value']);
    expect(examplePaths(report)).toEqual(['$[1].data.status "running" "started"']);
    // The ISO times were set aside by shape (no second baseline); --ignore covers them as well.
    expect(report.setAside.map((s) => s.field)).toContain('$[*].data.ts');
    expect(findings(await diff(sse(left), sse(right), { ignore: ['$[*].data.seq', '$[*].data.ts'] }))).toEqual(['$[*].data.status value']);
  });

  it('event names, ids, dropped events and text data are fields too; --array "$=key:id" pairs events by id', async () => {
    const left = stream([{ id: 'a', event: 'add', data: { n: 1 } }, { id: 'b', event: 'add', data: { n: 2 } }, { data: '[DONE]' }]);
    const right = stream([{ id: 'a', event: 'insert', data: { n: 1 } }, { event: 'add', data: { n: 2 } }]);
    const report = await diff(sse(left), sse(right));
    expect(findings(report)).toEqual(['$[*] missing', '$[*].event value', '$[*].id missing']);
    expect(examplePaths(report)).toEqual(['$[0].event "add" "insert"', '$[1].id "b" -', '$[2] {"event":"message","data":"[DONE]"} -']);
    // The same events in another order, paired by their ids: no change.
    const reordered = stream([{ id: 'b', event: 'add', data: { n: 2 } }, { id: 'a', event: 'add', data: { n: 1 } }, { data: '[DONE]' }]);
    expect(findings(await diff(sse(left), sse(reordered)))).toEqual(['$ order']);
    expect(findings(await diff(sse(left), sse(reordered), { arrays: { $: { mode: 'key', key: 'id' } } }))).toEqual([]);
  });

  it('text data is one value per event: clocks inside it are masked, as in a text body', async () => {
    const left = stream([{ data: 'tick at 2026-11-23T09:00:00Z' }, { data: 'state: green' }]);
    const right = stream([{ data: 'tick at 2026-11-23T10:15:00Z' }, { data: 'state: amber' }]);
    const report = await diff(sse(left), sse(right));
    expect(examplePaths(report)).toEqual(['$[1].data "state: green" "state: amber"']);
    expect(report.setAside.map((s) => s.field)).toEqual(['$[*].data']);
  });

  it('a stream that stopped being text/event-stream is a changed body type (EventSource refuses it)', async () => {
    const report = await diff(sse(stream([{ data: { n: 1 } }])), { type: 'text/plain', body: 'stream unavailable\n' });
    expect(findings(report)).toEqual(['body type', 'header.content-type value']);
    expect(examplePaths(report)).toContain('body event-stream text');
  });

  it('reads events as the WHATWG parser does', () => {
    const rules = compileDiffRules();
    const text = 'retry: 3000\n\n: hello\nevent:  spaced\ndata:{"a":\ndata: 1}\nunknown: x\n\ndata\ndata: "ok"\n\nid: 7\rdata: 12345678901234567891\r\rdata: last, unterminated';
    expect(readEventStream(text, rules)).toEqual([
      { retry: 3000 },
      { event: ' spaced', data: { a: 1 } },
      { event: 'message', data: '\n"ok"' },
      { event: 'message', id: '7', data: { '\u0000n': '12345678901234567891' } },
      { event: 'message', data: 'last, unterminated' },
    ]);
    expect(readEventStream('', rules)).toEqual([]);
    expect(readEventStream(': only comments\n\n:\n\n', rules)).toEqual([]);
  });

  it('hostile streams stay bounded: 100,000 events, one 512 KiB line, data nested 10,000 deep', () => {
    const rules = compileDiffRules();
    const many = 'data: {"n":1}\n\n'.repeat(100_000);
    const t0 = performance.now();
    const found = compareEventStreams(many, many.replace(/1/g, '2'), rules);
    expect(found.diffs.length).toBeLessThanOrEqual(MAX_DIFFS_PER_PAIR);
    expect(readEventStream(`data: ${'x'.repeat(512 << 10)}`, rules)[0]!.data).toHaveLength(512 << 10);
    const deep = `data: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n\n`;
    expect(compareEventStreams(deep, deep.replace('[]', '[1]'), rules).diffs).toHaveLength(1);
    expect(readEventStream('\r'.repeat(100_000) + '\n'.repeat(100_000), rules)).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(1500);
  });

  it('live: two real SSE servers streaming over time are compared event by event', async () => {
    const servers: Server[] = [];
    const start = async (status: string): Promise<string> => {
      const server = createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        let n = 0;
        const tick = setInterval(() => {
          n++;
          res.write(': keep-alive\n\n');
          res.write(stream([{ id: String(n), data: { n, status: n === 2 ? status : 'ok', ts: new Date().toISOString() } }]));
          if (n === 3) {
            clearInterval(tick);
            res.end();
          }
        }, 5);
        req.on('close', () => clearInterval(tick));
      });
      server.keepAliveTimeout = 500;
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      servers.push(server);
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    try {
      const [baseline, candidate] = await Promise.all([start('ok'), start('degraded')]);
      const s = await writeBodyStores(`${dir}/live`, [{ path: '/events', left: sse(''), right: sse('') }]);
      const report = await diffLive({ store: s.left, baseline, candidate, concurrency: 1, timeoutMs: 5000 });
      expect(report.pairs).toBe(1);
      expect(findings(report)).toEqual(['$[*].data.status value']);
      expect(examplePaths(report)).toEqual(['$[1].data.status "ok" "degraded"']);
    } finally {
      await Promise.all(servers.map((sv) => new Promise((r) => sv.close(r))));
    }
  });
});
