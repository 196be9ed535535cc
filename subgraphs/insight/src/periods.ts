import { badInput } from '@analytica/errors';

export type ReportPeriod = 'MONTHLY' | 'WEEKLY';

const DAY_MS = 86_400_000;

/**
 * Days are calendar dates in UTC, carried as Date objects at UTC midnight. Transactions are booked
 * with UTC timestamps and users' time zones are not known here, so UTC is the one calendar.
 */
export function parseDay(text: string, field: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (!match) throw badInput(field, 'Give a date as YYYY-MM-DD, e.g. 2025-03-01.');
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC rolls 2025-02-30 over into March; a real date survives the round trip.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw badInput(field, `${text.trim()} is not a date in the calendar.`);
  }
  if (year < 2000 || year > 2100) throw badInput(field, 'Give a date between the years 2000 and 2100.');
  return date;
}

export function formatDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The first day of the period that contains `day`: the 1st of the month, or the Monday of the ISO week. */
export function periodStart(period: ReportPeriod, day: Date): Date {
  if (period === 'MONTHLY') return new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), 1));
  const sinceMonday = (day.getUTCDay() + 6) % 7;
  return new Date(day.getTime() - sinceMonday * DAY_MS);
}

/** The first day after the period that starts on `start` (an exclusive end). */
export function periodEnd(period: ReportPeriod, start: Date): Date {
  if (period === 'MONTHLY') return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
  return new Date(start.getTime() + 7 * DAY_MS);
}

export function previousPeriodStart(period: ReportPeriod, start: Date): Date {
  if (period === 'MONTHLY') return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() - 1, 1));
  return new Date(start.getTime() - 7 * DAY_MS);
}

/** "the month from 2025-03-01" / "the week from 2025-03-31", for insight texts. */
export function describePeriod(period: ReportPeriod, start: Date): string {
  return `the ${period === 'MONTHLY' ? 'month' : 'week'} from ${formatDay(start)}`;
}
