// Structured JSON logs (pino), one logger for the whole server.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { svc: 'pamoja' }, timestamp: pino.stdTimeFunctions.isoTime });
}
