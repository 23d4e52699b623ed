/**
 * reprise's public library API: what `import … from 'reprise'` gives. The CLI
 * is a thin layer over these same functions.
 */
export type { Exchange, ExchangeRequest, ExchangeResponse, Body, Header, Provenance, SourceKind, ExchangeError, NetworkFacts } from './store/exchange.js';
export { EXCHANGE_VERSION, requestUrl, getHeader, hostOf } from './store/exchange.js';
export { exchangeProblems, isExchange } from './store/validate-exchange.js';
export { bodyFromBuffer, bodyToBuffer } from './store/body.js';
export { newExchangeId } from './store/exchange-id.js';
export { collapsePathIds, endpointKey } from './store/endpoint-template.js';

export type { StoreWriterOptions, StoreWriterSummary } from './store/segment-writer.js';
export { openStoreWriter, StoreWriter } from './store/segment-writer.js';
export type { ReadOptions, ReadReport, SegmentRef } from './store/segment-reader.js';
export { readExchanges, listSegments, newReadReport } from './store/segment-reader.js';
export type { ExchangeFilter } from './store/exchange-filter.js';
export { compileFilter } from './store/exchange-filter.js';
export type { StoreSummary } from './store/inspect-store.js';
export { inspectStore, formatStoreSummary } from './store/inspect-store.js';
export { writeExchanges, writeNdjson } from './store/write-exchanges.js';
export type { ExchangeStoreWriter, AnyStoreWriterOptions } from './store/open-store-writer.js';
export { openAnyStoreWriter } from './store/open-store-writer.js';
export { parseS3Url, makeS3Client } from './store/s3/s3-client.js';
export { exportHar } from './store/export/har-export.js';
export { exportMarkdown } from './store/export/markdown-export.js';

export { importHar, newHarImportReport } from './capture/har/har-import.js';
export type { PcapCaptureOptions, PcapCaptureSummary } from './capture/pcap/capture-pcap.js';
export { capturePcap, pcapExchanges, newPcapCaptureSummary } from './capture/pcap/capture-pcap.js';
export { listenVxlan } from './capture/pcap/vxlan-listener.js';
export type { ReverseProxy, ReverseProxyOptions, ProxyStats } from './capture/proxy/reverse-proxy.js';
export { startReverseProxy } from './capture/proxy/reverse-proxy.js';
export type { ForwardProxy, ForwardProxyOptions } from './capture/proxy/forward-proxy.js';
export { startForwardProxy } from './capture/proxy/forward-proxy.js';
export { initCa, loadCa } from './capture/proxy/ca-files.js';
export type { RecorderOptions, RecorderStats, RecordSink, SamplingOptions } from './capture/proxy/exchange-recorder.js';
export { ExchangeRecorder, openRecorder } from './capture/proxy/exchange-recorder.js';
export type { IngestServer, IngestServerOptions } from './capture/apigw/ingest-server.js';
export { startIngestServer } from './capture/apigw/ingest-server.js';
export { importApigw, newApigwImportReport } from './capture/apigw/apigw-import.js';

export type { DiffCommonOptions, LiveDiffOptions, OfflineDiffOptions } from './replay/diff/run-diff.js';
export { diffLive, diffStores } from './replay/diff/run-diff.js';
export type { DiffReport, DiffFinding, DiffExample, EndpointDiff, RootCauseCluster } from './replay/diff/diff-report.js';
export type { DiffRulesInput, ArrayMode } from './replay/diff/diff-rules.js';
export type { DiffKind, Risk } from './replay/diff/diff-types.js';
export type { DiffThreshold, ThresholdVerdict as DiffThresholdVerdict } from './replay/diff/diff-thresholds.js';
export { parseDiffThresholds, judgeDiff } from './replay/diff/diff-thresholds.js';
export { writeDiffReports } from './replay/diff/report/write-diff-reports.js';
export { renderDiffTerminal } from './replay/diff/report/render-terminal.js';

export type { RequestResult, ErrorKind } from './replay/replay-result.js';
export type { ReplayOptions, ReplayRunSummary } from './replay/run-replay.js';
export { runReplay } from './replay/run-replay.js';
export type { MaxOptions, MaxRunSummary } from './replay/max/run-max.js';
export { runMax } from './replay/max/run-max.js';
export type { PlanOptions, PlannedSend, ReplayPlan } from './replay/schedule/replay-plan.js';
export { planSends } from './replay/schedule/plan-sends.js';
export type { PlanSummary } from './replay/schedule/plan-summary.js';
export { summarizePlan } from './replay/schedule/plan-summary.js';
export type { RateProfile } from './replay/schedule/rate-profile.js';
export { loadProfile, parseProfileYaml } from './replay/schedule/rate-profile.js';
export type { TargetPolicy } from './replay/safety/target-policy.js';
export type { ReplayMetricsOptions, MetricsSnapshot, LiveStats } from './replay/metrics/replay-metrics.js';
export { ReplayMetrics, mergeSnapshots } from './replay/metrics/replay-metrics.js';
export type { GroupSnapshot, StatusClass } from './replay/metrics/group-stats.js';
export type { LatencySummary } from './replay/metrics/histogram.js';
export type { Threshold, ThresholdOp } from './replay/thresholds/parse-threshold.js';
export { parseThreshold, parseThresholds } from './replay/thresholds/parse-threshold.js';
export type { ThresholdOutcome, ThresholdContext } from './replay/thresholds/evaluate-thresholds.js';
export { ANSWERED_GATE, evaluateThresholds, judgeRun } from './replay/thresholds/evaluate-thresholds.js';
export type { ReplayReportInput, ReportPlan } from './replay/report/report-input.js';
export type { ReplaySummaryJson } from './replay/report/summary-json.js';
export { formatReplaySummary } from './replay/report/format-summary.js';
export { startProgress } from './replay/report/progress.js';
export { writeReplayReports } from './replay/report/write-reports.js';
export { readReplaySummary, parseReplaySummary } from './replay/report/read-summary.js';
export { mergeReplaySummaries } from './replay/report/merge-summaries.js';

export { redactSecretHeaders, DEFAULT_SECRET_HEADERS } from './transform/redact-headers.js';

export type { ErrorCode, ErrorLocation } from './errors.js';
export { RepriseError, isRepriseError } from './errors.js';

// The stages as namespaces: `import { capture, transform, replay, diff } from 'reprise'`.
export { capture, transform, replay, diff, scenario } from './api.js';
