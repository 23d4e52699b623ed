import { RepriseError } from '../errors.js';
import { createLogger } from '../log.js';
import { formatCommandHelp, parseCommandArgs, type Command, type CommandContext } from './command.js';
import { applyS3Options, logS3Events } from './s3-options.js';
import { exportHarCommand, exportMarkdownCommand, importHarCommand } from './commands/har-commands.js';
import { storeCat, storeInspect } from './commands/store-commands.js';
import { transformCommand } from './commands/transform-commands.js';
import { runCommand } from './commands/run-command.js';
import { captureVxlanCommand, capturePcapCommand } from './commands/capture-commands.js';
import { captureProxyCommand } from './commands/proxy-commands.js';
import { caInitCommand } from './commands/ca-commands.js';
import { captureIngestCommand, importApigwCommand } from './commands/apigw-commands.js';
import { replayCommand } from './commands/replay-commands.js';
import { diffCommand } from './commands/diff-commands.js';
import { reportMergeCommand } from './commands/report-commands.js';

/**
 * The `reprise` entry point: finds the command, parses its flags, runs it,
 * and turns errors into exit codes. This is the only place that exits.
 *
 * Exit codes: 0 ok · 1 user error (bad input, bad config) · 2 usage error ·
 * 3 a replay threshold failed (cli/commands/replay-commands.ts) ·
 * 4 diff thresholds broken (reprise diff) ·
 * 70 internal error (a bug: printed with its stack).
 */

export const COMMANDS: Command[] = [capturePcapCommand, captureVxlanCommand, captureProxyCommand, caInitCommand, captureIngestCommand, importHarCommand, importApigwCommand, storeInspect, storeCat, transformCommand, replayCommand, exportHarCommand, exportMarkdownCommand, diffCommand, reportMergeCommand, runCommand];

export const EXIT = { ok: 0, userError: 1, usage: 2, bug: 70 } as const;

export async function main(argv: string[], ctx: CommandContext): Promise<number> {
  const debug = argv.includes('--debug');
  const words = argv.filter((a) => !a.startsWith('-'));
  const cmd = findCommand(words);
  if (!cmd) {
    const wantsHelp = argv.length === 0 || argv.includes('--help') || argv.includes('-h') || words[0] === 'help';
    const prefix = words.length > 0 && !wantsHelp ? words : [];
    const known = COMMANDS.some((c) => prefix.every((w, i) => c.path[i] === w));
    if (prefix.length > 0 && !known) {
      ctx.stderr.write(`reprise: CLI_USAGE: unknown command "${prefix.join(' ')}" (run reprise --help)\n`);
      return EXIT.usage;
    }
    ctx.stdout.write(formatTopHelp(prefix));
    return wantsHelp || prefix.length > 0 ? EXIT.ok : EXIT.usage;
  }
  const rest = removeCommandWords(argv, cmd.path);
  try {
    const parsed = parseCommandArgs(cmd, rest);
    if (parsed.values.help) {
      ctx.stdout.write(formatCommandHelp(cmd));
      return EXIT.ok;
    }
    const log = ctx.log ?? createLogger({ level: debug ? 'debug' : undefined });
    const restoreEnv = applyS3Options(parsed.values);
    const stopS3Log = logS3Events(log);
    try {
      return await cmd.run(parsed, { ...ctx, debug, log });
    } finally {
      stopS3Log();
      restoreEnv();
    }
  } catch (err) {
    return reportError(err, ctx, debug);
  }
}

/** User errors: one line, no stack. Anything else is a bug and says so. */
export function reportError(err: unknown, ctx: CommandContext, debug: boolean): number {
  if (err instanceof RepriseError) {
    const where = err.where ? `${err.where}: ` : '';
    ctx.stderr.write(`reprise: ${err.code}: ${where}${err.message}\n`);
    if (debug) ctx.stderr.write(`${err.stack ?? ''}\n${err.cause ? `cause: ${String((err.cause as Error).stack ?? err.cause)}\n` : ''}`);
    return err.code === 'CLI_USAGE' ? EXIT.usage : EXIT.userError;
  }
  const e = err as Error;
  ctx.stderr.write(`reprise: internal error (this is a bug, please report it): ${e?.message ?? String(err)}\n${e?.stack ?? ''}\n`);
  return EXIT.bug;
}

function findCommand(words: string[]): Command | undefined {
  return COMMANDS.find((c) => c.path.every((w, i) => words[i] === w));
}

function removeCommandWords(argv: string[], path: string[]): string[] {
  const out = [...argv];
  for (const w of path) out.splice(out.indexOf(w), 1);
  return out;
}

/** The summary's first sentence, without its period; "e.g." and "i.e." do not end one. */
export function firstSentence(summary: string): string {
  const end = /(?<!\b(?:e\.g|i\.e|etc|vs))\.(?:\s|$)/.exec(summary);
  return end ? summary.slice(0, end.index) : summary;
}

function formatTopHelp(prefix: string[]): string {
  const cmds = COMMANDS.filter((c) => prefix.every((w, i) => c.path[i] === w));
  const width = Math.max(...cmds.map((c) => `${c.path.join(' ')} ${c.args}`.length));
  return [
    'reprise — record HTTP traffic, replay it at scale, diff responses between releases',
    '',
    'Usage: reprise <command> [options]    (reprise <command> --help for its options)',
    '',
    'Commands:',
    ...cmds.map((c) => `  ${`${c.path.join(' ')} ${c.args}`.padEnd(width)}  ${firstSentence(c.summary)}`),
    '',
    'Global options: --help, --debug (stack traces). Logs go to stderr; data to stdout.',
    '',
  ].join('\n');
}

// Run when executed directly (`tsx cli/main.ts`); bin/reprise.js and tests import and call main().
const entry = process.argv[1] ?? '';
if (entry.endsWith('cli/main.ts') || entry.endsWith('cli/main.js')) {
  const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, debug: false });
  process.exitCode = code;
}
