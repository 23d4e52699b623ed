/**
 * A worker process of a sharded replay (run-sharded.ts): receives one
 * ShardTask over IPC, runs its shard with runReplay, sends the summary (or
 * the error) back and exits. 'stop' from the parent stops it like Ctrl-C.
 */
import { isRepriseError } from '../errors.js';
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
    const summary = await runReplay({ ...task.options, shard: task.shard, startAtMs: task.startAtMs, signal: ac.signal });
    reply = { summary };
  } catch (err) {
    reply = { error: { ...(isRepriseError(err) && { code: err.code }), message: (err as Error).message } };
  }
  process.send!(reply, () => process.exit(0));
}
