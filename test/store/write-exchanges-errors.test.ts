import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RepriseError } from '../../errors.js';
import type { Exchange } from '../../store/exchange.js';
import { readExchanges } from '../../store/segment-reader.js';
import { writeExchanges } from '../../store/write-exchanges.js';
import { syntheticExchange } from '../support/synthetic-exchange.js';
import { makeTempDir } from '../support/temp-dir.js';

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => { tmp = await makeTempDir(); });
afterEach(async () => { await tmp.cleanup(); });

const sourceError = new RepriseError('HAR_INVALID', 'entries[3].request: not an object', { location: { file: 'session.har', offset: 812 } });

describe('writeExchanges when the source fails', () => {
  it('keeps the records written before it, and rethrows the source error itself', async () => {
    const store = join(tmp.dir, 'store');
    async function* source(): AsyncGenerator<Exchange> {
      for (let i = 0; i < 3; i++) yield syntheticExchange(i);
      throw sourceError;
    }
    await expect(writeExchanges(source(), store)).rejects.toBe(sourceError);
    const kept: Exchange[] = [];
    for await (const ex of readExchanges(store)) kept.push(ex);
    expect(kept).toHaveLength(3);
  });

  it('reports the source error, not the close error, when the store cannot be closed after it either', async () => {
    const store = join(tmp.dir, 'store');
    async function* source(): AsyncGenerator<Exchange> {
      for (let i = 0; i < 3; i++) yield syntheticExchange(i);
      await rm(store, { recursive: true, force: true }); // the store is gone when the writer seals it
      throw sourceError;
    }
    const err = (await writeExchanges(source(), store).catch((e: unknown) => e)) as RepriseError;
    expect(err).toBeInstanceOf(RepriseError);
    expect(err).toMatchObject({ code: 'HAR_INVALID', location: { file: 'session.har', offset: 812 }, cause: sourceError });
    expect(err.message).toMatch(new RegExp(`^entries\\[3\\]\\.request: not an object; and ${store.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} could not be closed after it \\(.*ENOENT.*\\): the last records may be missing$`));
  });

  it('an unexpected source error (not a RepriseError: a bug, an fs error no importer wrapped) stays itself, and says the store could not be closed either', async () => {
    const store = join(tmp.dir, 'store');
    const eio = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    async function* source(): AsyncGenerator<Exchange> {
      for (let i = 0; i < 3; i++) yield syntheticExchange(i);
      await rm(store, { recursive: true, force: true });
      throw eio;
    }
    const err = await writeExchanges(source(), store).catch((e: unknown) => e);
    expect(err).toBe(eio); // its identity, code and stack are what a bug report needs
    expect(eio.code).toBe('EIO');
    expect(eio.message).toMatch(new RegExp(`^EIO: i/o error, read; and ${store.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} could not be closed after it \\(.*ENOENT.*\\): the last records may be missing$`));
    expect(eio.stack).toContain('write-exchanges-errors.test.ts'); // where it was thrown, not where it was closed

    const thrown = await writeExchanges((async function* (): AsyncGenerator<Exchange> {
      yield syntheticExchange(0);
      await rm(store, { recursive: true, force: true });
      throw 'not an Error';
    })(), store).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).toMatchObject({ cause: 'not an Error', message: expect.stringMatching(/^not an Error; and .* could not be closed after it/) });
  });
});
