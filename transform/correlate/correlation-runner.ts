import { endpointKey } from '../../store/endpoint-template.js';
import type { Exchange } from '../../store/exchange.js';
import type { ExchangePredicate } from '../../store/exchange-filter.js';
import { ExchangeEditor } from '../exchange-editor.js';
import type { BufferingStepRunner, StepContext } from '../step-types.js';
import { targetPlace, writeTemplate, type CompiledTarget } from '../templates/value-targets.js';
import { valueHash } from './candidate-values.js';
import type { CorrelationPlan } from './correlation-plan.js';
import { extractValue, type ExtractionRule } from './extraction-rules.js';
import { producedSites, visitRequestValues, visitResponseCandidates, type ProducedSite, type ValueSource } from './value-sites.js';

/**
 * Correlation in one pass over the stream, with a bounded lookahead.
 *
 * Per session, values that responses produce are remembered as candidates.
 * When a later request of the session uses one, that is a correlation: the
 * request gets `${corr.name}` in place of the value (as do all later uses),
 * and the producing exchange gets the extraction rule. The producer has
 * already gone by then, so exchanges are held in a FIFO buffer for
 * `lookahead` exchanges (and at most MAX_BUFFER_BYTES) before they leave the
 * step; a first use that comes later than that is left as recorded, counted
 * and reported. Order is kept.
 *
 * Memory is bounded by: the buffer; produced, sent and correlated values per
 * session (oldest forgotten); sessions, and values over all sessions (least
 * recently active sessions forgotten); and the plan's variable cap.
 */

export interface ManualRule {
  var: string;
  rule: ExtractionRule;
  from: ExchangePredicate | null;
  inject: CompiledTarget[];
}

export interface CorrelationOptions {
  learn: boolean;
  sessionOf: (ex: Exchange) => string;
  maxValuesPerSession: number;
  sources: ReadonlySet<ValueSource>;
  lookahead: number;
  manual: readonly ManualRule[];
}

/** A held exchange; `ex` becomes null once it left the step. */
interface Held {
  ex: Exchange | null;
  /** The request's method and path as recorded (before templating): they name the producer. */
  method: string;
  path: string;
  rules: ExtractionRule[] | null;
  /** Where each of its response's values sat, worked out when a request first used one (see `producedSites`). */
  sites: Map<string, ProducedSite> | null;
  bytes: number;
}

/**
 * Values are remembered by their `valueHash`, a small integer: learning from
 * a response slices no value out of it and keeps no string alive, which is
 * what made the garbage collector the step's largest cost. Where a hash is
 * about to change a request, the value itself is checked: a correlated
 * value against `active`'s copy, a produced one against the held response
 * (`producedSites`).
 */
interface Session {
  /**
   * Produced values → the held exchange that produced them first. Where the
   * value sat (the rule) is worked out again from the held response in the
   * rare case a request uses it (`producedSites`).
   */
  candidates: Map<number, Held>;
  /** Values the client sent before any response produced them: it made them up, so they are not correlated. */
  sent: Set<number>;
  /** Correlated values → the value and its variable, rewritten wherever a request uses them. */
  active: Map<number, { value: string; var: string; template: string }>;
  /** Variables of manual rules produced so far in the session. */
  produced: Set<string>;
  touched: number;
}

// Bodies dominate an exchange's size; the buffer also stops at this many bytes so that a run of
// megabyte responses cannot make the lookahead window a memory problem.
const MAX_BUFFER_BYTES = 64 << 20;
const MAX_SESSIONS = 10_000;
// Values remembered over all sessions (produced, sent and correlated: a short string and a map entry
// each, ~80 bytes): per-session caps alone would allow sessions × caps, 15 million at the limits.
const MAX_TOTAL_VALUES = 400_000;

