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

  /** Manual rules by variable: responses they extracted a value from, and where requests got it. */
  readonly manual = new Map<string, { rule: ExtractionRule; producers: number; uses: Map<string, number> }>();

  countManualProducer(rule: ExtractionRule): void {
    const m = this.manual.get(rule.var);
    if (m) m.producers++;
    else this.manual.set(rule.var, { rule, producers: 1, uses: new Map() });
  }

  countManualUse(name: string, where: string): void {
    const uses = this.manual.get(name)?.uses;
    if (uses && (uses.has(where) || uses.size < MAX_USE_PLACES)) uses.set(where, (uses.get(where) ?? 0) + 1);
  }

  /** One line per manual rule; a rule that never found its value says so, since nothing it injects then happens. */
  explainManual(rules: readonly ExtractionRule[]): string[] {
    return rules.map((rule) => {
      const head = `corr.${rule.var} ← rule: ${describeRule(rule)}`;
      const m = this.manual.get(rule.var);
      if (!m) return `${head}: no response had it, so nothing was injected (check extract and from)`;
      const uses = [...m.uses].sort((a, b) => b[1] - a[1]).map(([where, n]) => `${where} ×${n}`).join(', ');
      return `${head} (from ${m.producers} response${m.producers === 1 ? '' : 's'}) → ${uses || 'no later request of the session had an inject target'}`;
    });
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

/**
 * `eyJh…(80 chars)`: enough to recognize a value, not enough to use it. At most a quarter of it is
 * shown (up to 4 characters): four characters of a 6-character CSRF token or PIN leave two to guess.
 */
export function maskExample(v: string): string {
  return `${v.slice(0, Math.min(4, Math.floor(v.length / 4)))}…(${v.length} chars)`;
}
