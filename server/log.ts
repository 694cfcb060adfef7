import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured JSON logs (pino). Secrets never reach a log line: credentials, tokens and
 * idempotency keys are redacted wherever they appear in a logged object.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'lectern' },
      redact: {
        paths: [
          'password',
          '*.password',
          'token',
          '*.token',
          'jwtSecret',
          '*.jwtSecret',
          'metricsToken',
          '*.metricsToken',
          'mediaUrlSecret',
          '*.mediaUrlSecret',
          'socketAdminUiPassword',
          '*.socketAdminUiPassword',
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          'databaseUrl',
          'redisUrl',
          '*.databaseUrl',
          '*.redisUrl',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
