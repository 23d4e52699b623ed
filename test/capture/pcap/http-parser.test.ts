import { describe, expect, it } from 'vitest';
import { HttpStreamParser, type ParsedMessage } from '../../../capture/pcap/http-parser.js';
import { ByteBudget } from '../../../capture/pcap/tcp-byte-budget.js';
import type { MessageKind } from '../../../capture/pcap/http-head.js';

interface Seen {
  messages: ParsedMessage[];
  bodies: string[];
  events: string[];
  budget: ByteBudget;
  parser: HttpStreamParser;
}

function parser(kind: MessageKind, options: { atMessageStart?: boolean; bodyCap?: number; method?: string } = {}): Seen {
  const budget = new ByteBudget(64 << 20);
  const seen: Seen = { messages: [], bodies: [], events: [], budget, parser: undefined as unknown as HttpStreamParser };
  seen.parser = new HttpStreamParser(
    { kind, atMessageStart: options.atMessageStart ?? true, bodyCap: options.bodyCap ?? 1 << 20, budget },
    {
      requestMethod: () => options.method ?? 'GET',
      head: () => {},
      message: (m) => {
        seen.messages.push(m);
        seen.bodies.push(m.body.take().toString('latin1'));
      },
      interim: (h) => seen.events.push(`interim ${h.status}`),
      lost: (r) => seen.events.push(`lost: ${r}`),
      notHttp: (r) => seen.events.push(`not-http: ${r}`),
      error: (r) => seen.events.push(`error: ${r}`),
    },
  );
  return seen;
}

function feed(s: Seen, data: string | Buffer, step = Infinity): Seen {
  const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  for (let i = 0; i < buf.length; i += step) s.parser.write(buf.subarray(i, Math.min(buf.length, i + step)), 1000 + i);
  return s;
}

const RESPONSES =
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello' +
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n10;x=y\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n' +
  '\r\nHTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n' +
  'HTTP/1.0 200 OK\n' + 'Content-Length: 2\n' + '\n' + 'ok';

