import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../store/exchange.js';
import { CorrelationGate } from '../../replay/dispatch/correlation-gate.js';
import { SendVariables } from '../../replay/dispatch/send-variables.js';
import type { PlannedSend } from '../../replay/schedule/replay-plan.js';
import { startRunClock } from '../../replay/schedule/run-clock.js';
import type { ExtractionRule } from '../../transform/correlate/extraction-rules.js';
import { fixtureExchange } from './replay-fixture.js';

/**
 * The gate's bookkeeping on its own (the loopback behaviour is in
 * correlation-wait.test.ts): which provider a send waits on, chains,
 * self-refreshing values, the cap, and sends that need nothing.
 */

let n = 0;
function send(o: { conn?: string; copy?: number; path?: string; auth?: string; body?: string; extract?: ExtractionRule[] }): PlannedSend {
  const base = fixtureExchange(0, 0);
  const templates: string[] = [];
  const headers: Exchange['request']['headers'] = [['Accept', 'application/json']];
  if (o.auth !== undefined) {
    headers.push(['Authorization', o.auth]);
    templates.push('request.headers.authorization');
  }
  if (o.path?.includes('${')) templates.push('request.path');
  if (o.body !== undefined) {
    headers.push(['Content-Type', 'application/json']);
    templates.push('request.body');
  }
  const exchange: Exchange = {
    ...base,
    id: `ex-${++n}`,
    source: { kind: 'synthetic', captureId: 'gate', connection: o.conn ?? 'c1' },
    request: { ...base.request, path: o.path ?? '/x', query: '', headers, body: o.body === undefined ? null : { encoding: 'utf8', data: o.body, size: o.body.length } },
    meta: { replay: { ...(templates.length > 0 && { templates }), ...(o.extract && { extract: o.extract }) } },
  };
  return { exchange, copy: o.copy ?? 0, intendedUs: 0 };
}

const token: ExtractionRule[] = [{ var: 'token', from: 'json', path: '$.token' }];
const order: ExtractionRule[] = [{ var: 'order', from: 'json', path: '$.id' }];

function setup(maxHeld = 100): { gate: CorrelationGate; vars: SendVariables; released: PlannedSend[]; release: (s: PlannedSend) => void } {
  const vars = new SendVariables({}, 1, Date.now());
  const gate = new CorrelationGate(vars, { clock: startRunClock(), maxWaitMs: 30_000, maxHeld });
  const released: PlannedSend[] = [];
  return { gate, vars, released, release: (s) => released.push(s) };
}

const respond = (vars: SendVariables, s: PlannedSend, body: object): string[] => vars.learn(s.exchange, s.copy, { status: 200, headers: [['content-type', 'application/json']], body: JSON.stringify(body) });

describe('correlation gate', () => {
  it('a send without templates, or whose value nobody will provide, goes at once', () => {
    const { gate, release } = setup();
    expect(gate.admit(send({}), release)).toBe('go');
    expect(gate.admit(send({ auth: 'Bearer ${corr.token}' }), release)).toBe('go'); // no provider planned: fails later with the generic reason
    expect(gate.held).toBe(0);
  });

  it('waits on the provider of its own connection first, then goes when the value is learned', () => {
    const { gate, vars, released, release } = setup();
    const loginA = send({ conn: 'a', extract: token });
    const loginB = send({ conn: 'b', extract: token });
    const meB = send({ conn: 'b', auth: 'Bearer ${corr.token}' });
    expect(gate.admit(loginA, release)).toBe('go');
    expect(gate.admit(loginB, release)).toBe('go');
    expect(gate.admit(meB, release)).toBe('held');
    // A's token arrives first: it is another session's, so B keeps waiting for its own login.
    respond(vars, loginA, { token: 'ta' });
    gate.settle(loginA);
    expect(released).toEqual([]);
    respond(vars, loginB, { token: 'tb' });
    gate.settle(loginB);
    expect(released).toEqual([meB]);
    expect(gate.held).toBe(0);
    expect(gate.hasTimer).toBe(false); // nothing held: no timer keeps the process alive
    expect(gate.reasonFor(meB)).toBeUndefined();
  });

  it('falls back to a pending provider anywhere in the copy (sessions spanning connections), never across copies', () => {
    const { gate, vars, released, release } = setup();
    const login = send({ conn: 'a', extract: token });
    const other = send({ conn: 'b', copy: 1, auth: 'Bearer ${corr.token}' });
    const use = send({ conn: 'b', auth: 'Bearer ${corr.token}' });
    gate.admit(login, release);
    expect(gate.admit(other, release)).toBe('go');
    expect(gate.admit(use, release)).toBe('held');
    respond(vars, login, { token: 't' });
    gate.settle(login);
    expect(released).toEqual([use]);
  });

  it('chains: an order call waits for the login, an item call for the order call', () => {
    const { gate, vars, released, release } = setup();
    const login = send({ extract: token });
    const create = send({ auth: 'Bearer ${corr.token}', extract: order });
    const item = send({ path: '/orders/${corr.order}/items', body: '{"token":"${corr.token}"}' });
    gate.admit(login, release);
    expect(gate.admit(create, release)).toBe('held');
    expect(gate.admit(item, release)).toBe('held');
    respond(vars, login, { token: 't' });
    gate.settle(login);
    expect(released).toEqual([create]); // item still waits: its order id comes from `create`
    respond(vars, create, { id: 42 });
    gate.settle(create);
    expect(released).toEqual([create, item]);
  });

  it('a send that refreshes the value it uses does not wait on itself', () => {
    const { gate, release } = setup();
    const refresh = send({ auth: 'Bearer ${corr.token}', extract: token });
    expect(gate.admit(refresh, release)).toBe('go');
  });

  it('a provider that answers without the value releases its dependents with the reason', () => {
    const { gate, vars, released, release } = setup();
    const login = send({ extract: token });
    const me = send({ auth: 'Bearer ${corr.token}' });
    gate.admit(login, release);
    gate.admit(me, release);
    const missing = respond(vars, login, { error: 'nope' });
    expect(missing).toEqual(['corr.token']);
    gate.noteOutcome(login, 'answered 500 without ${corr.token}');
    gate.settle(login);
    expect(released).toEqual([me]);
    expect(gate.reasonFor(me)).toMatch(/^correlation: \$\{corr\.token\} has no value after waiting \d+ ms: its provider GET \/x \(exchange ex-\d+, copy 0\) answered 500 without \$\{corr\.token\}$/);
    // A later dependent, admitted after the provider settled, gets the same reason without waiting.
    const late = send({ auth: 'Bearer ${corr.token}' });
    expect(gate.admit(late, release)).toBe('go');
    expect(gate.reasonFor(late)).toMatch(/^correlation: \$\{corr\.token\} has no value: its provider .* answered 500/);
  });

  it('a dropped provider (never sent) releases its dependents too', () => {
    const { gate, released, release } = setup();
    const login = send({ extract: token });
    const me = send({ auth: 'Bearer ${corr.token}' });
    gate.admit(login, release);
    gate.admit(me, release);
    gate.settle(login);
    expect(released).toEqual([me]);
    expect(gate.reasonFor(me)).toMatch(/never went out/);
  });

  it('holds at most maxHeld sends; discard forgets them all', () => {
    const { gate, release } = setup(2);
    gate.admit(send({ extract: token }), release);
    const verdicts = [1, 2, 3].map(() => gate.admit(send({ auth: 'Bearer ${corr.token}' }), release));
    expect(verdicts).toEqual(['held', 'held', 'full']);
    expect(gate.discard()).toBe(2);
    expect(gate.held).toBe(0);
  });
});
