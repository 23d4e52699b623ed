import type { ExtractionRule } from './extraction-rules.js';
import type { RuleShape } from './value-sites.js';

/**
 * What correlate learned from a recording: one variable per kind of produced
 * value (`login_token` for `$.token` of `POST …/login`), with where it was
 * used, for `--explain`. Variables are named after the producing endpoint
 * and the value's place; the same place on the same endpoint is the same
 * variable in every session (each session fills its own value at replay).
 */

export interface LearnedVariable {
  /** Name without the `corr.` prefix. */
  name: string;
  /** `POST /api/v1/auth/login`. */
  producer: string;
  rule: ExtractionRule;
  /** First characters of an example value (never the whole value). */
  example: string;
  /** Uses by request location: `request.headers.authorization` → 58. */
  uses: Map<string, number>;
  /** Exchanges that produced a value for it. */
  producers: number;
}

// Distinct variables are few (endpoints × places); the cap only guards against a pathological recording.
const MAX_VARIABLES = 10_000;
const MAX_USE_PLACES = 32;

export class CorrelationPlan {
  readonly variables = new Map<string, LearnedVariable>();
  private readonly bySignature = new Map<string, ExtractionRule>();
  /** Uses left as recorded: the producing exchange had already left the lookahead window. */
  missed = 0;
  /** Correlations not learned because the variable cap was reached. */
  overflow = 0;

  /** The rule (and so the variable) for a produced value's place; named on first use. Null past the cap. */
  ruleFor(producer: string, key: string, shape: RuleShape, example: string): ExtractionRule | null {
    const signature = `${producer} ${JSON.stringify(shape)}`;
    const known = this.bySignature.get(signature);
    if (known) return known;
    if (this.variables.size >= MAX_VARIABLES) {
      this.overflow++;
      return null;
    }
    const base = variableName(producer, key, shape);
    let name = base;
    for (let i = 2; this.variables.has(name); i++) name = `${base}_${i}`;
    const rule = { var: name, ...shape } as ExtractionRule;
    this.bySignature.set(signature, rule);
    this.variables.set(name, { name, producer, rule, example: maskExample(example), uses: new Map(), producers: 0 });
    return rule;
  }

  countUse(name: string, where: string): void {
    const uses = this.variables.get(name)?.uses;
    if (!uses) return;
    const n = uses.get(where);
    if (n !== undefined) uses.set(where, n + 1);
    else if (uses.size < MAX_USE_PLACES) uses.set(where, 1);
  }

  explain(lookahead: number): string[] {
    const lines = [...this.variables.values()].map((v) => {
      const uses = [...v.uses].sort((a, b) => b[1] - a[1]).map(([where, n]) => `${where} ×${n}`).join(', ');
      return `corr.${v.name} ← ${v.producer} ${describeRule(v.rule)} (e.g. ${v.example}; from ${v.producers} response${v.producers === 1 ? '' : 's'}) → ${uses}`;
    });
    if (this.missed > 0) lines.push(`${this.missed} uses were left as recorded: their value was produced more than ${lookahead} exchanges earlier (raise lookahead)`);
    if (this.overflow > 0) lines.push(`${this.overflow} correlations were not learned: more than ${MAX_VARIABLES} variables`);
    if (lines.length === 0) lines.push('nothing: no response value was reused by a later request of its session');
    return lines;
  }
}

const TRIVIAL = /^(?:true|false|null|undefined|none|ok|yes|no|\[redacted\])$/i;
const ID_KEY = /(?:^|[._-])(?:id|uuid|guid|key|token|code|ref|session|csrf|xsrf|nonce|cursor)$|[a-z](?:Id|Uuid|Key|Token|Code|Ref)$/;
// Keys whose values come from a small fixed set: ISO and postal codes, states, kinds. The same value recurs
// in unrelated exchanges (every order of a shop says "currencyCode": "EUR"), so a later request repeating
// it is a coincidence, not a data flow. `code` alone and other `…Code` keys (`code` of an OAuth redirect,
// `sessionCode`, `confirmationCode`, `inviteCode`, `promoCode`) stay id-like: those are issued per user or
// session and sent back, which is exactly what correlation is for.
const ENUM_KEY = /(?:^|[._-])(?:status|state|type|kind|locale|lang|language|currency|country|region|timezone|tz|role|object|mode|format|unit|gender)$/i;
const ENUM_CAMEL_KEY = /[a-z](?:Status|State|Type|Kind|Locale|Lang|Language|Currency|Country|Region|Timezone|Role|Mode|Format|Unit)$/;
const ENUM_CODE_KEY = /(?:^|[._-]|[a-z])(?:country|currency|postal|post|zip|language|lang|locale|region|state|province|area|dial|phone|status|error|err|reason|response|http|result|return|exit|color|colour|tax|unit|iso|iata|icao|airport|timezone|tz|mcc)[_-]?code$/i;
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}|$)/;
const WORD = /^[A-Za-z]+$/;
const SPACE = /\s/;