describe('HttpStreamParser', () => {
  it('gives the same messages whatever the write boundaries', () => {
    const reference = feed(parser('response'), RESPONSES);
    expect(reference.bodies).toEqual(['hello', 'abc0123456789abcdef', '', 'ok']);
    expect(reference.messages[1]!.trailers).toEqual([['T', 'v']]);
    expect(reference.messages[3]!.head.version).toBe('1.0');
    for (const step of [1, 2, 3, 7, 13]) expect(feed(parser('response'), RESPONSES, step).bodies).toEqual(reference.bodies);
    for (let cut = 1; cut < RESPONSES.length; cut++) {
      const s = parser('response');
      s.parser.write(Buffer.from(RESPONSES.slice(0, cut), 'latin1'), 1);
      s.parser.write(Buffer.from(RESPONSES.slice(cut), 'latin1'), 2);
      expect(s.bodies, `cut at ${cut}`).toEqual(reference.bodies);
    }
    expect(reference.budget.used).toBe(0);
  });

  it('keeps header case, order and duplicates; joins obs-fold; skips leading empty lines', () => {
    const s = feed(parser('request'), '\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\nSet-Thing: 1\r\nset-thing: 2\r\nX-Fold: a\r\n\tb\r\n\r\n');
    expect(s.messages[0]!.head.headers).toEqual([['Host', 'x'], ['Set-Thing', '1'], ['set-thing', '2'], ['X-Fold', 'a b']]);
  });

  it('records start and end timestamps from the writes that carried the first and last byte', () => {
    const s = parser('request');
    s.parser.write(Buffer.from('POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab'), 10);
    s.parser.write(Buffer.from('cd'), 20);
    expect(s.messages[0]).toMatchObject({ startTs: 10, endTs: 20 });
  });

  it('a stream that starts with something else is not HTTP (strict) — early, without waiting for 64 KiB', () => {
    const tls = feed(parser('request'), Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01]));
    expect(tls.events).toEqual(['not-http: not an HTTP/1 request line']);
    const smtp = feed(parser('response'), '220 mail.example.com ESMTP\r\n');
    expect(smtp.events[0]).toMatch(/^not-http/);
    const looksLikeGet = feed(parser('request'), 'GET / HTTP/1.1\r\n\x00\x01binary\r\n');
    expect(looksLikeGet.events).toEqual(['not-http: bad header line']);
  });

  it('reads malformed request lines a server would still answer, when header fields follow; notes them', () => {
    const heads = (data: string) => feed(parser('request'), data).messages.map((m) => {
      const h = m.head.kind === 'request' ? m.head : undefined;
      return [h?.method, h?.target, h?.version, m.notes.join(' | ')];
    });
    expect(heads('OPTIONS\nHost: x\n\n')).toEqual([['OPTIONS', '', '0.9', 'malformed request line: no request target; no HTTP version (read as HTTP/0.9)']]);
    expect(heads('OPTIONS HTTP/1.1\r\nHost: x\r\n\r\n')).toEqual([['OPTIONS', 'HTTP/1.1', '0.9', 'malformed request line: no HTTP version (read as HTTP/0.9)']]);
    expect(heads('GET /HTTP/1.1\r\nHost: x\r\n\r\n')).toEqual([['GET', '/HTTP/1.1', '0.9', 'malformed request line: no HTTP version (read as HTTP/0.9)']]);
    expect(heads('OPTIONS  HTTP/1.1\r\nHost: x\r\n\r\n')).toEqual([['OPTIONS', '', '1.1', 'malformed request line: no request target']]);
    expect(heads('CCM_POST / HTTP/1.\r\nHost: x\r\n\r\n')).toEqual([['CCM_POST', '/', '1.0', 'malformed request line: HTTP version "HTTP/1." (read as 1.0)']]);
    expect(heads('GET / HTTP/1.2\r\nHost: x\r\n\r\n')).toEqual([['GET', '/', '1.1', 'malformed request line: HTTP version "HTTP/1.2" (read as 1.1)']]);
    // Framing is the usual one: a body only with Content-Length (or chunked); then the next request.
    const s = feed(parser('request'), 'POST /up\r\nContent-Length: 3\r\n\r\nabcGET /next HTTP/1.1\r\nHost: x\r\n\r\n', 4);
    expect(s.bodies).toEqual(['abc', '']);
    // Also later on a keep-alive connection.
    expect(heads('GET /a HTTP/1.1\r\nHost: x\r\n\r\nDELETE /b\r\nHost: x\r\n\r\n').map((h) => h[2])).toEqual(['1.1', '0.9']);
  });

  it('refuses lines without a token method, other versions, and malformed lines with no header field', () => {
    for (const bad of [
      'GET/ HTTP/1.1\r\nHost: x\r\n\r\n',
      'OPTIONSHTTP/1.1\r\nHost: x\r\n\r\n',
      '\xc3\x82\xc3 / HTTP/1.1\r\nHost: x\r\n\r\n',
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      'GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n',
      'GET / FTP/1.1\r\nHost: x\r\n\r\n',
      'GET /x\r\n\r\n',
      'SSH-2.0-OpenSSH_9.6\r\n\x00\x00\x05\xdc\x0a\x14binary\r\n',
    ]) {
      const s = feed(parser('request'), bad);
      expect(s.messages, JSON.stringify(bad)).toEqual([]);
      expect(s.events, JSON.stringify(bad)).toHaveLength(1);
      expect(s.events[0]).toMatch(/^not-http/);
    }
    // While resynchronising only well-formed start lines count.
    expect(feed(parser('request', { atMessageStart: false }), 'tail}\r\nOPTIONS\r\nHost: x\r\n\r\nGET /x\r\nHost: x\r\n\r\n').messages).toEqual([]);
  });

  it('resynchronises mid-stream on a start line that follows a body without a line break', () => {
    const s = feed(parser('request', { atMessageStart: false }), 'tail of a previous body, no newline}PUT /x HTTP/1.1\r\nContent-Length: 1\r\n\r\nZ', 5);
    expect(s.messages.map((m) => m.head.kind === 'request' && m.head.method)).toEqual(['PUT']);
    expect(s.bodies).toEqual(['Z']);
    const r = feed(parser('response', { atMessageStart: false }), '..."HTTP/1.1 is great"...\nbodyHTTP/1.1 204 No Content\r\n\r\n', 3);
    expect(r.messages.map((m) => m.head.kind === 'response' && m.head.status)).toEqual([204]);
  });

  it('finds a start line split anywhere across writes while resynchronising', () => {
    const req = 'junk bytes GE GET not-a-line\r\nmore}DELETE /items/7?x=1 HTTP/1.1\r\nHost: h\r\n\r\n';
    const res = 'xx HTTP/1.0 nope\r\nbody tailHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n';
    for (let cut = 1; cut < req.length; cut++) {
      const s = parser('request', { atMessageStart: false });
      feed(s, req.slice(0, cut));
      feed(s, req.slice(cut));
      expect(s.messages.map((m) => m.head.kind === 'request' && m.head.target), `cut ${cut}`).toEqual(['/items/7?x=1']);
    }
    for (let cut = 1; cut < res.length; cut++) {
      const s = parser('response', { atMessageStart: false });
      feed(s, res.slice(0, cut));
      feed(s, res.slice(cut));
      expect(s.messages.map((m) => m.head.kind === 'response' && m.head.status), `cut ${cut}`).toEqual([404]);
    }
  });

  it('a false start inside a body gives way to the real message on the line that broke it', () => {
    const s = feed(parser('response', { atMessageStart: false }), 'xHTTP/1.1 200 fake\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n');
    expect(s.messages.map((m) => m.head.kind === 'response' && m.head.status)).toEqual([201]);
  });

  it('Content-Length: a gap inside the body keeps framing; the stored body stops at the gap', () => {
    const s = parser('response');
    feed(s, 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    s.parser.gap(4, 2000);
    feed(s, 'hij' + 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nZ');
    expect(s.bodies).toEqual(['abc', 'Z']);
    expect(s.messages[0]!.body.size).toBe(10);
    expect(s.messages[0]!.incomplete).toBe('capture gap of 4 bytes in the response body');
    expect(s.messages[1]!.incomplete).toBeNull();
  });

  it('a gap in a chunk-size line loses framing: message incomplete, then resync', () => {
    const s = parser('response');
    feed(s, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    s.parser.gap(9, 2000);
    feed(s, 'more\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n');
    expect(s.bodies).toEqual(['hello', '']);
    expect(s.messages[0]!.incomplete).toMatch(/gap of 9 bytes in the chunked response body/);
  });

  it('a gap between messages reports a lost message', () => {
    const s = feed(parser('request'), 'GET / HTTP/1.1\r\n\r\n');
    s.parser.gap(100, 2000);
    feed(s, 'GET /b HTTP/1.1\r\n\r\n');
    expect(s.events).toEqual(['lost: capture gap of 100 bytes between messages']);
    expect(s.messages).toHaveLength(2);
  });

  it('interim responses are reported and skipped', () => {
    const s = feed(parser('response'), 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    expect(s.events).toEqual(['interim 100', 'interim 103']);
    expect(s.messages).toHaveLength(1);
  });

  it('body cap: bytes counted past the cap, prefix stored', () => {
    const s = feed(parser('response', { bodyCap: 4 }), 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789');
    expect(s.bodies).toEqual(['0123']);
    expect(s.messages[0]!.body.size).toBe(10);
  });

  it('bad framing values are errors, not crashes', () => {
    const cl = feed(parser('request'), 'GET / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n');
    expect(cl.events[0]).toMatch(/bad content-length/);
    const te = feed(parser('request'), 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n');
    expect(te.events[0]).toMatch(/does not end in chunked/);
    const chunk = feed(parser('response'), 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n');
    expect(chunk.messages[0]!.parseError).toMatch(/bad chunk size/);
    const noCrlf = feed(parser('response'), 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXX');
    expect(noCrlf.messages[0]!.parseError).toBe('chunk data not followed by CRLF');
  });

  it('the end of the stream finishes a read-until-close body, or marks a cut one incomplete', () => {
    const close = feed(parser('response'), 'HTTP/1.1 200 OK\r\n\r\nall of it');
    close.parser.end('fin', 5000);
    expect(close.bodies).toEqual(['all of it']);
    expect(close.messages[0]!.incomplete).toBeNull();
    const cut = feed(parser('response'), 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome');
    cut.parser.end('reset', 5000);
    expect(cut.messages[0]!.incomplete).toBe('stream ended (reset) before the response body ended');
    expect(cut.messages[0]!.body.size).toBe(100);
  });

  it('holds client bytes after an Upgrade request until the verdict', () => {
    const s = feed(parser('request'), 'GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n\x81\x02hi');
    expect(s.messages).toHaveLength(1);
    s.parser.release(true);
    feed(s, 'GET /x HTTP/1.1\r\n\r\n');
    expect(s.messages).toHaveLength(1);
    expect(s.budget.used).toBe(0);
  });
});
