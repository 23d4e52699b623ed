import { describe, expect, it } from 'vitest';
import { parseListenAddress } from '../../capture/listen-address.js';

describe('parseListenAddress', () => {
  it('reads host:port, [v6]:port and a bare port (loopback)', () => {
    expect(parseListenAddress('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListenAddress('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseListenAddress('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseListenAddress('8443')).toEqual({ host: '127.0.0.1', port: 8443 });
  });

  it('refuses what is not an address', () => {
    for (const bad of ['', ':80', 'host:', 'host:70000', 'a b:80', 'host:80x', '::1:80', 'http://h:80']) {
      expect(parseListenAddress(bad), bad).toBeNull();
    }
  });
});
