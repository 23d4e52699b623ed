import { pino, type Logger } from 'pino';

/**
 * The user-facing logger: JSON lines when stderr is not a terminal (CI, files,
 * log shippers), pino-pretty when a person is watching. Logs go to stderr so
 * that stdout stays clean for data (`store cat` writes NDJSON there).
 */
export function createLogger(options: { level?: string; pretty?: boolean } = {}): Logger {
  const level = options.level ?? process.env.REPRISE_LOG_LEVEL ?? 'info';
  const pretty = options.pretty ?? Boolean(process.stderr.isTTY);
  if (pretty) {
    return pino({
      level,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname' } },
    });
  }
  return pino({ level, base: undefined }, pino.destination(2));
}

export type { Logger };
