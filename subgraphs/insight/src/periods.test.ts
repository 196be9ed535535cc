import { describe, expect, it } from 'vitest';
import { formatDay, parseDay, periodEnd, periodStart, previousPeriodStart } from './periods.js';

const day = (text: string) => parseDay(text, 'startsOn');

describe('report periods', () => {
  it('aligns a month to its 1st and a week to its Monday', () => {
    expect(formatDay(periodStart('MONTHLY', day('2025-03-15')))).toBe('2025-03-01');
    expect(formatDay(periodStart('MONTHLY', day('2025-03-01')))).toBe('2025-03-01');
    // 2025-04-02 is a Wednesday; its ISO week starts on Monday 2025-03-31, in the month before.
    expect(formatDay(periodStart('WEEKLY', day('2025-04-02')))).toBe('2025-03-31');
    expect(formatDay(periodStart('WEEKLY', day('2025-04-06')))).toBe('2025-03-31'); // Sunday
    expect(formatDay(periodStart('WEEKLY', day('2025-03-31')))).toBe('2025-03-31'); // Monday
  });

  it('ends a period on the first day after it and finds the one before, across years and leap days', () => {
    expect(formatDay(periodEnd('MONTHLY', day('2024-02-01')))).toBe('2024-03-01');
    expect(formatDay(periodEnd('MONTHLY', day('2025-12-01')))).toBe('2026-01-01');
    expect(formatDay(periodEnd('WEEKLY', day('2024-12-30')))).toBe('2025-01-06');
    expect(formatDay(previousPeriodStart('MONTHLY', day('2025-01-01')))).toBe('2024-12-01');
    expect(formatDay(previousPeriodStart('WEEKLY', day('2025-03-03')))).toBe('2025-02-24');
  });

  it('refuses text that is not a calendar date, naming the argument', () => {
    for (const text of ['2025-02-30', '2025-13-01', '15/03/2025', 'yesterday', '2025-3-1', '1999-12-31']) {
      try {
        parseDay(text, 'startsOn');
        expect.unreachable(text);
      } catch (error) {
        expect((error as { extensions: unknown }).extensions, text).toMatchObject({ code: 'BAD_USER_INPUT', field: 'startsOn' });
      }
    }
    expect(formatDay(parseDay('2024-02-29', 'startsOn'))).toBe('2024-02-29');
  });
});
