// Why this file exists: the HAR 1.2 shapes reprise writes, and the `_reprise` extension field that
// carries what HAR cannot hold exactly (µs times, ids, provenance, flags), shared by the exporter
// and the importer so that import → export → import gives back the same Exchanges.
import type { ExchangeError, NetworkFacts, Provenance } from '../exchange.js';

export interface HarNameValue {
  name: string;
  value: string;
}

export interface HarCookie extends HarNameValue {
  path?: string;
  domain?: string;
  expires?: string;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: string;
}

export interface HarRequest {
  method: string;
  url: string;
  httpVersion: string;
  cookies: HarCookie[];
  headers: HarNameValue[];
  queryString: HarNameValue[];
  postData?: { mimeType: string; text: string; encoding?: 'base64' };
  headersSize: number;
  bodySize: number;
}

export interface HarResponse {
  status: number;
  statusText: string;
  httpVersion: string;
  cookies: HarCookie[];
  headers: HarNameValue[];
  content: { size: number; compression?: number; mimeType: string; text?: string; encoding?: 'base64' };
  redirectURL: string;
  headersSize: number;
  bodySize: number;
}

/** Body facts HAR has no exact place for. */
export interface HarBodyFacts {
  /** Full decoded size (HAR text may hold only a truncated prefix). */
  size: number;
  contentEncoding?: string;
}

/**
 * The `_reprise` field of an exported entry. The importer trusts `start` only
 * when it agrees with startedDateTime to the millisecond, so an edited HAR
 * still imports the edited time.
 */
export interface RepriseHarExtension {
  v: 1;
  id: string;
  /** Request start, integer µs since the epoch. */
  start: number;
  /** Integer µs, or null when unknown (HAR `time` is then 0). */
  duration: number | null;
  source: Provenance;
  /** The stored timings when the HAR `timings` had to be filled in (null: there were none). */
  timings?: Record<string, number> | null;
  requestBody?: HarBodyFacts;
  responseBody?: HarBodyFacts;
  error?: ExchangeError;
  incomplete?: string;
  redactions?: string[];
  network?: NetworkFacts;
  meta?: Record<string, unknown>;
}

export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: HarRequest;
  response: HarResponse;
  cache: Record<string, never>;
  timings: Record<string, number>;
  serverIPAddress?: string;
  connection?: string;
  /** Chrome's field for requests that got no response. */
  _error?: string;
  _reprise: RepriseHarExtension;
}
