import { badInput } from '@analytica/errors';

/**
 * Calendar days as the ledger writes them: YYYY-MM-DD, in UTC. Budget periods, schedule
 * occurrences, transfers at the day's rate and exchange-rate files all count in these days. The
 * reading lives here, below all of them: kept with budgets, it made budgets and exchange rates
 * import each other (budgets convert spending at the day's rate).
 */
export const DAY_MS = 86_400_000;

export const isoDate = (date: Date) => date.toISOString().slice(0, 10);

/** Reads YYYY-MM-DD as a UTC day, refusing dates that do not exist (2025-02-30). */
export function parseDay(text: string, field: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  const [year, month, day] = (match ?? []).slice(1).map(Number) as [number, number, number];
  const date = match ? new Date(Date.UTC(year, month - 1, day)) : null;
  if (!date || date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || year < 1900) {
    throw badInput(field, `"${text}" is not a calendar date; write it as YYYY-MM-DD, e.g. 2025-03-01.`);
  }
  return date;
}
