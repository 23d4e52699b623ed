import type { Exchange } from '../../store/exchange.js';
import { replayAnnotations } from '../../transform/exchange-editor.js';
import { extractVariables, type LiveResponse } from '../../transform/correlate/extraction-rules.js';
import { applyVariables, resolveTemplates } from '../../transform/templates/resolve-templates.js';

/**
 * Send-time values for `${…}` templates left by parameterize and correlate
 * (the template language and its runtime live in transform/templates and
 * transform/correlate; this only decides which values a send sees).
 *
 * Scopes, narrowest first:
 * - correlation values per (copy, recorded connection): correlate's default
 *   session is the connection, so two recorded users' tokens do not mix;
 * - correlation values per copy: a session spread over connections (cookie
 *   or header sessions) still finds its value;
 * - fixed variables (environment, secrets file), plus `REPRISE_COPY` (the
 *   copy number) and `REPRISE_LAP`, so amplified copies can vary a
 *   parameter: `?user=${REPRISE_COPY}`.
 * Each amplified copy (and each loop lap) is its own set of sessions.
 */

// Bounds on remembered sessions: the oldest scope is forgotten beyond these.
const MAX_COPY_SCOPES = 4096;
const MAX_CONNECTION_SCOPES = 65_536;

export class SendVariables {
  private readonly byCopy = new Map<number, Record<string, string>>();
  private readonly byConnection = new Map<string, Record<string, string>>();

  constructor(
    private readonly fixed: Readonly<Record<string, string>>,
    private readonly amplify: number,
    private readonly startedAtMs: number,
  ) {}

  /** The exchange with its templates filled for this copy; throws MissingVariableError (TRANSFORM_VARIABLE) when a value is missing. */
  resolve(ex: Exchange, copy: number): Exchange {
    if (!replayAnnotations(ex).templates) return ex;
    // The connection's values win over the copy's. Object.assign and a per-copy cache rather than
    // spreads: this runs per templated send, and a spread followed by more properties is slow here.
    const corr: Record<string, string> = Object.assign({}, this.byCopy.get(copy), this.byConnection.get(connectionKey(ex, copy)));
    const withCorr = applyVariables(ex, corr);
    return resolveTemplates(withCorr, this.varsFor(copy), this.startedAtMs);
  }

  private readonly copyVars = new Map<number, Record<string, string>>();

  /** The fixed variables plus `REPRISE_COPY`/`REPRISE_LAP` of one copy, built once per copy. */
  private varsFor(copy: number): Record<string, string> {
    let vars = this.copyVars.get(copy);
    if (!vars) {
      vars = Object.assign({}, this.fixed, { REPRISE_COPY: String(copy), REPRISE_LAP: String(Math.floor(copy / this.amplify)) });
      if (this.copyVars.size >= 1024) this.copyVars.clear(); // copies run through laps: keep the map small
      this.copyVars.set(copy, vars);
    }
    return vars;
  }

  /** Whether the correlation value `name` (`corr.x`) is known to this send's recorded connection. */
  hasForConnection(ex: Exchange, copy: number, name: string): boolean {
    return this.byConnection.get(connectionKey(ex, copy))?.[name] !== undefined;
  }

  /** Whether the correlation value `name` is known anywhere in this copy (the fallback scope). */
  hasForCopy(copy: number, name: string): boolean {
    return this.byCopy.get(copy)?.[name] !== undefined;
  }

  /** Whether the live response of this exchange is needed to fill variables. */
  needsResponse(ex: Exchange): boolean {
    return (replayAnnotations(ex).extract?.length ?? 0) > 0;
  }

  /** Fill the copy's correlation values from a live response; returns the names it did not provide. */
  learn(ex: Exchange, copy: number, res: LiveResponse): string[] {
    const rules = replayAnnotations(ex).extract;
    if (!rules || rules.length === 0) return [];
    const found: Record<string, string> = {};
    const missing = extractVariables(rules, res, found);
    if (Object.keys(found).length > 0) {
      Object.assign(scope(this.byCopy, copy, MAX_COPY_SCOPES), found);
      Object.assign(scope(this.byConnection, connectionKey(ex, copy), MAX_CONNECTION_SCOPES), found);
    }
    return missing;
  }
}

/** The (copy, recorded connection) scope of a send. */
export function connectionKey(ex: Exchange, copy: number): string {
  return `${copy}\u0000${ex.source.captureId}\u0000${ex.source.connection ?? ''}`;
}

function scope<K>(map: Map<K, Record<string, string>>, key: K, max: number): Record<string, string> {
  let s = map.get(key);
  if (!s) {
    s = {};
    map.set(key, s);
    if (map.size > max) map.delete(map.keys().next().value!);
  }
  return s;
}
