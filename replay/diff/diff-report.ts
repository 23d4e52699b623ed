import type { DiffKind, Risk } from './diff-types.js';
import type { VolatileClass } from './volatile-values.js';

/**
 * The result of a diff run, as data: what the terminal, JSON, JUnit and HTML
 * reports render and what thresholds judge. Serializable (the JSON report is
 * this object), bounded in size (examples and fields are capped).
 */

export const REPORT_VERSION = 1 as const;

export interface DiffExample {
  exchangeId: string;
  /** Concrete location in this pair (`$.items[3].id`). */
  path: string;
  baseline?: string;
  candidate?: string;
}

export interface DiffFinding {
  endpoint: string;
  /** Field template (`$.items[*].id`, `header.x-version`, `status`, `body`). */
  field: string;
  kind: DiffKind;
  risk: Risk;
  /** Pairs of this endpoint where the field differed this way (baseline vs candidate). */
  count: number;
  /** count ÷ pairs of the endpoint. */
  rate: number;
  /** Same field, same kind, baseline vs second baseline; null when no second baseline was run. */
  noiseRate: number | null;
  /** Up to 5 pairs that show it. */
  examples: DiffExample[];
  /** Root-cause cluster shared with other fields that changed in exactly the same pairs. */
  cluster?: number;
}

export interface NoiseSuppressed {
  field: string;
  kind: DiffKind;
  rate: number;
  noiseRate: number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface EndpointDiff {
  /** Endpoint template, `GET /users/:id`. */
  endpoint: string;
  pairs: number;
  /** Milliseconds, per side. */
  latency: { baseline: LatencySummary | null; candidate: LatencySummary | null };
  findings: DiffFinding[];
  /** Fields that differed about as often between the two baselines: noise, not reported. */
  suppressedAsNoise: NoiseSuppressed[];
}

export interface RootCauseCluster {
  id: number;
  endpoint: string;
  /** `field (kind)` of every finding in the cluster. */
  fields: string[];
  pairs: number;
  risk: Risk;
}

/** One field that changed the same way on several endpoints: usually one change in shared code. */
export interface CrossEndpointChange {
  field: string;
  kind: DiffKind;
  risk: Risk;
  endpoints: string[];
  /** Pairs across those endpoints where it differed. */
  pairs: number;
}

export interface SetAsideField {
  endpoint: string;
  field: string;
  class: VolatileClass;
  count: number;
}

export interface DiffReport {
  version: typeof REPORT_VERSION;
  mode: 'offline' | 'live';
  sides: { baseline: string; candidate: string; baseline2?: string };
  generatedAt: string;
  /** Pairs compared. */
  pairs: number;
  noise: { measured: boolean; pairs: number; absoluteThreshold: number; relativeThreshold: number };
  /** Requests not compared, by reason (`method POST not allowed`, `request body truncated in store`, …). */
  skipped: Record<string, number>;
  /** Offline: records of either store that found no partner. */
  unmatched?: { baseline: number; candidate: number };
  /** Without a second baseline: differences set aside because both sides were volatile values. */
  setAside: SetAsideField[];
  endpoints: EndpointDiff[];
  clusters: RootCauseCluster[];
  /** Findings (field + kind) reported on two or more endpoints. */
  acrossEndpoints: CrossEndpointChange[];
  /** Reported findings (fields, not occurrences) by risk. */
  totals: { high: number; medium: number; low: number; findings: number };
  /** Things the reader must know to trust the numbers (hash-only comparisons, caps hit). */
  notes: string[];
}
