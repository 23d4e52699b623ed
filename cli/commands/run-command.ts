import { loadScenario } from '../../scenarios/load-scenario.js';
import { runScenario } from '../../scenarios/run-scenario.js';
import { requirePositionals, type Command } from '../command.js';

export const runCommand: Command = {
  path: ['run'],
  args: '<scenario.yaml>',
  summary: 'Run a scenario: capture and/or source → transforms → replay phases and/or diff → thresholds → reports (docs/scenarios.md).',
  options: {
    check: { type: 'boolean', description: 'validate the scenario (and its includes) and stop; nothing runs' },
    'keep-work': { type: 'boolean', description: 'keep the work folder (imported and transformed stores) and print where it is' },
    quiet: { type: 'boolean', short: 'q', description: 'no live progress line' },
  },
  examples: [
    'reprise run scenarios/ci-replay-10x.yaml',
    'STAGING_URL=http://staging.internal:8080 reprise run scenarios/ci-replay-10x.yaml',
    'reprise run scenarios/release-diff.yaml --check',
  ],
  async run(parsed, ctx) {
    const [file] = requirePositionals(this, parsed, ['<scenario.yaml>']);
    const scenario = loadScenario(file!);
    if (parsed.values.check) {
      ctx.stdout.write(`${scenario.file}: valid scenario "${scenario.name}"\n`);
      return 0;
    }
    const ac = new AbortController();
    // First Ctrl-C: stop sending, finish what is in flight, still report. Second: the default (exit).
    const onSigint = (): void => {
      ctx.log?.warn('stopping: no new sends, waiting for in-flight requests (Ctrl-C again to quit now)');
      ac.abort();
      process.off('SIGINT', onSigint);
    };
    process.on('SIGINT', onSigint);
    try {
      const outcome = await runScenario(scenario, {
        out: ctx.stdout,
        progress: parsed.values.quiet ? null : ctx.stderr,
        signal: ac.signal,
        keepWork: parsed.values['keep-work'] === true,
        ...(ctx.log && { log: ctx.log }),
      });
      return outcome.exitCode;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
