import { readFile, stat } from 'node:fs/promises';
import { parseYamlDocument } from '../../transform/config/yaml-document.js';
import { yamlErrorText } from '../../transform/config/yaml-error-text.js';
import { RepriseError } from '../../errors.js';
import { didYouMean } from '../../transform/config/did-you-mean.js';
import { yamlLocator } from '../../transform/config/yaml-document.js';
import { MAX_PLAN_MS } from './plan-bounds.js';

/**
 * An absolute request-rate shape. Every profile type compiles to a list of
 * linear pieces (rate going from `fromRps` to `toRps` over `durationS`), so
 * one piece of maths — integrating a linear rate — gives every send time.
 *
 * YAML forms (rates in requests per second, durations in seconds):
 *   type: constant, rate: 100, duration: 60
 *   type: ramp, from: 10, to: 200, duration: 60
 *   type: spike, base: 50, peak: 500, duration: 60, at: 20, spikeDuration: 5
 *   type: steps, steps: [{ rate: 10, duration: 10 }, { rate: 50, duration: 10 }]
 */
export type RateProfile =
  | { type: 'constant'; rate: number; duration: number }
  | { type: 'ramp'; from: number; to: number; duration: number }
  | { type: 'spike'; base: number; peak: number; duration: number; at: number; spikeDuration: number }
  | { type: 'steps'; steps: { rate: number; duration: number }[] };

export interface RatePiece {
  startS: number;
  durationS: number;
  fromRps: number;
  toRps: number;
}

export function profilePieces(p: RateProfile): RatePiece[] {
  const raw: Omit<RatePiece, 'startS'>[] = [];
  switch (p.type) {
    case 'constant':
      raw.push({ durationS: p.duration, fromRps: p.rate, toRps: p.rate });
      break;
    case 'ramp':
      raw.push({ durationS: p.duration, fromRps: p.from, toRps: p.to });
      break;
    case 'spike': {
      const after = Math.max(0, p.duration - p.at - p.spikeDuration);
      raw.push({ durationS: p.at, fromRps: p.base, toRps: p.base });
      raw.push({ durationS: p.spikeDuration, fromRps: p.peak, toRps: p.peak });
      raw.push({ durationS: after, fromRps: p.base, toRps: p.base });
      break;
    }
    case 'steps':
      for (const s of p.steps) raw.push({ durationS: s.duration, fromRps: s.rate, toRps: s.rate });
      break;
  }
  let t = 0;
  const out: RatePiece[] = [];
  for (const r of raw) {
    if (r.durationS > 0) out.push({ startS: t, ...r });
    t += r.durationS;
  }
  return out;
}

export function profileDurationS(p: RateProfile): number {
  return profilePieces(p).reduce((s, x) => s + x.durationS, 0);
}

/** Instantaneous rate (rps) at `tS` seconds; 0 outside the profile. */
export function rateAt(p: RateProfile, tS: number): number {
  for (const x of profilePieces(p)) {
    if (tS >= x.startS && tS < x.startS + x.durationS) return x.fromRps + ((x.toRps - x.fromRps) * (tS - x.startS)) / x.durationS;
  }
  return 0;
}

/**
 * Send times of a profile, in µs, lazily: the k-th send goes where the
 * integral of the rate reaches k (k = 0, 1, …). Within a linear piece
 * r(t) = a + b·t the count is N(t) = a·t + b·t²/2, solved for t in closed
 * form, so there is no step-size error and no drift over long runs.
 */
export function* profileSendTimesUs(p: RateProfile): Generator<number> {
  let k = 0;
  let before = 0; // sends owed by all earlier pieces (fractional)
  for (const x of profilePieces(p)) {
    const a = x.fromRps;
    const b = (x.toRps - x.fromRps) / x.durationS;
    const total = pieceSends(x, x.durationS);
    while (k < before + total) {
      const n = k - before;
      const t = b === 0 ? n / a : (-a + Math.sqrt(Math.max(0, a * a + 2 * b * n))) / b;
      yield Math.round((x.startS + Math.min(t, x.durationS)) * 1e6);
      k++;
    }
    before += total;
  }
}

