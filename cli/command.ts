import { parseArgs, type ParseArgsConfig } from 'node:util';
import { didYouMean } from '../transform/config/did-you-mean.js';
import { RepriseError } from '../errors.js';
import type { Logger } from '../log.js';

/**
 * A CLI command is declaration plus one call into the library: the flags it
 * takes, its help text, and `run`, which normalizes flags into the library's
 * options object. No logic lives here beyond that.
 */
export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & { description: string; hint?: string };

export interface CommandContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  debug: boolean;
  /** pino logger on stderr (progress, warnings); created by main() when not given. */
  log?: Logger;
}

export interface Command {
  /** Words that select the command, e.g. ['store', 'inspect']. */
  path: string[];
  summary: string;
  /** Positional arguments for the usage line, e.g. '<store>'. */
  args: string;
  options: Record<string, OptionSpec>;
  examples?: string[];
  /** Returns the process exit code. */
  run(parsed: ParsedArgs, ctx: CommandContext): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', description: 'show help for this command' },
  debug: { type: 'boolean', description: 'print stack traces and debug logs' },
};

/** The option a mistyped one most likely meant: the only one it abbreviates (`--ca` → `--ca-dir`), else a near spelling. */
function nearestOption(unknown: string, names: readonly string[]): string | undefined {
  const prefixed = names.filter((n) => n.startsWith(unknown));
  return prefixed.length === 1 ? prefixed[0] : didYouMean(unknown, names);
}

export function parseCommandArgs(cmd: Command, argv: string[]): ParsedArgs {
  const options = { ...GLOBAL_OPTIONS, ...cmd.options };
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries(options)) {
    config[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options: config, allowPositionals: true, strict: true });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (err) {
    // Node's parseArgs messages can span lines (an option value starting with '-'); an error is one line.
    let msg = (err as Error).message.replace(/\. To specify a positional.*$/s, '').replace(/\s*\n\s*/g, ' ');
    const unknown = (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'--([^'=]+)/.exec(msg)?.[1] : undefined;
    const near = unknown === undefined ? undefined : nearestOption(unknown, Object.keys(options));
    if (near !== undefined) msg += ` (did you mean --${near}?)`;
    throw new RepriseError('CLI_USAGE', `${cmd.path.join(' ')}: ${msg}`, { cause: err });
  }
}

export function formatCommandHelp(cmd: Command): string {
  const lines = [`reprise ${cmd.path.join(' ')} ${cmd.args}`.trimEnd(), '', cmd.summary, '', 'Options:'];
  const all = { ...cmd.options, ...GLOBAL_OPTIONS };
  const rows = Object.entries(all).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` <${o.hint ?? 'value'}>` : ''}`;
    return [flag, o.description + (o.multiple ? ' (repeatable)' : '')] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length));
  for (const [f, d] of rows) lines.push(`  ${f.padEnd(width)}  ${d}`);
  if (cmd.examples?.length) lines.push('', 'Examples:', ...cmd.examples.map((e) => `  ${e}`));
  return `${lines.join('\n')}\n`;
}

/** Exactly `n` positionals, else a usage error naming what is missing. */
export function requirePositionals(cmd: Command, parsed: ParsedArgs, names: string[]): string[] {
  const got = parsed.positionals;
  if (got.length < names.length) {
    throw new RepriseError('CLI_USAGE', `${cmd.path.join(' ')}: missing ${names.slice(got.length).join(', ')} (see --help)`);
  }
  if (got.length > names.length) {
    throw new RepriseError('CLI_USAGE', `${cmd.path.join(' ')}: unexpected argument "${got[names.length]}"`);
  }
  return got;
}

export function requireString(cmd: Command, parsed: ParsedArgs, name: string): string {
  const v = parsed.values[name];
  if (typeof v !== 'string' || v === '') throw new RepriseError('CLI_USAGE', `${cmd.path.join(' ')}: --${name} is required`);
  return v;
}

/**
 * A numeric flag's value, checked: `--limit abc` or `--limit 2.5` is a usage error, not
 * NaN or a rounding that quietly changes what the command does. Undefined when not given.
 *
 * @example
 * const cap = positiveNumber(cmd, parsed, 'body-cap', true) ?? 1 << 20;
 */
export function positiveNumber(cmd: Command, parsed: ParsedArgs, name: string, integer = false): number | undefined {
  const raw = parsed.values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new RepriseError('CLI_USAGE', `${cmd.path.join(' ')}: --${name} must be a positive ${integer ? 'whole number' : 'number'}`);
  }
  return n;
}
