import { parseListenAddress } from '../capture/listen-address.js';
import { checkIgnoreRule } from '../replay/diff/ignore-rules.js';
import { MAX_AMPLIFY, MAX_PLAN_MS, MAX_SPEED, MIN_SPEED } from '../replay/schedule/plan-bounds.js';
import { durationSpec, parseDuration, stringList, type FieldSpec, type ValueCheck } from '../transform/config/field-spec.js';

/**
 * The scenario schema as data (transform/config/field-spec.ts), so every
 * problem in a file is reported at once with its `file:line:col`. Checks
 * that need another module's grammar (threshold expressions, rate profiles,
 * transform steps) are run by load-scenario.ts after this shape check.
 */

const urlCheck: ValueCheck<string> = (s) => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:' ? null : `must be an http:// or https:// URL, got "${s}"`;
  } catch {
    return `is not a URL (write it as http://host:port)`;
  }
};

const hostPortCheck: ValueCheck<string> = (s) => (/^[A-Za-z0-9.[\]:_-]+(:\d{1,5})?$/.test(s) ? null : `must be host or host:port, got "${s}"`);

const listenCheck: ValueCheck<string> = (s) => (parseListenAddress(s) ? null : `must be host:port (or a port), got "${s}"`);

const url: FieldSpec = { kind: 'string', nonEmpty: true, check: urlCheck };
const path: FieldSpec = { kind: 'string', nonEmpty: true };
const positive: FieldSpec = { kind: 'number', min: Number.MIN_VALUE };
const count: FieldSpec = { kind: 'number', integer: true, min: 1 };
const bytes: FieldSpec = { kind: 'number', integer: true, min: 1 };

const rateProfile: FieldSpec = {
  kind: 'object',
  required: ['type'],
  fields: {
    type: { kind: 'string', enum: ['constant', 'ramp', 'spike', 'steps'] },
    rate: { kind: 'number', min: 0 },
    from: { kind: 'number', min: 0 },
    to: { kind: 'number', min: 0 },
    base: { kind: 'number', min: 0 },
    peak: { kind: 'number', min: 0 },
    duration: { kind: 'number', min: 0 },
    at: { kind: 'number', min: 0 },
    spikeDuration: { kind: 'number', min: 0 },
    steps: { kind: 'list', nonEmpty: true, of: { kind: 'object', required: ['rate', 'duration'], fields: { rate: { kind: 'number', min: 0 }, duration: { kind: 'number', min: 0 } } } },
  },
};

// The same limits as the replay flags (replay/schedule/plan-bounds.ts), so a scenario fails at load with file:line:col.
const planDuration: FieldSpec = {
  kind: 'union',
  expected: 'a duration like 500ms, 10s, 2m, or a number of milliseconds',
  variants: [
    { kind: 'number', min: 0, max: MAX_PLAN_MS },
    { kind: 'string', check: (s) => { const ms = parseDuration(s); return ms === null ? 'is not a duration (use 500ms, 10s, 2m, 1h, 7d)' : ms > MAX_PLAN_MS ? 'must be at most 30d' : null; } },
  ],
};

const scheduleFields: Record<string, FieldSpec> = {
  speed: { kind: 'number', min: MIN_SPEED, max: MAX_SPEED },
  amplify: { kind: 'number', integer: true, min: 1, max: MAX_AMPLIFY },
  profile: { kind: 'union', expected: 'a profile mapping or a profile file', variants: [{ kind: 'string', nonEmpty: true, file: true }, rateProfile] },
  loop: { kind: 'boolean' },
  maxGap: durationSpec,
  duration: planDuration,
  // Sending processes (replay --workers): a timed plan split by send, a max phase's connections split.
  workers: { kind: 'number', integer: true, min: 1, max: 64 },
};

const maxPhase: FieldSpec = {
  kind: 'object',
  required: ['duration'],
  fields: { connections: count, pipelining: count, duration: durationSpec },
};

const phase: FieldSpec = {
  kind: 'object',
  fields: { name: { kind: 'string', nonEmpty: true }, ...scheduleFields, max: maxPhase },
};

export const SCENARIO_SCHEMA: Extract<FieldSpec, { kind: 'object' }> = {
  kind: 'object',
  required: ['version', 'name'],
  fields: {
    version: { kind: 'number', integer: true, min: 1, max: 1 },
    name: { kind: 'string', nonEmpty: true, check: (s) => (/^[\w.-]+$/.test(s) ? null : 'must be letters, digits, dots, dashes or underscores (it names report files)') },
    description: { kind: 'string' },
    capture: {
      kind: 'object',
      required: ['listen', 'out'],
      fields: {
        listen: { kind: 'string', check: listenCheck },
        upstream: url,
        forward: { kind: 'boolean' },
        out: path,
        duration: durationSpec,
        redact: {
          kind: 'object',
          fields: { headers: stringList(), defaults: { kind: 'boolean' } },
        },
        sample: { kind: 'number', min: Number.MIN_VALUE, max: 1 },
        maxPerEndpointPerSecond: positive,
        segmentBytes: bytes,
        bodyCapBytes: bytes,
        // The bundled demo client (log in, browse users and orders) sent through the proxy while it records.
        workload: { kind: 'object', required: ['requests'], fields: { requests: count, rate: positive } },
      },
    },
    source: {
      kind: 'object',
      exactlyOne: ['store', 'har', 'pcap', 'apigw'],
      fields: { store: path, har: { ...path, file: true }, pcap: { ...path, file: true }, apigw: path },
    },
    transform: { kind: 'any' },
    allow: stringList(hostPortCheck),
    replay: {
      kind: 'object',
      required: ['target'],
      fields: {
        target: url,
        concurrency: count,
        timeout: durationSpec,
        headers: { kind: 'any' },
        allowRecordedHost: { kind: 'boolean' },
        excludeMethods: stringList((s) => (/^[A-Za-z]+$/.test(s) ? null : `is not an HTTP method: "${s}"`)),
        recordOut: path,
        recordOutAppend: { kind: 'boolean' },
        ...scheduleFields,
        phases: { kind: 'list', nonEmpty: true, max: 100, of: phase },
      },
    },
    diff: {
      kind: 'object',
      fields: {
        baseline: url,
        candidate: url,
        baseline2: url,
        left: path,
        right: path,
        allowMethods: stringList((s) => (/^[A-Za-z]+$/.test(s) ? null : `is not an HTTP method: "${s}"`)),
        concurrency: count,
        timeout: durationSpec,
        limit: count,
        headers: { kind: 'any' },
        ignore: stringList(checkIgnoreRule),
        arrays: { kind: 'any' },
        absoluteTolerance: { kind: 'number', min: 0 },
        relativeTolerance: { kind: 'number', min: 0 },
        strictNumberText: { kind: 'boolean' },
        nullEqualsMissing: { kind: 'boolean' },
        headerAllow: stringList(),
        headerDeny: stringList(),
        volatileHeaders: stringList(),
        bodyCap: bytes,
        noise: { kind: 'object', fields: { absolute: { kind: 'number', min: 0, max: 1 }, relative: { kind: 'number', min: 0, max: 1 } } },
        thresholds: stringList(),
      },
      // The names a `reprise diff --rules` file uses for the same settings: point to the scenario's.
      aliases: { strictNumbers: 'strictNumberText', nullIsMissing: 'nullEqualsMissing', tolerance: 'absoluteTolerance' },
    },
    thresholds: stringList(),
    reports: {
      kind: 'object',
      fields: {
        dir: path,
      },
    },
  },
};