/** Sends a piece owes in its first `tS` seconds: the integral a·t + b·t²/2 of its rate. */
export function pieceSends(x: RatePiece, tS: number): number {
  const b = (x.toRps - x.fromRps) / x.durationS;
  return x.fromRps * tS + (b * tS * tS) / 2;
}

// Bounds that keep a typo from planning an effectively endless run.
const MAX_RATE = 10_000_000;
const MAX_DURATION_S = MAX_PLAN_MS / 1000; // the bound every plan has (plan-bounds.ts)
const MAX_STEPS = 10_000;
const MAX_FILE_BYTES = 1 << 20;

const FIELDS: Record<RateProfile['type'], readonly string[]> = {
  constant: ['type', 'rate', 'duration'],
  ramp: ['type', 'from', 'to', 'duration'],
  spike: ['type', 'base', 'peak', 'duration', 'at', 'spikeDuration'],
  steps: ['type', 'steps'],
};

type ProfilePath = (string | number)[];
/** `file:line:col` of a path in the source document, when known. */
export type ProfileLocator = (path: ProfilePath, atKey: boolean) => string | undefined;

/**
 * Check a parsed profile and report every problem at once, each with where
 * it is (`spike.yaml:4:7 peak: must be a number >= 0`).
 */
export function validateProfile(raw: unknown, where = 'profile', locate?: ProfileLocator): RateProfile {
  const problems: { path: ProfilePath; message: string; atKey?: boolean }[] = [];
  const add = (path: ProfilePath, message: string, atKey = false): void => void problems.push({ path, message, atKey });
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const o = isObject(raw) ? raw : {};
  if (!isObject(raw)) add([], `must be a mapping with a type (constant, ramp, spike, steps), not ${raw === null ? 'empty' : Array.isArray(raw) ? 'a list' : typeof raw}`);
  const num = (obj: Record<string, unknown>, key: string, path: ProfilePath, max: number): number => {
    const v = obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max) add([...path, key], `must be a number from 0 to ${max}${v === undefined ? ' (missing)' : ` (got ${clip(v)})`}`);
    return typeof v === 'number' && Number.isFinite(v) ? v : 0;
  };
  const unknownKeys = (obj: Record<string, unknown>, allowed: readonly string[], path: ProfilePath): void => {
    for (const k of Object.keys(obj)) {
      if (allowed.includes(k)) continue;
      const hint = didYouMean(k, allowed);
      add([...path, k], `unknown key${hint ? ` (did you mean "${hint}"?)` : `; allowed: ${allowed.join(', ')}`}`, true);
    }
  };
  let p: RateProfile | undefined;
  switch (o.type) {
    case 'constant':
      p = { type: 'constant', rate: num(o, 'rate', [], MAX_RATE), duration: num(o, 'duration', [], MAX_DURATION_S) };
      break;
    case 'ramp':
      p = { type: 'ramp', from: num(o, 'from', [], MAX_RATE), to: num(o, 'to', [], MAX_RATE), duration: num(o, 'duration', [], MAX_DURATION_S) };
      break;
    case 'spike':
      p = { type: 'spike', base: num(o, 'base', [], MAX_RATE), peak: num(o, 'peak', [], MAX_RATE), duration: num(o, 'duration', [], MAX_DURATION_S), at: num(o, 'at', [], MAX_DURATION_S), spikeDuration: num(o, 'spikeDuration', [], MAX_DURATION_S) };
      if (p.at + p.spikeDuration > p.duration) add(['spikeDuration'], `the spike (at ${p.at} s for ${p.spikeDuration} s) must end within the duration (${p.duration} s)`);
      break;
    case 'steps': {
      const steps = Array.isArray(o.steps) ? o.steps : [];
      if (steps.length === 0 || steps.length > MAX_STEPS) add(['steps'], `must be a list of 1 to ${MAX_STEPS} { rate, duration } entries`);
      const list = steps.slice(0, MAX_STEPS).map((s: unknown, i) => {
        if (!isObject(s)) {
          add(['steps', i], 'must be a mapping { rate, duration }');
          return { rate: 0, duration: 0 };
        }
        unknownKeys(s, ['rate', 'duration'], ['steps', i]);
        return { rate: num(s, 'rate', ['steps', i], MAX_RATE), duration: num(s, 'duration', ['steps', i], MAX_DURATION_S) };
      });
      p = { type: 'steps', steps: list };
      break;
    }
    default:
      if (isObject(raw)) add(['type'], `must be one of constant, ramp, spike, steps (got ${o.type === undefined ? 'nothing' : clip(o.type)})`, o.type === undefined);
  }
  if (p) unknownKeys(o, FIELDS[p.type], []);
  if (p && problems.length === 0 && profileDurationS(p) <= 0) add([], 'the profile must last longer than 0 s');
  if (p && problems.length === 0 && profileDurationS(p) > MAX_DURATION_S) add([], `the profile lasts ${profileDurationS(p)} s; at most ${MAX_DURATION_S} s (30 days)`);
  if (problems.length > 0 || !p) {
    const located = problems.map((x) => ({ at: locate?.(x.path, x.atKey === true) ?? where, text: `${x.path.length > 0 ? `${formatPath(x.path)}: ` : ''}${x.message}` }));
    const first = located[0]!;
    const rest = located.slice(1).map((x) => `; ${x.at.startsWith(where) ? x.at.slice(where.length + 1) || where : x.at} ${x.text}`);
    throw new RepriseError('REPLAY_PROFILE_INVALID', `${first.text}${rest.join('')}`, { location: parseLocation(first.at) });
  }
  if (p.type === 'steps') Object.freeze(p.steps);
  return Object.freeze(p);
}

