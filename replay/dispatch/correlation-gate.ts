import type { Exchange } from '../../store/exchange.js';
import { endpointKey } from '../../store/endpoint-template.js';
import { replayAnnotations } from '../../transform/exchange-editor.js';
import { templateNames } from '../../transform/templates/template-string.js';
import type { PlannedSend } from '../schedule/replay-plan.js';
import type { GateVerdict, SendGate } from '../schedule/open-model-scheduler.js';
import type { RunClock } from '../schedule/run-clock.js';
import { connectionKey, type SendVariables } from './send-variables.js';

/**
 * Holds back a send whose `${corr.x}` value is not known yet while a send
 * that will provide it (an earlier planned exchange of the same scope whose
 * extraction rules produce `corr.x`) is still in flight or queued — so a
 * correlated store replays correctly on the open model without
 * `--connection-fidelity`. Only such sends wait; everything else goes at its
 * intended time. A held send goes out when the value arrives (late, and
 * counted late: its lag is measured from its intended time), or when no
 * provider is left (it then fails with the provider's outcome as the
 * reason), or after `maxWaitMs` (the request timeout).
 *
 * Scopes follow SendVariables: a provider on the send's own recorded
 * connection (copy included) is waited for first, even when another
 * connection of the copy already has a value — that value is another
 * session's; otherwise any provider of the copy.
 *
 * Memory: one small record per pending provider and per held send; held
 * sends are capped (`maxHeld`), the send beyond it is refused ('full').
 */

export interface CorrelationGateOptions {
  clock: RunClock;
  /** Longest a send waits for a value (the request timeout), ms. */
  maxWaitMs: number;
  /** Most sends held at once; beyond it a send that would wait is refused. */
  maxHeld: number;
}

interface Held {
  s: PlannedSend;
  key: string;
  name: string;
  heldAtUs: number;
  release: (s: PlannedSend) => void;
}

interface Provider {
  /** What happened to it, once known (for a dependent's error message). */
  outcome?: string;
  /** It answered with every value it provides: nothing to explain to its dependents. */
  ok?: boolean;
}

/** A settled provider as a dependent's message names it; strings only, so no exchange is kept alive. */
interface SettledProvider {
  method: string;
  path: string;
  id: string;
  copy: number;
  outcome: string;
}

interface ProviderInfo {
  provider: Provider;
  keys: string[];
}

