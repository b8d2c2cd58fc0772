import pino, { type Logger } from 'pino';

/**
 * Fields that may hold personal data or secrets; pino removes them from every line, whatever
 * object they arrive in.
 */
export const REDACTED_PATHS = [
  'context',
  '*.context',
  'request.inputs',
  '*.request.inputs',
  'inputs',
  'result.text',
  '*.result.text',
  'text',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
];

export function createLogger(options: { level: string; service: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service, pid: process.pid },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}
