// One logger per component (pino, structured JSON); secrets redacted by key. The level is the config's
// log.level (GLEANER_LOG_LEVEL sets it, src/config/env.ts), applied by openApp through setLogLevel.
import { pino, type Level, type Logger } from 'pino';
import { SECRET_KEYS } from './config/index.js';
import { withEnv } from './config/env.js';

let root: Logger | undefined;
const components = new Map<string, Logger>();

function rootLogger(): Logger {
  // Until a config is read, the level the environment gives (through the config's one table).
  const early = (withEnv({}, process.env) as { log?: { level?: string } }).log?.level ?? 'info';
  root ??= pino(
    {
      level: early,
      base: { app: 'gleaner' },
      redact: { paths: SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]), censor: '***' },
    },
    pino.destination(2),
  );
  return root;
}

export function logger(component: string): Logger {
  let log = components.get(component);
  if (!log) components.set(component, (log = rootLogger().child({ component })));
  return log;
}

/** Sets the level of every component's logger (a child logger keeps the level it was made with). */
export function setLogLevel(level: Level | 'silent'): void {
  rootLogger().level = level;
  for (const log of components.values()) log.level = level;
}
