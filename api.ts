/**
 * The stages as namespaces — `import { capture, transform, replay, diff } from 'reprise'` —
 * for tests and scripts that tell the story stage by stage. Each member is the
 * same function the CLI calls (index.ts also exports them one by one).
 *
 * @example
 * import { capture, transform, replay, diff } from 'reprise';
 *
 * const recorder = await capture.openRecorder('./store');
 * const proxy = await capture.reverseProxy({ listen: { host: '127.0.0.1', port: 0 }, upstream: api.url, recorder });
 * // … drive traffic through proxy.address.url …
 * await proxy.close();
 * await transform.store('./store', './clean', transform.validate({ steps: [{ type: 'redact', detectors: 'default' }] }));
 * const run = await replay.run({ store: './clean', target: staging.url, speed: 10, allowRecordedHost: true });
 * expect(run.metrics.overall.errors).toBe(0);
 * const report = await diff.live({ store: './clean', baseline: v1.url, candidate: v2.url });
 * expect(report.totals.high).toBe(0);
 */
import { importApigw } from './capture/apigw/apigw-import.js';
import { startIngestServer } from './capture/apigw/ingest-server.js';
import { importHar } from './capture/har/har-import.js';
import { capturePcap, pcapExchanges } from './capture/pcap/capture-pcap.js';
import { listenVxlan } from './capture/pcap/vxlan-listener.js';
import { initCa, loadCa } from './capture/proxy/ca-files.js';
import { openRecorder } from './capture/proxy/exchange-recorder.js';
import { startForwardProxy } from './capture/proxy/forward-proxy.js';
import { startReverseProxy } from './capture/proxy/reverse-proxy.js';
import { judgeDiff, parseDiffThresholds } from './replay/diff/diff-thresholds.js';
import { writeDiffReports } from './replay/diff/report/write-diff-reports.js';
import { diffLive, diffStores } from './replay/diff/run-diff.js';
import { runMax } from './replay/max/run-max.js';
import { ReplayMetrics, mergeSnapshots } from './replay/metrics/replay-metrics.js';
import { runReplayJob } from './replay/replay-job.js';
import { writeReplayReports } from './replay/report/write-reports.js';
import { runReplay } from './replay/run-replay.js';
import { planSends } from './replay/schedule/plan-sends.js';
import { summarizePlan } from './replay/schedule/plan-summary.js';
import { loadProfile } from './replay/schedule/rate-profile.js';
import { evaluateThresholds } from './replay/thresholds/evaluate-thresholds.js';
import { parseThresholds } from './replay/thresholds/parse-threshold.js';
import { loadScenario } from './scenarios/load-scenario.js';
import { runScenario } from './scenarios/run-scenario.js';
import { compilePipeline, runPipeline } from './transform/compile-pipeline.js';
import { loadTransformPipeline, validatePipeline } from './transform/config/load-pipeline.js';
import { transformStore } from './transform/transform-store.js';

/** Traffic in: packets, proxies, API Gateway payloads, HAR. */
export const capture = Object.freeze({
  pcap: capturePcap,
  pcapExchanges,
  vxlan: listenVxlan,
  har: importHar,
  apigw: importApigw,
  ingestServer: startIngestServer,
  openRecorder,
  reverseProxy: startReverseProxy,
  forwardProxy: startForwardProxy,
  initCa,
  loadCa,
});

/** Exchange → Exchange pipelines (redact, parameterize, correlate, filter, sample, dedupe, plugins). */
export const transform = Object.freeze({
  load: loadTransformPipeline,
  validate: validatePipeline,
  compile: compilePipeline,
  run: runPipeline,
  store: transformStore,
});

/** Sending recorded traffic again, measured (timed open model or max throughput). */
export const replay = Object.freeze({
  run: runReplay,
  max: runMax,
  job: runReplayJob,
  plan: planSends,
  summarizePlan,
  loadProfile,
  parseThresholds,
  evaluateThresholds,
  writeReports: writeReplayReports,
  Metrics: ReplayMetrics,
  mergeSnapshots,
});

/** Responses compared between releases, noise cancelled. */
export const diff = Object.freeze({
  live: diffLive,
  stores: diffStores,
  parseThresholds: parseDiffThresholds,
  judge: judgeDiff,
  writeReports: writeDiffReports,
});

/** One YAML file per run. */
export const scenario = Object.freeze({
  load: loadScenario,
  run: runScenario,
});
