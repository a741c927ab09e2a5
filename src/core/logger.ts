import { pino, type Logger } from 'pino';
import type { Config } from './config.ts';

export type { Logger };

/** Structured JSON logs on stdout (pino). */
export function createLogger(config: Pick<Config, 'logLevel'>, name = 'spamdesk'): Logger {
  return pino({ name, level: config.logLevel, base: { pid: process.pid } });
}
