import { describe, expect, it } from 'vitest';
import { parseDay, periodEnd, periodLastDay, periodStart } from './budgets.js';

const day = (text: string) => parseDay(text, 'input.startsOn');

describe('budget periods', () => {
  it('moves any day to the first of its month for monthly budgets', () => {
    expect(periodStart(day('2025-03-17'), 'MONTHLY')).toBe('2025-03-01');
    expect(periodStart(day('2025-03-01'), 'MONTHLY')).toBe('2025-03-01');
    expect(periodStart(day('2024-02-29'), 'MONTHLY')).toBe('2024-02-01');
  });

  it('moves any day to the Monday of its ISO week for weekly budgets, across month and year ends', () => {
    expect(periodStart(day('2025-03-05'), 'WEEKLY')).toBe('2025-03-03'); // a Wednesday
    expect(periodStart(day('2025-03-03'), 'WEEKLY')).toBe('2025-03-03'); // a Monday stays
    expect(periodStart(day('2025-03-09'), 'WEEKLY')).toBe('2025-03-03'); // a Sunday belongs to the week before it
    expect(periodStart(day('2025-01-01'), 'WEEKLY')).toBe('2024-12-30');
  });

  it('ends a month on its last day, including February in leap years, and a week on Sunday', () => {
    expect(periodEnd('2025-12-01', 'MONTHLY')).toBe('2026-01-01');
    expect(periodLastDay('2024-02-01', 'MONTHLY')).toBe('2024-02-29');
    expect(periodLastDay('2025-02-01', 'MONTHLY')).toBe('2025-02-28');
    expect(periodLastDay('2025-12-29', 'WEEKLY')).toBe('2026-01-04');
  });

  it('refuses dates that do not exist or are not written as YYYY-MM-DD, naming the field', () => {
    for (const text of ['2025-02-30', '2025-13-01', '2023-02-29', '2025-3-1', '01.03.2025', '', '2025-03-01T00:00:00Z']) {
      expect(() => day(text), text).toThrowError(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'input.startsOn' } }));
    }
    expect(day('2024-02-29').toISOString()).toBe('2024-02-29T00:00:00.000Z');
  });
});
