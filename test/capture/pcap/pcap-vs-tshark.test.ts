import { createReadStream } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { pcapExchanges } from '../../../capture/pcap/capture-pcap.js';
import { requestUrl, type Exchange } from '../../../store/exchange.js';
import {
  pcapFixtures, readTsharkExpectations, SHARED_PCAPS, tsharkRow, type TsharkRow,
} from '../../support/tshark-expectations.js';
import { tsharkExchangesAsync, tsharkVersion } from '../../support/tshark-http.js';

/**
 * For every capture fixture — ours and the public Zeek/tcpdump ones — the
 * exchanges reprise imports are the requests tshark decodes (`-Y http.request
 * || http.response`, paired by http.request_in, interim 1xx skipped): same
 * number, same (method, request-target, final status) in the same order.
 *
 * tshark is the reference where it is installed; its output must then also
 * equal test/fixtures/pcap/tshark-expectations.json, which stands in for it
 * where it is not (regenerate with `npx tsx scripts/make-tshark-expectations.ts`).
 *
 * The request-target is compared as tshark shows it, i.e. as sent: reprise
 * stores it in pieces, put back together here — path and `?query`; for an
 * absolute-form target (a request to a proxy) scheme://authority too; for
 * CONNECT the authority, which is its whole target.
 */

interface Exception {
  ours: TsharkRow[];
  tshark: TsharkRow[];
  why: string;
  /** What else must hold of our exchanges for the difference to be the explained one. */
  check?: (exchanges: Exchange[]) => void;
}

// Where reprise and tshark differ on purpose. Each entry pins both sides, so a
// change on either one fails the test instead of hiding behind the exception.
const EXCEPTIONS: Record<string, Exception> = {
  'zeek/http_entity_gap.pcap': {
    ours: [['GET', '/download/CHANGES.bro-aux.txt', 200]],
    tshark: [['GET', '/download/CHANGES.bro-aux.txt', null]],
    why:
      'One 1448-byte segment of the response body was never captured. tshark reassembles the body before ' +
      'it reports the response, so it reports none; reprise keeps the Content-Length framing through the ' +
      'gap and stores the 200 with what was captured, marked incomplete.',
    check: (exchanges) => {
      expect(exchanges[0]!.incomplete).toBe('capture gap of 1448 bytes in the response body');
      expect(exchanges[0]!.response!.body).toMatchObject({ size: 4705, truncated: true });
    },
  },
};

const ABSOLUTE_FORM = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//;

/** Our exchange as a row, its target put back together the way `theirs` (tshark's target for it) was sent. */
function ourRow(ex: Exchange, theirs: string | undefined): TsharkRow {
  const req = ex.request;
  let uri: string;
  if (req.method === 'CONNECT') uri = req.authority;
  else if (theirs !== undefined && ABSOLUTE_FORM.test(theirs)) uri = requestUrl(req);
  else uri = req.query === '' ? req.path : `${req.path}?${req.query}`;
  return [req.method, uri, ex.response?.status ?? null];
}

async function importAll(path: string): Promise<Exchange[]> {
  const out: Exchange[] = [];
  for await (const ex of pcapExchanges(createReadStream(path), { name: path })) out.push(ex);
  return out;
}

/** Run `fn` over `items`, at most `n` at a time (tshark's start-up dominates: ~0.2 s a file). */
async function mapLimit<T, R>(items: readonly T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

const fixtures = pcapFixtures();
const sharedHere = fixtures.some((f) => f.path.startsWith(SHARED_PCAPS));
const expectations = readTsharkExpectations();
const live = tsharkVersion();

describe(`pcap import vs tshark (${live ? `tshark ${live}` : `committed tshark ${expectations.tshark} output`})`, () => {
  const theirs = new Map<string, TsharkRow[]>();

  beforeAll(async () => {
    if (!live) return;
    const rows = await mapLimit(fixtures, 4, async (f) => (await tsharkExchangesAsync(f.path)).map(tsharkRow));
    fixtures.forEach((f, i) => theirs.set(f.name, rows[i]!));
  }, 60_000);

  it('every fixture has committed expectations, and every expectation a fixture', () => {
    const names = fixtures.map((f) => f.name);
    const missing = names.filter((n) => !(n in expectations.files));
    expect(missing, 'no committed tshark output: run npx tsx scripts/make-tshark-expectations.ts').toEqual([]);
    // Without ../shared only our own captures are here; the committed list names the shared ones too.
    const present = Object.keys(expectations.files).filter((n) => n.startsWith('reprise/') || sharedHere);
    expect(present.filter((n) => !names.includes(n)), 'expectations for captures that are gone').toEqual([]);
  });

  for (const { name, path } of fixtures) it(name, async () => {
    const committed = expectations.files[name];
    expect(committed, `no committed tshark output for ${name}`).toBeDefined();
    let reference = committed!;
    if (live) {
      reference = theirs.get(name)!;
      expect(reference, `tshark ${live} decodes ${name} differently from the committed output of tshark ${expectations.tshark}: ` +
        'regenerate with npx tsx scripts/make-tshark-expectations.ts and review the diff').toEqual(committed);
    }
    const exchanges = await importAll(path);
    const ours = exchanges.map((ex, i) => ourRow(ex, reference[i]?.[1]));
    const exception = EXCEPTIONS[name];
    if (exception) {
      expect(reference, `tshark's side of the exception for ${name}`).toEqual(exception.tshark);
      expect(ours, `our side of the exception for ${name}`).toEqual(exception.ours);
      exception.check?.(exchanges);
    } else {
      expect(ours).toEqual(reference);
    }
  });

  it('every exception names a fixture', () => {
    expect(Object.keys(EXCEPTIONS).filter((n) => !fixtures.some((f) => f.name === n) && sharedHere)).toEqual([]);
  });
});
