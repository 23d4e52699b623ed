/**
 * A worker process of a sharded replay (run-sharded.ts): receives one
 * ShardTask over IPC, runs its part — a timed shard with runReplay, or its
 * connections of a `--max` run with runMax — sends the summary (or the
 * error) back and exits. 'stop' from the parent stops it like Ctrl-C.
 */
import { isRepriseError } from '../errors.js';
import { readCa } from './dispatch/read-ca.js';
import { runMax } from './max/run-max.js';
import { runReplay } from './run-replay.js';
import type { ShardMessage, ShardTask } from './run-sharded.js';

const ac = new AbortController();
process.on('message', (m: ShardTask | 'stop') => {
  if (m === 'stop') {
    ac.abort();
    return;
  }
  void run(m);
});
// The parent handles Ctrl-C and tells the workers; a terminal's SIGINT reaches the whole group.
process.on('SIGINT', () => undefined);

async function run(task: ShardTask): Promise<void> {
  let reply: ShardMessage;
  try {
    if (task.mode === 'timed') {
      reply = { summary: await runReplay({ ...task.options, shard: task.shard, startAtMs: task.startAtMs, signal: ac.signal }) };
    } else {
      const { caFile, ...options } = task.options;
      const ca = caFile === undefined ? undefined : await readCa(caFile);
      reply = { maxSummary: await runMax({ ...options, ...(ca && { ca }), startAtMs: task.startAtMs, signal: ac.signal }) };
    }
  } catch (err) {
    reply = { error: { ...(isRepriseError(err) && { code: err.code }), message: (err as Error).message } };
  }
  process.send!(reply, () => process.exit(0));
}
