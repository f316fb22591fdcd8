import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * Paths pino replaces with `[Redacted]`: credentials in headers, configs and errors. Messages are
 * constant strings (STYLE.md), so secrets can only arrive in these fields.
 */
export const REDACTED_PATHS = [
  'authorization',
  'password',
  'token',
  'secret',
  'apiKey',
  '*.authorization',
  '*.Authorization',
  '*.password',
  '*.token',
  '*.secret',
  '*.apiKey',
  '*.opsToken',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  '*.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'config.opsToken',
  'config.adminToken',
];

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Component name put on every line (`cvm`, `receiver`, …). */
  name?: string;
  /** Where lines go; stdout when absent. Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

/** One JSON logger per process; components take `logger.child({ component })`. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name ?? 'cvm',
      level: options.level,
      redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}
