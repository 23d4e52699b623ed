import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { demoWorkload } from './demo-api.js';

/**
 * Plays the demo workload against `baseUrl` (usually the recording proxy in
 * front of the demo API) the way a client would: log in, keep the bearer
 * token it got, browse with it. Requests go one after another at about
 * `rate` per second, so the recording has realistic gaps for a replay to
 * compress.
 */
export interface WorkloadResult {
  sent: number;
  byStatus: Record<number, number>;
}

export async function driveWorkload(baseUrl: string, requests: number, rate: number): Promise<WorkloadResult> {
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 4 });
  const byStatus: Record<number, number> = {};
  let token = '';
  const gapMs = 1000 / rate;
  const start = performance.now();
  try {
    let i = 0;
    for (const step of demoWorkload(requests)) {
      const due = start + i * gapMs;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'reprise-demo/1' };
      if (step.body) headers['content-type'] = 'application/json';
      if (token && step.path.startsWith('/api/') && step.path !== '/api/login') headers.authorization = `Bearer ${token}`;
      const res = await request(new URL(step.path, baseUrl), { method: step.method as 'GET', headers, ...(step.body !== undefined && { body: step.body }), dispatcher: agent });
      const text = await res.body.text();
      byStatus[res.statusCode] = (byStatus[res.statusCode] ?? 0) + 1;
      if (step.path === '/api/login' && res.statusCode === 200) token = (JSON.parse(text) as { token: string }).token;
      i++;
    }
    return { sent: i, byStatus };
  } finally {
    await agent.close();
  }
}
