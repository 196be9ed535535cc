import { describe, expect, it } from 'vitest';
import { occurrenceOn, upcomingOccurrences } from './schedules.js';

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
});
