import { describe, expect, it } from 'vitest';
import * as reprise from '../index.js';
import { makeTempDir } from './support/temp-dir.js';
import { syntheticExchange } from './support/synthetic-exchange.js';

describe("the public API ('reprise')", () => {
  it('writes, reads and inspects a store through the exported functions only', async () => {
    const tmp = await makeTempDir();
    try {
      const store = `${tmp.dir}/store`;
      const ex = reprise.redactSecretHeaders({ ...syntheticExchange(1), request: { ...syntheticExchange(1).request, headers: [['Authorization', 'Bearer x']] } });
      await reprise.writeExchanges([ex], store);
      const back: reprise.Exchange[] = [];
      for await (const x of reprise.readExchanges(store)) back.push(x);
      expect(back).toEqual([ex]);
      expect(reprise.isExchange(back[0])).toBe(true);
      expect((await reprise.inspectStore(store)).exchanges).toBe(1);
      expect(back[0]!.redactions).toEqual(['request.headers.authorization']);
    } finally {
      await tmp.cleanup();
    }
  });
});

describe("replay through the public API ('reprise')", () => {
  it('plans a store with the exported functions: speed and amplify, and a profile from YAML', async () => {
    const tmp = await makeTempDir();
    try {
      const store = `${tmp.dir}/store`;
      await reprise.writeExchanges(Array.from({ length: 10 }, (_, i) => syntheticExchange(i)), store);
      const plan = await reprise.summarizePlan(reprise.planSends(() => reprise.readExchanges(store), { speed: 2, amplify: 3 }));
      expect(plan).toMatchObject({ sends: 30, exchanges: 10 });
      const profile = reprise.parseProfileYaml('type: constant\nrate: 5\nduration: 2\n');
      expect((await reprise.summarizePlan(reprise.planSends(() => reprise.readExchanges(store), { profile }))).perSecond).toEqual([5, 5]);
      expect(typeof reprise.runReplay).toBe('function');
      expect(typeof reprise.runMax).toBe('function');
    } finally {
      await tmp.cleanup();
    }
  });
});
