/** pino's levels: a line is stored with its number, so "at least WARN" is `level >= 40`. */
export const LOG_LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
export type LogLevelName = keyof typeof LOG_LEVELS;

const BY_NUMBER = new Map(Object.entries(LOG_LEVELS).map(([name, value]) => [value as number, name as LogLevelName]));

/** The name of a stored level number; a number between two levels is named after the one below it. */
export function levelName(level: number): LogLevelName {
  const exact = BY_NUMBER.get(level);
  if (exact) return exact;
  let name: LogLevelName = 'trace';
  for (const [candidate, value] of Object.entries(LOG_LEVELS)) if (level >= value) name = candidate as LogLevelName;
  return name;
}
