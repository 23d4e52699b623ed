import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { bodyFromBuffer } from '../../store/body.js';
import { newExchangeId } from '../../store/exchange-id.js';
import { getHeader, type Body, type Exchange, type Header } from '../../store/exchange.js';
import type { PlannedSend } from '../schedule/replay-plan.js';
import type { RunClock } from '../schedule/run-clock.js';
import type { LiveResponseCapture, SendOutcome } from './replay-dispatcher.js';

/**
 * A replayed send as an Exchange for `--record-out`: the request exactly as
 * it went on the wire (after templates and header overrides) and the live
 * response, so the new store can be diffed against the recording or
 * replayed again. `meta.replayOf` links it to the recorded exchange.
 */
export function toReplayedExchange(
  s: PlannedSend,
  out: SendOutcome,
  ctx: { captureId: string; clock: RunClock; target: string; scheme: 'http' | 'https' },
): Exchange {
  const req = out.request!;
  const r = out.result;
  const startUs = Math.round(ctx.clock.startedAtMs * 1000 + (r.sentUs ?? r.intendedUs));
  const q = req.path.indexOf('?');
  const headers: Header[] = [];
  for (let i = 0; i + 1 < req.headers.length; i += 2) headers.push([req.headers[i]!, req.headers[i + 1]!]);
  const ex: Exchange = {
    v: 1,
    id: newExchangeId(Math.floor(startUs / 1000)),
    start: startUs,
    duration: r.sentUs === null ? null : Math.round(r.doneUs - r.sentUs),
    source: {
      kind: 'replay',
      captureId: ctx.captureId,
      ...(s.exchange.source.connection !== undefined && { connection: `${s.copy}:${s.exchange.source.connection}` }),
      ...(s.exchange.source.seq !== undefined && { seq: s.exchange.source.seq }),
    },
    request: {
      method: req.method,
      scheme: ctx.scheme,
      authority: ctx.target,
      path: q === -1 ? req.path : req.path.slice(0, q),
      query: q === -1 ? '' : req.path.slice(q + 1),
      httpVersion: '1.1',
      headers,
      body: req.body ? bodyFromBuffer(req.body) : null,
    },
    response: out.response
      ? {
          status: out.response.status,
          ...(out.response.statusText !== '' && { statusText: out.response.statusText }),
          httpVersion: '1.1',
          headers: out.response.headers,
          body: liveBody(out.response),
        }
      : null,
    meta: { replayOf: s.exchange.id, copy: s.copy },
  };
  if (r.error) ex.error = { kind: r.error.kind === 'timeout' || r.error.kind === 'reset' || r.error.kind === 'refused' || r.error.kind === 'protocol' ? r.error.kind : 'other', message: r.error.message };
  return ex;
}

const DECODERS: Record<string, (b: Buffer) => Buffer> = { gzip: gunzipSync, 'x-gzip': gunzipSync, deflate: inflateSync, br: brotliDecompressSync };

/** The store keeps decoded bodies (docs/format.md); a complete compressed body is decoded, a cut one kept as received. */
function liveBody(res: LiveResponseCapture): Body | null {
  if (res.bodyBytes === 0) return null;
  const encoding = getHeader(res.headers, 'content-encoding')?.trim().toLowerCase();
  const decode = encoding === undefined ? undefined : DECODERS[encoding];
  if (decode && res.body.length === res.bodyBytes) {
    try {
      const plain = decode(res.body);
      return bodyFromBuffer(plain, { contentEncoding: encoding! });
    } catch {
      // A body that does not decode is stored as the bytes that came.
    }
  }
  return bodyFromBuffer(res.body, { size: res.bodyBytes });
}
