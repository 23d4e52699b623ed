import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fetchBytes, startProxy, startUpstream } from './reverse-harness.js';

afterEach(cleanup);

/**
 * A raw upgrade echo server: answers the handshake with 101 (or refuses it
 * with 403 when asked), then echoes every byte back — enough to prove the
 * tunnel is byte-exact without a WebSocket library.
 */
async function startEchoUpgradeServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => res.end('plain'));
  server.on('upgrade', (req, socket, head) => {
    if (req.url === '/refuse') {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\nno way!');
      return;
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${req.headers['sec-websocket-key']}-ok\r\nX-Echo-Proto: Raw\r\n\r\n`);
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Reads from a raw socket until `until` matches the accumulated bytes. */
function readUntil(socket: Socket, until: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (c: Buffer): void => {
      text += c.toString('latin1');
      if (until(text)) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => resolve(text));
  });
}

function handshake(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: ws.example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
}

describe('reverse proxy: upgrades', () => {
  it('a WebSocket upgrade passes through byte for byte and is recorded as an upgrade exchange', async () => {
    const echo = await startEchoUpgradeServer();
    const p = await startProxy(echo.url);
    const socket = connect(p.proxy.address.port, '127.0.0.1');
    socket.write(handshake('/ws?room=1'));
    const head = await readUntil(socket, (t) => t.includes('\r\n\r\n'));
    expect(head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(head).toContain('Sec-WebSocket-Accept: dGhlIHNhbXBsZQ==-ok\r\n');
    expect(head).toContain('X-Echo-Proto: Raw\r\n');
    const payload = Buffer.from([0x81, 0x05, 0x00, 0xff, 0x10, 0x80, 0x7f, ...Buffer.from('héllo tunnel')]);
    socket.write(payload);
    const echoed = await readUntil(socket, (t) => Buffer.from(t, 'latin1').length >= payload.length);
    expect(Buffer.from(echoed, 'latin1').equals(payload)).toBe(true);
    expect(p.proxy.stats).toMatchObject({ upgrades: 1, tunnelsOpen: 1 });
    // An ordinary request on another connection works meanwhile.
    expect((await fetchBytes(p.client, { path: '/plain' })).body.toString()).toBe('plain');
    socket.destroy();
    await expect.poll(() => p.proxy.stats.tunnelsOpen).toBe(0);
    const stored = await p.stopAndRead();
    await echo.close();
    const ex = stored.find((e) => e.request.path === '/ws')!;
    expect(ex.request).toMatchObject({ method: 'GET', authority: 'ws.example.test', query: 'room=1', body: null });
    expect(ex.request.headers).toContainEqual(['Upgrade', 'websocket']);
    expect(ex.response).toMatchObject({ status: 101, statusText: 'Switching Protocols', body: null });
    expect(ex.response!.headers).toContainEqual(['X-Echo-Proto', 'Raw']);
    expect(ex.meta).toMatchObject({ upgrade: 'websocket', notes: [expect.stringMatching(/relayed, not recorded/)] });
  });

  it('a refused handshake is relayed as the upstream sent it and recorded with its body', async () => {
    const echo = await startEchoUpgradeServer();
    const p = await startProxy(echo.url);
    const socket = connect(p.proxy.address.port, '127.0.0.1');
    socket.write(handshake('/refuse'));
    const text = await readUntil(socket, () => false); // until the proxy closes
    expect(text).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(text.endsWith('\r\n\r\nno way!')).toBe(true);
    const stored = await p.stopAndRead();
    await echo.close();
    expect(stored[0]!.response).toMatchObject({ status: 403, body: { data: 'no way!', size: 7 } });
  });

  it('an upgrade to an upstream that is down gets a 502 and is recorded as refused', async () => {
    const dead = await startUpstream(() => undefined);
    await new Promise<void>((resolve) => dead.server.close(() => resolve()));
    const p = await startProxy(dead.url);
    const socket = connect(p.proxy.address.port, '127.0.0.1');
    socket.write(handshake('/ws'));
    const text = await readUntil(socket, () => false);
    expect(text).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    const stored = await p.stopAndRead();
    expect(stored[0]).toMatchObject({ response: null, error: { kind: 'refused' }, meta: { upgrade: 'websocket' } });
  });

  it('close() ends open tunnels and still flushes the store', async () => {
    const echo = await startEchoUpgradeServer();
    const p = await startProxy(echo.url);
    const socket = connect(p.proxy.address.port, '127.0.0.1');
    socket.write(handshake('/ws'));
    await readUntil(socket, (t) => t.includes('\r\n\r\n'));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    const stored = await p.stopAndRead();
    await closed;
    await echo.close();
    expect(stored).toHaveLength(1);
  });
});
