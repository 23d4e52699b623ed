import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/reprise.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the real `reprise` executable as a user would, capturing its output. */
export function runCli(args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...options.env } });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
    proc.stdin.end(options.input ?? '');
  });
}

/** A user error: exactly one line on stderr, `reprise: CODE: …`, and no stack frames. */
export function expectOneLineError(r: CliResult, code: string): string {
  const lines = r.stderr.trimEnd().split('\n');
  if (lines.length !== 1) throw new Error(`expected one stderr line, got ${lines.length}:\n${r.stderr}`);
  if (!lines[0]!.startsWith(`reprise: ${code}: `)) throw new Error(`expected ${code}, got: ${lines[0]}`);
  if (/\n\s+at /.test(r.stderr)) throw new Error(`stack trace printed:\n${r.stderr}`);
  return lines[0]!;
}
