import { describe, expect, it } from 'vitest';
import { deriveInsights, totalsByCurrency, type FlowLine } from './insight-rules.js';
import { parseDay } from '../periods.js';

const march = parseDay('2025-03-01', 'startsOn');
const spend = (categoryId: string | null, totalMinor: number, currency = 'EUR'): FlowLine => ({ flow: 'SPENDING', categoryId, currency, totalMinor, count: 1 });
const income = (totalMinor: number, currency = 'EUR'): FlowLine => ({ flow: 'INCOME', categoryId: 'salary', currency, totalMinor, count: 1 });

describe('insight rules', () => {
  it('reports a category whose spending rose by more than 30%, by name, with both amounts and the rise in the text', () => {
    const names = new Map([['groceries', 'eBay & Groceries']]);
    const [spike] = deriveInsights('MONTHLY', march, [spend('groceries', 15000)], [spend('groceries', 10000)], names);
    expect(spike).toMatchObject({ kind: 'SPENDING_SPIKE', categoryId: 'groceries', title: 'eBay & Groceries rose 50%' });
    expect(spike?.body).toBe('You spent 150.00 EUR on eBay & Groceries in the month from 2025-03-01, up from 100.00 EUR in the month before (+50%).');
  });

  it('never prints a category id: one without a known name is said so, no category is uncategorised spending', () => {
    const [unknown, none] = deriveInsights('MONTHLY', march, [spend('3f2a-id', 15000), spend(null, 300)], [spend('3f2a-id', 10000), spend(null, 100)]);
    expect(unknown).toMatchObject({ title: 'A category without a known name rose 50%' });
    expect(unknown?.body).not.toContain('3f2a-id');
    expect(none).toMatchObject({ title: 'Uncategorised spending rose 200%', categoryId: null });
  });

  it('does not call a rise of exactly 30%, a new category or a fall a spike', () => {
    const current = [spend('rent', 13000), spend('travel', 50000), spend('fun', 100)];
    const previous = [spend('rent', 10000), spend('fun', 1000)];
    expect(deriveInsights('MONTHLY', march, current, previous).filter((i) => i.kind === 'SPENDING_SPIKE')).toEqual([]);
    expect(deriveInsights('MONTHLY', march, [spend('rent', 13001)], previous)[0]?.kind).toBe('SPENDING_SPIKE');
  });

  it('compares a category only within one currency', () => {
    expect(deriveInsights('WEEKLY', march, [spend('food', 20000, 'USD')], [spend('food', 10000, 'EUR')])).toEqual([]);
  });

  it('warns when spending exceeds income, and suggests saving when at least 10% is left over', () => {
    const insights = deriveInsights('WEEKLY', march, [spend('rent', 1200_00), income(1000_00), spend(null, 50_00, 'USD'), income(100_00, 'USD')], []);
    expect(insights.map((i) => [i.kind, i.subject])).toEqual([
      ['RISK_WARNING', 'RISK_WARNING:WEEKLY:2025-03-01:EUR'],
      ['SAVING_SUGGESTION', 'SAVING_SUGGESTION:WEEKLY:2025-03-01:USD'],
    ]);
    expect(insights[0]?.body).toBe('In the week from 2025-03-01 you spent 1200.00 EUR against an income of 1000.00 EUR: 200.00 EUR more than came in.');
    expect(insights[1]?.title).toBe('50.00 USD left over to save');
    expect(insights[1]?.body).toContain('(50% of income)');
  });

  it('says nothing about saving when less than 10% of income is left, or there was no income', () => {
    expect(deriveInsights('MONTHLY', march, [spend('rent', 95_01), income(100_00)], [])).toEqual([]);
    expect(deriveInsights('MONTHLY', march, [spend('rent', 95_00)], [])).toEqual([]);
  });

  it('totals income and spending per currency without mixing currencies', () => {
    expect(totalsByCurrency([spend('a', 5), spend('b', 7), income(20), spend('a', 3, 'USD')])).toEqual([
      { currency: 'EUR', incomeMinor: 20, spendingMinor: 12 },
      { currency: 'USD', incomeMinor: 0, spendingMinor: 3 },
    ]);
  });

  it('refuses a currency total beyond 2^53 - 1 minor units (BAD_USER_INPUT on startsOn) rather than rounding it', () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(totalsByCurrency([spend('a', max - 1), spend('b', 1)])).toEqual([{ currency: 'EUR', incomeMinor: 0, spendingMinor: max }]);
    expect(() => totalsByCurrency([spend('a', max), spend('b', 1)])).toThrowError(
      expect.objectContaining({
        message: expect.stringMatching(/spending in EUR .* is beyond 9007199254740991 minor units/),
        extensions: { code: 'BAD_USER_INPUT', field: 'startsOn' },
      }),
    );
  });
});
