import { join } from 'node:path';
import { importApigw } from '../capture/apigw/apigw-import.js';
import { importHar } from '../capture/har/har-import.js';
import { capturePcap } from '../capture/pcap/capture-pcap.js';
import { makeS3Client } from '../store/s3/s3-client.js';
import { writeExchanges } from '../store/write-exchanges.js';
import { transformStore, type TransformSummary } from '../transform/transform-store.js';
import type { Scenario } from './scenario-types.js';

/**
 * The traffic a scenario replays or diffs, as a store: its source (a store
 * is used as it is; HAR, pcap and API Gateway payloads are imported into the
 * run's work folder first), or the store its capture just wrote, then the
 * transform pipeline applied into a new store. The input is never modified.
 */
export interface PreparedTraffic {
  store: string;
  imported?: { kind: string; from: string; exchanges?: number };
  transform?: TransformSummary;
}

export async function prepareTraffic(s: Scenario, workDir: string, capturedStore?: string): Promise<PreparedTraffic | undefined> {
  let store: string | undefined = capturedStore;
  let imported: PreparedTraffic['imported'];
  const src = s.source;
  if (src) {
    if (src.kind === 'store') store = src.path;
    else {
      store = join(workDir, `source-${src.kind}`);
      if (src.kind === 'pcap') {
        const summary = await capturePcap(src.path, store);
        imported = { kind: 'pcap', from: src.path, exchanges: summary.exchanges };
      } else if (src.kind === 'har') {
        await writeExchanges(importHar(src.path), store);
        imported = { kind: 'har', from: src.path };
      } else {
        await writeExchanges(importApigw(src.path, { s3: async () => makeS3Client() }), store);
        imported = { kind: 'apigw', from: src.path };
      }
    }
  }
  if (store === undefined) return undefined;
  if (!s.transform) return { store, ...(imported && { imported }) };
  const out = join(workDir, 'transformed');
  const transform = await transformStore(store, out, s.transform);
  return { store: out, ...(imported && { imported }), transform };
}
