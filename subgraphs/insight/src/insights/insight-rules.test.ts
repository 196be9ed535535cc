import { describe, expect, it } from 'vitest';
import { deriveInsights, deriveTrendInsights, totalsByCurrency, type FlowLine, type MonthTotals } from './insight-rules.js';
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

describe('figures behind the insights', () => {
  it('each insight of a report states the amounts it rests on, in minor units and currency', () => {
    const [spike] = deriveInsights('MONTHLY', march, [spend('groceries', 15000)], [spend('groceries', 10000)]);
    expect(spike?.figures?.amounts).toEqual([
      { name: 'spending', amountMinor: 15000, currency: 'EUR' },
      { name: 'previousSpending', amountMinor: 10000, currency: 'EUR' },
    ]);
    const [risk, saving] = deriveInsights('WEEKLY', march, [spend('rent', 1200_00), income(1000_00), spend(null, 50_00, 'USD'), income(100_00, 'USD')], []);
    expect(risk?.figures?.amounts.map((a) => [a.name, a.amountMinor])).toEqual([
      ['income', 1000_00],
      ['spending', 1200_00],
      ['shortfall', 200_00],
    ]);
    expect(saving?.figures?.amounts.map((a) => [a.name, a.amountMinor, a.currency])).toEqual([
      ['income', 100_00, 'USD'],
      ['spending', 50_00, 'USD'],
      ['surplus', 50_00, 'USD'],
    ]);
  });
});

describe('trends over the months before a monthly report', () => {
  /** Months latest first, from 2025-06 back; each [income, spending] in EUR minor units. */
  const months = (...flows: [number, number][]): MonthTotals[] =>
    flows.map(([incomeMinor, spendingMinor], i) => ({
      month: `2025-${String(6 - i).padStart(2, '0')}-01`,
      totals: [{ currency: 'EUR', incomeMinor, spendingMinor }],
    }));
  const kinds = (insights: ReturnType<typeof deriveTrendInsights>) => insights.map((i) => i.kind);

  it('warns when spending exceeded income in each of the last three months, with the totals', () => {
    const [warning, ...rest] = deriveTrendInsights(months([2000_00, 2100_00], [2000_00, 2300_00], [2000_00, 2050_00], [2500_00, 1000_00]));
    expect(rest).toEqual([]);
    expect(warning).toMatchObject({
      kind: 'RISK_WARNING',
      subject: 'RISK_WARNING:TREND:2025-06-01:EUR',
      title: 'You have spent more than you earned in EUR for 3 months running',
    });
    expect(warning?.body).toContain('In the 3 months from 2025-04-01 you spent 6450.00 EUR against an income of 6000.00 EUR: 450.00 EUR more than came in');
    expect(warning?.figures?.amounts.map((a) => [a.name, a.amountMinor])).toEqual([
      ['income', 6000_00],
      ['spending', 6450_00],
      ['shortfall', 450_00],
    ]);
    // Two bad months and a good one, or three that are not running (a gap), are no trend.
    expect(kinds(deriveTrendInsights(months([2000_00, 2100_00], [2000_00, 2300_00], [2000_00, 1950_00])))).toEqual([]);
    const gap = months([2000_00, 2100_00], [2000_00, 2300_00], [2000_00, 2050_00]);
    gap[2]!.month = '2025-03-01';
    expect(kinds(deriveTrendInsights(gap))).toEqual([]);
  });

  it('suggests a standing transfer of the smallest surplus when at least 10% was left over in each of three months', () => {
    const [saving, ...rest] = deriveTrendInsights(months([3000_00, 2500_00], [3000_00, 2600_00], [3000_00, 2400_00]));
    expect(rest).toEqual([]);
    expect(saving).toMatchObject({ kind: 'SAVING_SUGGESTION', subject: 'SAVING_SUGGESTION:TREND:2025-06-01:EUR', title: 'Set aside 400.00 EUR a month' });
    expect(saving?.body).toContain('(500.00 EUR a month on average, never less than 400.00 EUR)');
    expect(saving?.figures?.amounts).toEqual([
      { name: 'smallestSurplus', amountMinor: 400_00, currency: 'EUR' },
      { name: 'averageSurplus', amountMinor: 500_00, currency: 'EUR' },
    ]);
    // One month under 10%: no habit to build on.
    expect(kinds(deriveTrendInsights(months([3000_00, 2500_00], [3000_00, 2750_00], [3000_00, 2400_00])))).toEqual([]);
  });

  it('suggests investing what was kept above a buffer of three months of spending', () => {
    const insights = deriveTrendInsights(months([4000_00, 2000_00], [4000_00, 2000_00], [4000_00, 2000_00], [4000_00, 2000_00], [4000_00, 2000_00], [4000_00, 2000_00]));
    expect(kinds(insights)).toEqual(['SAVING_SUGGESTION', 'INVESTMENT_SUGGESTION']);
    const invest = insights[1]!;
    // Kept 6 x 2000 = 12000; buffer 3 x 2000 = 6000; 6000 above it.
    expect(invest).toMatchObject({ subject: 'INVESTMENT_SUGGESTION:2025-06-01:EUR', title: '6000.00 EUR could be invested' });
    expect(invest.body).toBe(
      'Over the 6 months from 2025-01-01 you kept 12000.00 EUR of your income in EUR. You spend about 2000.00 EUR a month, so 3 months of it, ' +
        '6000.00 EUR, is a sound cash buffer; the 6000.00 EUR above it is sitting idle and could be invested for the longer term.',
    );
    expect(invest.figures?.amounts.map((a) => [a.name, a.amountMinor])).toEqual([
      ['kept', 12000_00],
      ['monthlySpending', 2000_00],
      ['buffer', 6000_00],
      ['investable', 6000_00],
    ]);
    // Kept no more than the buffer: nothing idle. Fewer than three months of history: too early to say.
    expect(
      kinds(deriveTrendInsights(months([3000_00, 2000_00], [3000_00, 2000_00], [3000_00, 2000_00], [3000_00, 2000_00], [3000_00, 2000_00], [3000_00, 2000_00]))),
    ).not.toContain('INVESTMENT_SUGGESTION');
    expect(kinds(deriveTrendInsights(months([90000_00, 1000_00], [90000_00, 1000_00])))).toEqual([]);
  });

  it('keeps currencies apart and looks only at currencies of the report month', () => {
    const mixed: MonthTotals[] = months([2000_00, 2100_00], [2000_00, 2300_00], [2000_00, 2050_00]).map((m, i) => ({
      ...m,
      totals: i === 0 ? m.totals : [...m.totals, { currency: 'USD', incomeMinor: 0, spendingMinor: 500_00 }],
    }));
    expect(deriveTrendInsights(mixed).map((i) => i.subject)).toEqual(['RISK_WARNING:TREND:2025-06-01:EUR']);
  });
});
