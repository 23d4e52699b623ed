// Why this file exists: the HAR tests need small, valid HAR entries they can bend one field at a
// time, and a place to write them; building them here keeps each test down to what it changes.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type EntryOverrides = Record<string, unknown>;

/** A minimal valid HAR 1.2 entry: GET with one header, 200 with a small JSON body. */
export function harEntry(overrides: EntryOverrides = {}): Record<string, unknown> {
  return {
    startedDateTime: '2026-03-14T10:00:00.000Z',
    time: 12.5,
    request: {
      method: 'GET',
      url: 'https://api.test/users/1',
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: [{ name: 'Host', value: 'api.test' }],
      queryString: [],
      headersSize: -1,
      bodySize: 0,
    },
    response: {
      status: 200,
      statusText: 'OK',
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: [{ name: 'Content-Type', value: 'application/json' }],
      content: { size: 8, mimeType: 'application/json', text: '{"id":1}' },
      redirectURL: '',
      headersSize: -1,
      bodySize: 8,
    },
    cache: {},
    timings: { send: 0.5, wait: 11, receive: 1 },
    ...overrides,
  };
}

/** A whole HAR document, pretty-printed like devtools exports (one field per line). */
export function harDocument(entries: unknown[]): string {
  return `${JSON.stringify({ log: { version: '1.2', creator: { name: 'test', version: '1' }, entries } }, null, 2)}\n`;
}

export async function writeHar(dir: string, name: string, content: string | Buffer | unknown[]): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, Array.isArray(content) ? harDocument(content) : content);
  return file;
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of items) out.push(x);
  return out;
}

/** Runs `fn` and returns what it threw (fails the test if it did not throw). */
export async function caught(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error, got none');
}

/** 1-based line of the first occurrence of `needle` in `text`. */
export function lineOf(text: string, needle: string, from = 0): number {
  const at = text.indexOf(needle, from);
  if (at === -1) throw new Error(`${needle} not in text`);
  return text.slice(0, at).split('\n').length;
}
