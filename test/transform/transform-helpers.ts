import type { Body, Exchange, Header } from '../../store/exchange.js';
import { compilePipeline, runPipeline, type CompiledPipeline } from '../../transform/compile-pipeline.js';
import { validatePipeline } from '../../transform/config/load-pipeline.js';
import { syntheticExchange } from '../support/synthetic-exchange.js';

/** A plain exchange for step tests: JSON bodies by default, headers as given. */
export function ex(spec: {
  method?: string;
  path?: string;
  query?: string;
  authority?: string;
  headers?: Header[];
  body?: string | null;
  status?: number;
  resHeaders?: Header[];
  resBody?: string | null;
  connection?: string;
  start?: number;
  seq?: number;
}): Exchange {
  const base = syntheticExchange(spec.seq ?? 0);
  const body = (s: string | null | undefined): Body | null => (s === undefined || s === null ? null : { encoding: 'utf8', data: s, size: Buffer.byteLength(s) });
  return {
    ...base,
    start: spec.start ?? base.start,
    source: { kind: 'synthetic', captureId: 'test', connection: spec.connection ?? 'c1', seq: spec.seq ?? 0 },
    request: {
      ...base.request,
      method: spec.method ?? 'GET',
      path: spec.path ?? '/',
      query: spec.query ?? '',
      authority: spec.authority ?? 'api.example.test',
      headers: spec.headers ?? [['Host', spec.authority ?? 'api.example.test']],
      body: body(spec.body),
    },
    response: {
      status: spec.status ?? 200,
      httpVersion: '1.1',
      headers: spec.resHeaders ?? [['Content-Type', 'application/json']],
      body: body(spec.resBody),
    },
  };
}

export const TEST_KEY = 'test-key-0123456789abcdef';

export async function compileSteps(steps: unknown[], env: Record<string, string | undefined> = { REPRISE_REDACT_KEY: TEST_KEY }, baseDir?: string): Promise<CompiledPipeline> {
  const def = validatePipeline({ steps }, { ...(baseDir && { baseDir }) });
  return compilePipeline(def, { env });
}

/** Run steps (validated like YAML would be) over exchanges; returns what came out. */
export async function runSteps(steps: unknown[], input: Exchange[], env?: Record<string, string | undefined>, baseDir?: string): Promise<Exchange[]> {
  const p = await compileSteps(steps, env, baseDir);
  const out: Exchange[] = [];
  for await (const x of runPipeline(p, input)) out.push(x);
  return out;
}

export function headerOf(e: Exchange, name: string, side: 'request' | 'response' = 'request'): string | undefined {
  const list = side === 'request' ? e.request.headers : e.response?.headers ?? [];
  return list.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}
