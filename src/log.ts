// One logger per component (pino, structured JSON); secrets redacted by key.
import { pino, type Logger } from 'pino';
import { SECRET_KEYS } from './config/index.js';

let root: Logger | undefined;

export function rootLogger(level = process.env.GLEANER_LOG_LEVEL ?? 'info'): Logger {
  root ??= pino({
    level,
    base: { app: 'gleaner' },
    redact: { paths: SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]), censor: '***' },
  }, pino.destination(2));
  return root;
}

export function logger(component: string): Logger {
  return rootLogger().child({ component });
}
