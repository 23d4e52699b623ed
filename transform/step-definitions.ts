/**
 * Transform step definitions: plain, serializable data, exactly as written in
 * transforms.yaml (or inline in a scenario). Nothing here runs; the code for
 * each `type` lives in its step file and is found through step-registry.ts.
 * docs/transforms.md documents every field.
 */

export type DetectorName = 'email' | 'card' | 'jwt' | 'aws-key' | 'bearer' | 'phone';

/** Where a value lives in a request (for `set` and correlation `inject`): exactly one target key. */
export interface ValueTarget {
  header?: string;
  query?: string;
  cookie?: string;
  jsonPath?: string;
  formField?: string;
}

export interface RedactStep {
  type: 'redact';
  name?: string;
  /** Header names (any case), on requests and responses. */
  headers?: string[];
  /** Query parameter names. */
  queryParams?: string[];
  /** Cookie names in Cookie and Set-Cookie; `*` for all. */
  cookies?: string[];
  /** JSON paths into request and response bodies: `$.user.email`, `$.items[*].card`, `$..password`. */
  jsonPaths?: string[];
  /** Fields of application/x-www-form-urlencoded bodies. */
  formFields?: string[];
  /** `default` (all of them) or a list. */
  detectors?: 'default' | DetectorName[];
  /** `mask` (default) writes `mask`; `hash` writes a keyed token (`tok_…`), the same for the same input. */
  mode?: 'mask' | 'hash';
  /** Replacement in mask mode (default `[REDACTED]`). */
  mask?: string;
  /** Where the HMAC key for hash mode comes from (default: env REPRISE_REDACT_KEY). */
  key?: { env?: string; file?: string };
}

export interface ParameterizeStep {
  type: 'parameterize';
  name?: string;
  /** Replace request values with templates: `{ header: authorization, value: 'Bearer ${API_TOKEN}' }`. */
  set?: Array<ValueTarget & { value: string; add?: boolean }>;
  /** Send somewhere else: rewrites scheme and authority, and the Host header. */
  target?: { scheme?: 'http' | 'https'; host?: string; port?: number | string };
  /** Path rewrites, applied in order: `{ match: '^/api/v1/', replace: '/api/v2/' }`. */
  paths?: Array<{ match: string; replace: string }>;
  /** Shift timestamps by (replay start − recording start) at replay time. */
  rebaseTime?: {
    /** Request header names holding a time (HTTP date, ISO or epoch). */
    headers?: string[];
    /** ISO-8601 and epoch s/ms values in JSON and form request bodies (default true). */
    bodies?: boolean;
    /** Query parameters holding a time. */
    queryParams?: string[];
    /** Only numbers within this distance of the exchange's start count as epoch times (default 365d). */
    window?: string | number;
  };
}

/** Where a live response value is taken from; exactly one of jsonPath, header, cookie, regex (regex may refine header). */
export interface ExtractSpec {
  jsonPath?: string;
  header?: string;
  cookie?: string;
  /** On the body, or on the header's value when `header` is given; the first capture group (or the match). */
  regex?: string;
}

export interface CorrelateStep {
  type: 'correlate';
  name?: string;
  /** Learn correlations from the recording (default true); manual `rules` apply either way. */
  learn?: boolean;
  /** What one session is: `connection` (default), `capture`, or the value of a header or cookie. */
  session?: 'connection' | 'capture' | { header?: string; cookie?: string };
  /** Candidate values remembered per session (default 256; oldest forgotten first). */
  maxValuesPerSession?: number;
  /**
   * Exchanges held back (default 10000) so a response can still get its extraction rule when a
   * later request first uses its value; a first use later than this is left as recorded.
   */
  lookahead?: number;
  /** Where learned values may come from (default all): json, cookie, location, header. */
  sources?: Array<'json' | 'cookie' | 'location' | 'header'>;
  rules?: Array<{
    var: string;
    extract: ExtractSpec;
    /** Which responses the value comes from (default: any response the extraction finds a value in). */
    from?: { methods?: string[]; paths?: string[]; pathRegex?: string };
    inject: Array<ValueTarget & { add?: boolean }>;
  }>;
}

/** All given fields must match; list entries are alternatives. */
export interface FilterCriteria {
  methods?: string[];
  hosts?: string[];
  paths?: string[];
  pathRegex?: string;
  statuses?: string[];
  /** Request headers: present (`{ name }`) or with a value matching a regex. */
  headers?: Array<{ name: string; value?: string }>;
  responseHeaders?: Array<{ name: string; value?: string }>;
}

export interface FilterStep {
  type: 'filter';
  name?: string;
  include?: FilterCriteria | FilterCriteria[];
  exclude?: FilterCriteria | FilterCriteria[];
  presets?: Array<'drop-health-checks' | 'drop-static-assets'>;
}

export interface SampleStep {
  type: 'sample';
  name?: string;
  /** Percentage kept, 0–100. */
  percent?: number;
  /** Seed of the keep/drop hash (default 0): the same seed keeps the same exchanges. */
  seed?: number;
  /** Keep or drop all exchanges with the same key value together. */
  by?: { header?: string; cookie?: string; query?: string };
  /** Keep at most this many exchanges per endpoint template (`GET /users/:id`). */
  perEndpoint?: number;
}

export interface DedupeStep {
  type: 'dedupe';
  name?: string;
  /** Identical requests closer than this are dropped (default 1s); `500ms`, `10s`, `2m` or ms. */
  window?: string | number;
  /** Header names that are part of a request's identity (default none). */
  headers?: string[];
  /** Requests remembered at once (default 100000); the oldest are forgotten first. */
  maxEntries?: number;
}

export interface PluginStep {
  type: 'plugin';
  name?: string;
  /** A .js/.mjs/.ts module, relative to the transforms file. */
  path: string;
  /** Passed to the plugin as is. */
  options?: Record<string, unknown>;
}

export type StepDefinition = RedactStep | ParameterizeStep | CorrelateStep | FilterStep | SampleStep | DedupeStep | PluginStep;
export type StepType = StepDefinition['type'];
