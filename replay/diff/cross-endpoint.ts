import type { CrossEndpointChange, EndpointDiff } from './diff-report.js';
import { RISK_ORDER } from './diff-types.js';

/**
 * Findings (field + kind) reported on two or more endpoints, listed once:
 * a header added everywhere, an envelope field renamed in shared code.
 */
export function crossEndpointChanges(endpoints: readonly EndpointDiff[]): CrossEndpointChange[] {
  const byField = new Map<string, CrossEndpointChange>();
  for (const ep of endpoints) {
    for (const f of ep.findings) {
      const key = `${f.field}\u0001${f.kind}`;
      const c = byField.get(key);
      if (c) {
        c.endpoints.push(ep.endpoint);
        c.pairs += f.count;
      } else byField.set(key, { field: f.field, kind: f.kind, risk: f.risk, endpoints: [ep.endpoint], pairs: f.count });
    }
  }
  return [...byField.values()]
    .filter((c) => c.endpoints.length >= 2)
    .sort((a, b) => RISK_ORDER.indexOf(a.risk) - RISK_ORDER.indexOf(b.risk) || b.endpoints.length - a.endpoints.length || a.field.localeCompare(b.field));
}