export class CorrelationGate implements SendGate {
  /** Pending providers per scope key + variable name, in plan order. */
  private readonly pending = new Map<string, Provider[]>();
  /** Held sends per scope key + variable name they wait on. */
  private readonly waiters = new Map<string, Set<Held>>();
  /** Every held send, oldest first (they all wait the same bound, so this is deadline order). */
  private readonly byAge = new Set<Held>();
  private readonly providers = new WeakMap<PlannedSend, ProviderInfo>();
  /** Why a released send still has no value; read by the dispatcher for its error message. */
  private readonly reasons = new WeakMap<PlannedSend, string>();
  /** The last known outcome of a provider per scope key + name, so a late dependent still gets a reason. */
  private readonly lastOutcome = new Map<string, SettledProvider>();
  private readonly needsCache = new WeakMap<Exchange, readonly string[]>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly variables: SendVariables,
    private readonly o: CorrelationGateOptions,
  ) {}

  get held(): number {
    return this.byAge.size;
  }

  /** Whether the wait-bound timer is armed (only while something is held). */
  get hasTimer(): boolean {
    return this.timer !== null;
  }

  admit(s: PlannedSend, release: (s: PlannedSend) => void): GateVerdict {
    const ann = replayAnnotations(s.exchange);
    if (!ann.templates && !ann.extract) return 'go';
    // Needs are checked before `s` counts as a provider: a send that refreshes the value it uses does not wait on itself.
    const blocker = this.blockerOf(s);
    if (blocker) {
      if (this.byAge.size >= this.o.maxHeld) return 'full';
      const h: Held = { s, key: blocker.key, name: blocker.name, heldAtUs: this.o.clock.nowUs(), release };
      let set = this.waiters.get(h.key);
      if (!set) this.waiters.set(h.key, (set = new Set()));
      set.add(h);
      this.byAge.add(h);
      this.armTimer();
    }
    else this.explainMissing(s, undefined);
    this.registerProvider(s);
    return blocker ? 'held' : 'go';
  }

  /** The outcome of a provider's send, for the message of a dependent that finds no value. */
  noteOutcome(s: PlannedSend, outcome: string, ok = false): void {
    const info = this.providers.get(s);
    if (!info) return;
    info.provider.outcome = outcome;
    info.provider.ok = ok;
  }

  settle(s: PlannedSend): void {
    const info = this.providers.get(s);
    if (!info) return;
    this.providers.delete(s);
    const r = s.exchange.request;
    // Only a failure is remembered (for the message of a dependent that finds no value); success is the common case.
    const settled: SettledProvider | undefined = info.provider.ok ? undefined : { method: r.method, path: r.path, id: s.exchange.id, copy: s.copy, outcome: info.provider.outcome ?? 'never went out (dropped or stopped)' };
    for (const key of info.keys) {
      const list = this.pending.get(key);
      if (list) {
        const i = list.indexOf(info.provider);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.pending.delete(key);
      }
      if (settled) {
        this.lastOutcome.delete(key); // most recent last: the map stays small and its order is recency
        this.lastOutcome.set(key, settled);
        if (this.lastOutcome.size > 4096) this.lastOutcome.delete(this.lastOutcome.keys().next().value!);
      }
      const set = this.waiters.get(key);
      if (!set) continue;
      this.waiters.delete(key);
      for (const h of set) this.reconsider(h);
    }
  }

  /** Why `s` was released without its value, when it was held. */
  reasonFor(s: PlannedSend): string | undefined {
    return this.reasons.get(s);
  }

  discard(): number {
    const n = this.byAge.size;
    this.byAge.clear();
    this.waiters.clear();
    this.pending.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return n;
  }

  // A held send whose provider settled: wait on the next provider, or go.
  private reconsider(h: Held): void {
    const blocker = this.blockerOf(h.s);
    if (blocker) {
      h.key = blocker.key;
      h.name = blocker.name;
      let set = this.waiters.get(h.key);
      if (!set) this.waiters.set(h.key, (set = new Set()));
      set.add(h);
      return;
    }
    this.unhold(h);
    this.explainMissing(h.s, h);
    h.release(h.s);
  }

  // A send about to go without a value it needs: say which provider let it down, and how.
  private explainMissing(s: PlannedSend, h: Held | undefined): void {
    const missing = this.missingName(s);
    if (missing === undefined) return;
    const outcome = this.lastOutcome.get(connKey(s, missing)) ?? this.lastOutcome.get(copyKey(s, missing));
    if (outcome === undefined && h === undefined) return; // no provider was ever seen: the generic message says so
    const waited = h ? ` after waiting ${waitedMs(h, this.o.clock)} ms` : '';
    this.reasons.set(s, `correlation: \${${missing}} has no value${waited}: its provider ${outcome ? describeProvider(outcome) : 'did not provide it'}`);
  }

  private registerProvider(s: PlannedSend): void {
    const rules = replayAnnotations(s.exchange).extract;
    if (!rules || rules.length === 0) return;
    const provider: Provider = {};
    const keys: string[] = [];
    for (const r of rules) {
      const name = `corr.${r.var}`;
      for (const key of [connKey(s, name), copyKey(s, name)]) {
        if (keys.includes(key)) continue;
        keys.push(key);
        let list = this.pending.get(key);
        if (!list) this.pending.set(key, (list = []));
        list.push(provider);
      }
    }
    this.providers.set(s, { provider, keys });
  }

  /** The scope and variable `s` has to wait for, or undefined when it may go. */
  private blockerOf(s: PlannedSend): { key: string; name: string } | undefined {
    for (const name of this.needs(s.exchange)) {
      if (this.variables.hasForConnection(s.exchange, s.copy, name)) continue;
      const own = connKey(s, name);
      if (this.pending.has(own)) return { key: own, name };
      if (this.variables.hasForCopy(s.copy, name)) continue;
      const copy = copyKey(s, name);
      if (this.pending.has(copy)) return { key: copy, name };
    }
    return undefined;
  }

  private missingName(s: PlannedSend): string | undefined {
    for (const name of this.needs(s.exchange)) {
      if (!this.variables.hasForConnection(s.exchange, s.copy, name) && !this.variables.hasForCopy(s.copy, name)) return name;
    }
    return undefined;
  }

  /** The `corr.*` names the templated fields of an exchange use (cached per exchange object: copies share it). */
  private needs(ex: Exchange): readonly string[] {
    let names = this.needsCache.get(ex);
    if (names) return names;
    const found = new Set<string>();
    for (const field of replayAnnotations(ex).templates ?? []) {
      for (const text of fieldTexts(ex, field)) for (const n of templateNames(text)) if (n.startsWith('corr.')) found.add(n);
    }
    names = [...found];
    this.needsCache.set(ex, names);
    return names;
  }

  // A ref'd timer left running would keep a finished run's process alive until it fires.
  private unhold(h: Held): void {
    this.byAge.delete(h);
    if (this.byAge.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  // One timer for the oldest held send; all wait the same bound, so the rest expire after it.
  private armTimer(): void {
    if (this.timer || this.byAge.size === 0) return;
    const oldest = this.byAge.values().next().value!;
    const dueInMs = Math.max(0, (oldest.heldAtUs + this.o.maxWaitMs * 1000 - this.o.clock.nowUs()) / 1000);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.expire();
    }, Math.ceil(dueInMs));
  }

  private expire(): void {
    const now = this.o.clock.nowUs();
    for (const h of this.byAge) {
      if (now - h.heldAtUs < this.o.maxWaitMs * 1000) break;
      this.unhold(h);
      this.waiters.get(h.key)?.delete(h);
      if (this.waiters.get(h.key)?.size === 0) this.waiters.delete(h.key);
      this.reasons.set(h.s, `correlation: gave up after ${waitedMs(h, this.o.clock)} ms (the request timeout) waiting for \${${h.name}}: its provider has not answered`);
      h.release(h.s);
    }
    this.armTimer();
  }
}

function connKey(s: PlannedSend, name: string): string {
  return `k\u0000${connectionKey(s.exchange, s.copy)}\u0000${name}`;
}

function copyKey(s: PlannedSend, name: string): string {
  return `c\u0000${s.copy}\u0000${name}`;
}

function waitedMs(h: Held, clock: RunClock): number {
  return Math.round((clock.nowUs() - h.heldAtUs) / 1000);
}

function describeProvider(p: SettledProvider): string {
  return `${endpointKey(p.method, p.path)} (exchange ${p.id}, copy ${p.copy}) ${p.outcome}`;
}

/** The text of one templated field (header fields may hold several values). */
function fieldTexts(ex: Exchange, field: string): string[] {
  const r = ex.request;
  if (field === 'request.path') return [r.path];
  if (field === 'request.query') return [r.query];
  if (field === 'request.authority') return [r.authority];
  if (field === 'request.body') return r.body?.encoding === 'utf8' ? [r.body.data] : [];
  if (field.startsWith('request.headers.')) {
    const name = field.slice('request.headers.'.length);
    return r.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  }
  return [];
}