export function startCorrelation(o: CorrelationOptions, plan: CorrelationPlan, ctx: StepContext): BufferingStepRunner {
  const sessions = new Map<string, Session>();
  const held: Held[] = [];
  let head = 0;
  let heldBytes = 0;
  let totalValues = 0;

  /** Forget the least recently active sessions (never `keep`) while over the session or value cap. */
  const trim = (keep: Session): void => {
    for (const [key, old] of sessions) {
      if (sessions.size <= MAX_SESSIONS && totalValues <= MAX_TOTAL_VALUES) return;
      if (old === keep) continue;
      totalValues -= old.candidates.size + old.sent.size + old.active.size;
      sessions.delete(key);
    }
  };

  const sessionFor = (key: string): Session => {
    let s = sessions.get(key);
    if (!s) {
      s = { candidates: new Map(), sent: new Set(), active: new Map(), produced: new Set(), touched: 0 };
      sessions.set(key, s);
      trim(s);
    } else if ((++s.touched & 15) === 0) {
      // Keep recently active sessions at the back (eviction takes the front); every 16th touch is enough.
      sessions.delete(key);
      sessions.set(key, s);
    }
    return s;
  };

  const release = (h: Held): Exchange => {
    let ex = h.ex!;
    if (h.rules) {
      const ed = new ExchangeEditor(ex);
      for (const r of h.rules) ed.addExtraction(r);
      ctx.stats().extractRules += h.rules.length;
      ex = ed.result();
    }
    h.ex = null;
    h.rules = null;
    h.sites = null;
    heldBytes -= h.bytes;
    return ex;
  };

  const releaseDue = (out: Exchange[]): void => {
    while (head < held.length && (held.length - head > o.lookahead || heldBytes > MAX_BUFFER_BYTES)) out.push(release(held[head++]!));
    if (head > 1024 && head * 2 > held.length) {
      held.splice(0, head);
      head = 0;
    }
  };

  const correlated = (n: number): void => {
    ctx.stats().templated.correlation = (ctx.stats().templated.correlation ?? 0) + n;
  };

  return {
    push(ex) {
      const s = sessionFor(o.sessionOf(ex));
      const ed = new ExchangeEditor(ex);
      for (const m of o.manual) {
        if (!s.produced.has(m.var)) continue;
        for (const t of m.inject) {
          if (!writeTemplate(ed, t, `\${corr.${m.var}}`, { keepAuthScheme: true })) continue;
          correlated(1);
          plan.countManualUse(m.var, targetPlace(t.target));
        }
      }
      if (o.learn) {
        const n = visitRequestValues(ed, (value, where) => {
          const hash = valueHash(value);
          const a = s.active.get(hash);
          if (a !== undefined && a.value === value) {
            plan.countUse(a.var, where());
            return a.template;
          }
          const c = s.candidates.get(hash);
          // The held exchange's response is the one the value was learned from (correlate never changes
          // responses): no site there means another value with the same hash was learned, not this one.
          const site = c === undefined || c.ex === null ? undefined : (c.sites ??= producedSites(c.ex, o.sources)).get(value);
          if (c === undefined || (c.ex !== null && site === undefined)) {
            if (value.length <= 4096 && !s.sent.has(hash)) {
              s.sent.add(hash);
              totalValues++;
              if (s.sent.size > o.maxValuesPerSession * 4) {
                s.sent.delete(s.sent.values().next().value!);
                totalValues--;
              }
            }
            return undefined;
          }
          s.candidates.delete(hash);
          totalValues--;
          if (site === undefined) {
            plan.missed++; // the producer has left the window
            return undefined;
          }
          const rule = plan.ruleFor(endpointKey(c.method, c.path), site.key, site.shape, value);
          if (rule === null) return undefined;
          const rules = (c.rules ??= []);
          if (!rules.includes(rule)) {
            rules.push(rule);
            plan.variables.get(rule.var)!.producers++;
          }
          const template = `\${corr.${rule.var}}`;
          s.active.set(hash, { value, var: rule.var, template });
          totalValues++;
          if (s.active.size > o.maxValuesPerSession) {
            s.active.delete(s.active.keys().next().value!);
            totalValues--;
          }
          plan.countUse(rule.var, where());
          return template;
        });
        if (n > 0) correlated(n);
      }
      const res = ex.response;
      const h: Held = { ex: null, method: ex.request.method, path: ex.request.path, rules: null, sites: null, bytes: 512 + (ex.request.body?.data.length ?? 0) + (res?.body?.data.length ?? 0) };
      if (res) {
        if (o.learn) {
          visitResponseCandidates(ex, o.sources, (hash) => {
            if (s.candidates.has(hash) || s.active.has(hash) || s.sent.has(hash)) return;
            s.candidates.set(hash, h);
            totalValues++;
            if (s.candidates.size > o.maxValuesPerSession) {
              s.candidates.delete(s.candidates.keys().next().value!);
              totalValues--;
            }
          });
        }
        for (const m of o.manual) {
          if ((m.from && !m.from(ex)) || extractValue(m.rule, res) === undefined) continue;
          ed.addExtraction(m.rule);
          ctx.stats().extractRules++;
          plan.countManualProducer(m.rule);
          s.produced.add(m.var);
        }
      }
      if (totalValues > MAX_TOTAL_VALUES) trim(s);
      h.ex = ed.result();
      held.push(h);
      heldBytes += h.bytes;
      const out: Exchange[] = [];
      releaseDue(out);
      return out;
    },
    flush() {
      const out: Exchange[] = [];
      while (head < held.length) out.push(release(held[head++]!));
      held.length = 0;
      head = 0;
      if (plan.missed > 0) ctx.warn(`${ctx.label}: ${plan.missed} uses of a response value came more than ${o.lookahead} exchanges after it and were left as recorded (raise lookahead)`);
      return out;
    },
  };
}
