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
export { exportHar } from './store/export/har-export.js';
export { exportMarkdown } from './store/export/markdown-export.js';

export { importHar, newHarImportReport } from './capture/har/har-import.js';
export type { PcapCaptureOptions, PcapCaptureSummary } from './capture/pcap/capture-pcap.js';
export { capturePcap, pcapExchanges, newPcapCaptureSummary } from './capture/pcap/capture-pcap.js';
export { listenVxlan } from './capture/pcap/vxlan-listener.js';

export { redactSecretHeaders, DEFAULT_SECRET_HEADERS } from './transform/redact-headers.js';

export type { ErrorCode, ErrorLocation } from './errors.js';
export { RepriseError, isRepriseError } from './errors.js';
