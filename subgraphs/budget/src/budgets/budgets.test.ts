import { describe, expect, it } from 'vitest';
import { parseDay } from '../days.js';
import { BudgetRecord, type Rollover } from './budget.entity.js';
import { carriedIn, periodEnd, periodLastDay, periodStart } from './budgets.js';

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

describe('rollover', () => {
  const budget = (id: string, startsOn: string, amount: number, rollover: Rollover, currency = 'EUR') =>
    Object.assign(new BudgetRecord(), { id, categoryId: 'c', period: 'MONTHLY', startsOn, amount, rollover, currency });

  it('carries what is left along consecutive periods, and a shortfall only with LEFTOVER_AND_OVERSPENDING', () => {
    const jan = budget('jan', '2025-01-01', 100, 'LEFTOVER');
    const feb = budget('feb', '2025-02-01', 100, 'LEFTOVER_AND_OVERSPENDING');
    const mar = budget('mar', '2025-03-01', 100, 'LEFTOVER');
    const apr = budget('apr', '2025-04-01', 100, 'NONE');
    const spent = new Map([
      ['jan', 40],
      ['feb', 200],
      ['mar', 10],
      ['apr', 0],
    ]);
    // jan leaves 60; feb has 160 and spends 200: -40 moves on; mar has 60, leaves 50.
    expect(carriedIn([feb, mar, apr], [jan, feb, mar], spent)).toEqual(
      new Map([
        ['feb', 60],
        ['mar', -40],
        ['apr', 50],
      ]),
    );
    const lenient = budget('feb', '2025-02-01', 100, 'LEFTOVER');
    expect(carriedIn([mar], [jan, lenient], spent).get('mar')).toBe(0);
  });

  it('breaks the chain at a period without a budget, or in another currency', () => {
    const jan = budget('jan', '2025-01-01', 100, 'LEFTOVER');
    const mar = budget('mar', '2025-03-01', 100, 'NONE');
    expect(carriedIn([mar], [jan], new Map([['jan', 0]])).get('mar')).toBe(0);
    const feb = budget('feb', '2025-02-01', 100, 'NONE', 'USD');
    expect(carriedIn([feb], [jan], new Map([['jan', 0]])).get('feb')).toBe(0);
  });
});
