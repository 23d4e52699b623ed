import { spliceAll } from '../http-values.js';
import { keySet, type KeySet } from '../json/json-lazy-path.js';
import { parseJsonPath } from '../json/json-path.js';
import type { DetectorName, RedactStep } from '../step-definitions.js';
import { countInto, type StepContext } from '../step-types.js';
import { DETECTOR_NAMES, DetectorSet } from './detectors.js';
import { createReplacer, type Replacer } from './replacer.js';

/** A redact step's definition compiled for the hot path: sets, parsed paths, the detectors and the replacer. */
export interface Redactor {
  replacer: Replacer;
  headers: Set<string>;
  queryParams: Set<string>;
  cookies: Set<string> | 'all' | null;
  jsonPaths: ReturnType<typeof parseJsonPath>[];
  /**
   * The last keys of the JSON paths (`email` for `$.user.email`): values under other keys skip matching.
   * Null when a path ends in a wildcard or index.
   */
  jsonPathKeys: string[] | null;
  /** The same keys, to recognize in a body's text without slicing them out (null with `jsonPathKeys`). */
  jsonPathKeySet: KeySet | null;
  /** The same keys as they appear in a body: `"email"`. */
  jsonPathKeysQuoted: string[];
  formFields: Set<string>;
  detectors: DetectorSet | null;
  count: (kind: string) => void;
}

export function detectorNames(def: RedactStep): DetectorName[] {
  return def.detectors === 'default' ? [...DETECTOR_NAMES] : def.detectors ?? [];
}

export async function createRedactor(def: RedactStep, ctx: StepContext): Promise<Redactor> {
  const lower = (l?: string[]): Set<string> => new Set((l ?? []).map((s) => s.toLowerCase()));
  const jsonPaths = (def.jsonPaths ?? []).map(parseJsonPath);
  const jsonPathKeys = jsonPaths.every((p) => p.segments.at(-1)?.t === 'key') ? [...new Set(jsonPaths.map((p) => (p.segments.at(-1) as { name: string }).name))] : null;
  return {
    replacer: await createReplacer(def, ctx),
    headers: lower(def.headers),
    queryParams: lower(def.queryParams),
    cookies: def.cookies ? (def.cookies.includes('*') ? 'all' : new Set(def.cookies)) : null,
    jsonPaths,
    jsonPathKeys,
    jsonPathKeySet: jsonPathKeys && keySet(jsonPathKeys),
    jsonPathKeysQuoted: (jsonPathKeys ?? []).map((k) => JSON.stringify(k)),
    formFields: lower(def.formFields),
    detectors: def.detectors ? new DetectorSet(detectorNames(def)) : null,
    count: (kind) => countInto(ctx.stats().redactions, kind),
  };
}

/** Replace the secret spans a detector found in `text`; null when there are none. */
export function replaceFound(text: string, r: Redactor, onKind: (kind: DetectorName) => void): string | null {
  const found = r.detectors!.find(text, r.replacer.isToken);
  if (found.length === 0) return null;
  return spliceAll(text, found.map((f) => {
    onKind(f.kind);
    return { start: f.start, end: f.end, text: r.replacer.replace(text.slice(f.start, f.end)) };
  }));
}

/** A secret worth replacing: not empty, not a template, not earlier redaction output. */
export function isReplaceable(secret: string, r: Redactor): boolean {
  return secret !== '' && secret.indexOf('${') === -1 && !r.replacer.isToken(secret);
}