/**
 * Read and validate a profile file (YAML or JSON). Hostile input is bounded:
 * 1 MiB at most, no aliases (alias bombs), duplicate keys refused.
 *
 * @example
 * const profile = await loadProfile('spike.yaml');
 */
export async function loadProfile(file: string): Promise<RateProfile> {
  let text: string;
  try {
    const size = (await stat(file)).size;
    if (size > MAX_FILE_BYTES) throw new RepriseError('REPLAY_PROFILE_INVALID', `profile is ${size} bytes; at most ${MAX_FILE_BYTES} are read`, { location: { file } });
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof RepriseError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new RepriseError(code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE', `profile cannot be read (${code ?? (err as Error).message})`, { cause: err, location: { file } });
  }
  return parseProfileYaml(text, file);
}

/** Parse profile YAML text; `name` is used in messages. */
export function parseProfileYaml(text: string, name = '<profile>'): RateProfile {
  const { doc, lineCounter: lc } = parseYamlDocument(text);
  const syntax = [...doc.errors, ...doc.warnings];
  if (syntax.length > 0) {
    const { line, col } = lc.linePos(syntax[0]!.pos[0]);
    throw new RepriseError('REPLAY_PROFILE_INVALID', `not valid YAML: ${yamlErrorText(syntax[0]!, text)}`, { location: { file: name, line, column: col } });
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 0 });
  } catch (err) {
    const why = err instanceof RangeError ? 'is nested too deeply' : 'uses aliases (refused: a profile has no need for them, and alias expansion is a resource-exhaustion attack)';
    throw new RepriseError('REPLAY_PROFILE_INVALID', `the document ${why}`, { cause: err, location: { file: name } });
  }
  return validateProfile(value, name, yamlLocator(doc, lc, name));
}

function formatPath(path: ProfilePath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function clip(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function parseLocation(at: string): { file: string; line?: number; column?: number } {
  const m = /^(.*):(\d+):(\d+)$/.exec(at);
  return m ? { file: m[1]!, line: Number(m[2]), column: Number(m[3]) } : { file: at };
}
