import { setTimeout as sleep } from 'node:timers/promises';
import { startForwardProxy } from '../capture/proxy/forward-proxy.js';
import { parseListenAddress } from '../capture/listen-address.js';
import { openRecorder, type RecorderOptions, type RecorderStats } from '../capture/proxy/exchange-recorder.js';
import { startReverseProxy } from '../capture/proxy/reverse-proxy.js';
import { secretHeaderNames } from '../transform/redact-headers.js';
import type { Logger } from '../log.js';
import { driveWorkload, type WorkloadResult } from './demo/drive-workload.js';
import type { CaptureSection } from './scenario-types.js';

/**
 * A scenario's `capture:` section: the recording proxy (reverse in front of
 * `upstream`, or forward) writing into `out` with the scenario's redaction,
 * sampling and rotation. It stops when its workload is done, after
 * `duration`, or on SIGINT/SIGTERM — and always flushes the store first.
 */
export interface CaptureOutcome {
  store: string;
  recorder: RecorderStats;
  workload?: WorkloadResult;
  durationMs: number;
}

export async function runCapture(c: CaptureSection, log?: Logger, signal?: AbortSignal): Promise<CaptureOutcome> {
  const options: RecorderOptions = {
    redactHeaders: secretHeaderNames({ defaults: c.redactDefaults, extra: c.redactHeaders }),
    sampling: {
      ...(c.sample !== undefined && { rate: c.sample }),
      ...(c.maxPerEndpointPerSecond !== undefined && { perEndpointPerSecond: c.maxPerEndpointPerSecond }),
    },
  };
  const recorder = await openRecorder(c.out, { ...options, ...(c.segmentBytes !== undefined && { writer: { segmentBytes: c.segmentBytes } }) });
  const listen = parseListenAddress(c.listen)!; // checked by the schema
  const bodyCap = c.bodyCapBytes;
  const proxy = c.forward
    ? await startForwardProxy({ listen, recorder, ...(bodyCap !== undefined && { bodyCap }) })
    : await startReverseProxy({ listen, upstream: c.upstream!, recorder, ...(bodyCap !== undefined && { bodyCap }) });
  const started = performance.now();
  log?.info({ listen: proxy.address.url, out: c.out }, 'capture: recording');
  let workload: WorkloadResult | undefined;
  try {
    if (c.workload) workload = await driveWorkload(proxy.address.url, c.workload.requests, c.workload.rate);
    else await waitForStop(c.durationMs, signal);
  } finally {
    await proxy.close();
  }
  return { store: c.out, recorder: recorder.stats, ...(workload && { workload }), durationMs: performance.now() - started };
}

/** Until the duration passes, the signal aborts, or SIGINT/SIGTERM arrives. */
async function waitForStop(durationMs: number | undefined, signal?: AbortSignal): Promise<void> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  signal?.addEventListener('abort', onSignal, { once: true });
  try {
    await sleep(durationMs ?? 2 ** 31 - 1, undefined, { signal: stop.signal });
  } catch {
    // stopped early: that is the point
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    signal?.removeEventListener('abort', onSignal);
  }
}