/**
 * Is a produced value specific enough to correlate on? Short values and
 * numbers only as ids (`"id": 42`), and never a single character; never
 * booleans, times, plain words or prose: those recur by coincidence and
 * would wire unrelated requests together.
 */
export function isCandidate(value: string, key: string): boolean {
  const n = value.length;
  // One character is never specific enough, whatever the key: `"lineId": 1` would wire itself to every
  // `page=1` and `"qty": 1` that follows.
  if (n < 2 || n > 4096) return false;
  const kind = keyKind(key);
  // Under an enumeration key only a value no fixed set would hold is specific: an OAuth `state`
  // (`location.state`) is a random token, a `status` of "pending_payment" is not.
  if (kind === 'enum') return looksRandom(value);
  const c = value.charCodeAt(0);
  // TRIVIAL's words start with one of t f n u o y [ (either case): test only those.
  if (n <= 11 && TRIVIAL_FIRST.has(c | 0x20) && TRIVIAL.test(value)) return false;
  if ((c >= 0x30 && c <= 0x39) || c === 0x2d) {
    // Numbers are ids only under an id-like key (counts, amounts, sizes recur by chance); times never are.
    if (NUMBER.test(value)) return value !== '0' && value !== '-1' && kind === 'id';
    if (n >= 10 && ISO_TIME.test(value)) return false;
  }
  if (n >= 6 && n < 16 && WORD.test(value)) return kind === 'id'; // a plain word
  if (SPACE.test(value)) return false; // prose: tokens and ids have no spaces
  return n >= 6 || kind === 'id';
}

const TRIVIAL_FIRST = new Set([...'tfnuoy['].map((ch) => ch.charCodeAt(0) | 0x20));

/** Long enough, letters and digits mixed, no spaces: a generated token rather than a member of a set. */
function looksRandom(value: string): boolean {
  return value.length >= 16 && !SPACE.test(value) && /\d/.test(value) && /[A-Za-z]/.test(value);
}

type KeyKind = 'id' | 'enum' | 'other';

// Keys repeat on every record (`id`, `email`, `orderId`): remember the verdict. Bounded by clearing.
const keyKinds = new Map<string, KeyKind>();

/**
 * What a key says about its value: an identifier (`id`, `orderId`, `user_token`), a member of a fixed
 * set (`status`, `countryCode`, `postal_code`), or neither. Enumerations win over ids: `postalCode`
 * ends in `Code` but is not issued to anyone.
 *
 * @example
 * keyKind('orderId') // 'id'
 * keyKind('currencyCode') // 'enum'
 * keyKind('email') // 'other'
 */
export function keyKind(key: string): KeyKind {
  let v = keyKinds.get(key);
  if (v === undefined) {
    v = ENUM_CODE_KEY.test(key) || ENUM_KEY.test(key) || ENUM_CAMEL_KEY.test(key) ? 'enum' : ID_KEY.test(key) ? 'id' : 'other';
    if (keyKinds.size >= 4096) keyKinds.clear();
    keyKinds.set(key, v);
  }
  return v;
}

function variableName(producer: string, key: string, shape: RuleShape): string {
  const path = producer.split(' ')[1] ?? '';
  const seg = path.split('/').filter((s) => s !== '' && s !== ':id').at(-1) ?? 'root';
  const where = shape.from === 'cookie' ? `cookie_${key}` : key;
  const name = `${seg}_${where}`.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 48);
  return /^[a-z_]/.test(name) ? name : `v_${name}`;
}

function describeRule(rule: ExtractionRule): string {
  switch (rule.from) {
    case 'json': return `response json ${rule.path}`;
    case 'cookie': return `response cookie ${rule.name}`;
    case 'header': return `response header ${rule.name}${rule.regex ? ` ~ /${rule.regex}/` : ''}`;
    case 'body': return `response body ~ /${rule.regex}/`;
  }
}

/** `eyJh…(80 chars)`: enough to recognize a value, not enough to use it. */
export function maskExample(v: string): string {
  return v.length <= 4 ? `${v[0] ?? ''}…(${v.length} chars)` : `${v.slice(0, 4)}…(${v.length} chars)`;
}
