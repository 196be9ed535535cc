import { describe, expect, it } from 'vitest';
import { CATCH_UP_DAYS, catchUpFrom, firstOccurrenceFrom, occurrenceOn, upcomingOccurrences } from './schedules.js';

describe('schedule occurrences', () => {
  it('counts months from the start day, falling back to the last day of shorter months and returning after', () => {
    expect([0, 1, 2, 3, 4, 12, 13].map((n) => occurrenceOn('2025-01-31', 'MONTHLY', n))).toEqual([
      '2025-01-31',
      '2025-02-28',
      '2025-03-31',
      '2025-04-30',
      '2025-05-31',
      '2026-01-31',
      '2026-02-28',
    ]);
    expect(occurrenceOn('2023-03-31', 'MONTHLY', 11)).toBe('2024-02-29');
  });

  it('moves by whole weeks and years, 29 February to the 28th in other years', () => {
    expect([0, 1, 2].map((n) => occurrenceOn('2024-12-23', 'WEEKLY', n))).toEqual(['2024-12-23', '2024-12-30', '2025-01-06']);
    expect([0, 1, 4].map((n) => occurrenceOn('2024-02-29', 'YEARLY', n))).toEqual(['2024-02-29', '2025-02-28', '2028-02-29']);
  });

  it('lists the next occurrences and stops at the end date', () => {
    const schedule = { startsOn: '2025-01-15', frequency: 'MONTHLY' as const, endsOn: '2025-04-15' };
    expect(upcomingOccurrences(schedule, 1, 10)).toEqual(['2025-02-15', '2025-03-15', '2025-04-15']);
    expect(upcomingOccurrences({ ...schedule, endsOn: null }, 0, 2)).toEqual(['2025-01-15', '2025-02-15']);
  });

  it('never produces a day after 9999-12-31: the schedule ends there', () => {
    expect(occurrenceOn('9999-12-20', 'WEEKLY', 1)).toBe('9999-12-27');
    expect(occurrenceOn('9999-12-20', 'WEEKLY', 2)).toBeNull();
    expect(upcomingOccurrences({ startsOn: '9999-12-20', frequency: 'WEEKLY', endsOn: null }, 0, 100)).toEqual(['9999-12-20', '9999-12-27']);
    expect(upcomingOccurrences({ startsOn: '9999-01-31', frequency: 'MONTHLY', endsOn: null }, 0, 100)).toHaveLength(12);
    expect(occurrenceOn('9999-02-28', 'YEARLY', 1)).toBeNull();
  });

  it('finds the first occurrence on or after a day without walking those before', () => {
    expect(firstOccurrenceFrom('1900-01-01', 'WEEKLY', '2025-12-05')).toEqual({ index: 6571, on: '2025-12-08' });
    expect(occurrenceOn('1900-01-01', 'WEEKLY', 6570)).toBe('2025-12-01');
    expect(firstOccurrenceFrom('2025-01-31', 'MONTHLY', '2025-03-01')).toEqual({ index: 2, on: '2025-03-31' });
    expect(firstOccurrenceFrom('2025-01-31', 'MONTHLY', '2025-02-28')).toEqual({ index: 1, on: '2025-02-28' });
    expect(firstOccurrenceFrom('2024-02-29', 'YEARLY', '2027-03-01')).toEqual({ index: 4, on: '2028-02-29' });
    expect(firstOccurrenceFrom('2025-06-01', 'MONTHLY', '2020-01-01')).toEqual({ index: 0, on: '2025-06-01' });
    expect(firstOccurrenceFrom('9999-12-20', 'WEEKLY', '9999-12-28')).toEqual({ index: 2, on: null });
  });

  it('catches up a year at most: a weekly schedule from 1900 has 53 occurrences due at most', () => {
    const now = new Date('2026-12-05T10:00:00Z');
    const from = catchUpFrom(now);
    expect(from).toBe('2025-12-04');
    const first = firstOccurrenceFrom('1900-01-01', 'WEEKLY', from);
    const due = upcomingOccurrences({ startsOn: '1900-01-01', frequency: 'WEEKLY', endsOn: '2026-12-05' }, first.index, 10_000);
    expect(due.length).toBeLessThanOrEqual(Math.ceil(CATCH_UP_DAYS / 7));
    expect(due[0]! >= from).toBe(true);
  });
});
