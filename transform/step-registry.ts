import { correlateStepKind } from './correlate/correlate-step.js';
import { dedupeStepKind } from './dedupe-step.js';
import { filterStepKind } from './filter-step.js';
import { pluginStepKind } from './plugin-step.js';
import { redactStepKind } from './redact/redact-step.js';
import { sampleStepKind } from './sample-step.js';
import type { StepDefinition, StepType } from './step-definitions.js';
import type { StepKind } from './step-types.js';
import { parameterizeStepKind } from './templates/parameterize-step.js';

/**
 * The step types a pipeline may use, looked up by `type`. Definitions stay
 * plain data; everything that runs lives in the kinds registered here.
 */

// Each kind is typed by its own definition; the registry erases that to the union.
const KINDS: ReadonlyMap<string, StepKind> = new Map(
  ([redactStepKind, parameterizeStepKind, correlateStepKind, filterStepKind, sampleStepKind, dedupeStepKind, pluginStepKind] as unknown as StepKind[]).map((k) => [k.type, k]),
);

export const STEP_TYPES: readonly StepType[] = [...KINDS.keys()] as StepType[];

export function stepKind(type: string): StepKind | undefined {
  return KINDS.get(type);
}

/**
 * What a step does, in words.
 *
 * @example
 * explainStep({ type: 'redact', headers: ['authorization', 'cookie'] }) // 'redact headers authorization, cookie'
 */
export function explainStep(def: StepDefinition): string {
  const kind = KINDS.get(def.type);
  return kind ? kind.explain(def) : `unknown step type ${def.type}`;
}

/** `step 3 (redact headers authorization, cookie)`, or with its name: `step 3 "strip pii" (redact …)`. */
export function stepLabel(def: StepDefinition, index: number): string {
  const name = def.name ? ` "${short(def.name, 40)}"` : '';
  return `step ${index + 1}${name} (${short(explainStep(def), 80)})`;
}

function short(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
