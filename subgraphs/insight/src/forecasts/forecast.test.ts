import { describe, expect, it } from 'vitest';
import { parseDay } from '../periods.js';
import { forecastBudget, historyStart, type SpendingDay } from './forecast.js';

const DAY_MS = 86_400_000;
const day = (text: string) => parseDay(text, 'day');
const plus = (text: string, n: number) => new Date(day(text).getTime() + n * DAY_MS).toISOString().slice(0, 10);

/**
 * A household's groceries: a shop every 2 or 3 days of 32.40 to 58.90 EUR (a fixed pattern, so the
 * figures below can be worked out by hand), about 44 EUR every 2.5 days, some 530 EUR a month. Nine
 * amounts, so that no shop comes back at its amount a month later (that would be a recurring payment).
 */
const SHOPS = [4520, 3240, 5890, 4110, 4730, 3980, 5210, 4360, 3620];
function groceries(from: string, to: string): SpendingDay[] {
  const days: SpendingDay[] = [];
  let i = 0;
  for (let n = 0, d = from; d <= to; n += i % 2 ? 3 : 2, d = plus(from, n)) days.push({ day: d, amountMinor: SHOPS[i++ % SHOPS.length]! });
  return days;
}
const sum = (days: SpendingDay[], from: string, to: string) => days.filter((d) => d.day >= from && d.day <= to).reduce((a, d) => a + d.amountMinor, 0);

describe('budget forecast', () => {
  const history = groceries('2025-01-01', '2025-04-30');

  it('reads three months of history for a monthly budget and six weeks for a weekly one', () => {
    expect(historyStart('MONTHLY', day('2025-04-01')).toISOString().slice(0, 10)).toBe('2025-01-01');
    expect(historyStart('WEEKLY', day('2025-04-07')).toISOString().slice(0, 10)).toBe('2025-02-24');
  });

  it('early in the month, leans on the months before: slow first days do not hide a budget that will not last', () => {
    const days = history.filter((d) => d.day <= '2025-04-03');
    const spent = sum(days, '2025-04-01', '2025-04-03');
    const forecast = forecastBudget({ period: 'MONTHLY', startsOn: day('2025-04-01'), today: day('2025-04-03'), limitMinor: 450_00, days })!;
    // The median of January to March, per day, weighted 27/30; April's own pace, 3/30.
    const monthly = [sum(days, '2025-01-01', '2025-01-31') / 31, sum(days, '2025-02-01', '2025-02-28') / 28, sum(days, '2025-03-01', '2025-03-31') / 31].sort((a, b) => a - b);
    const rate = (3 / 30) * (spent / 3) + (27 / 30) * monthly[1]!;
    expect(forecast.spentMinor).toBe(spent);
    expect(forecast.dailyRateMinor).toBe(Math.round(rate));
    expect(forecast.projectedMinor).toBe(spent + Math.round(rate * 27));
    expect(forecast.projectedMinor).toBeGreaterThan(480_00);
    expect(forecast.projectedMinor).toBeLessThan(560_00);
    expect(forecast).toMatchObject({ exceeded: false, daysLeft: 27, endsOn: '2025-04-30', recurring: [] });
    // Around the 25th: 450 EUR at about 17.60 EUR a day.
    expect(forecast.crossingOn! >= '2025-04-23' && forecast.crossingOn! <= '2025-04-27').toBe(true);
    expect(forecast.overByMinor).toBe(forecast.projectedMinor - 450_00);
  });

  it('late in the month, follows the current pace, and sees a budget that will just hold', () => {
    const days = history.filter((d) => d.day <= '2025-04-27');
    const spent = sum(days, '2025-04-01', '2025-04-27');
    const forecast = forecastBudget({ period: 'MONTHLY', startsOn: day('2025-04-01'), today: day('2025-04-27'), limitMinor: 600_00, days })!;
    expect(forecast.spentMinor).toBe(spent);
    expect(forecast.daysLeft).toBe(3);
    expect(forecast.projectedMinor).toBeGreaterThan(spent + 3 * 15_00);
    expect(forecast.projectedMinor).toBeLessThan(600_00);
    expect(forecast).toMatchObject({ exceeded: false, crossingOn: null });
    expect(forecast.overByMinor).toBeLessThan(0);
  });

  it('a budget already exceeded: the day it crossed, and how far over it is heading', () => {
    const days = history.filter((d) => d.day <= '2025-04-20');
    const forecast = forecastBudget({ period: 'MONTHLY', startsOn: day('2025-04-01'), today: day('2025-04-20'), limitMinor: 300_00, days })!;
    let running = 0;
    const crossed = days.filter((d) => d.day >= '2025-04-01').find((d) => (running += d.amountMinor) > 300_00)!.day;
    expect(forecast).toMatchObject({ exceeded: true, crossingOn: crossed });
    expect(forecast.spentMinor).toBeGreaterThan(300_00);
    expect(forecast.projectedMinor).toBeGreaterThan(forecast.spentMinor);
  });

  it('a budget with no spending at all: nothing projected, nothing crossed', () => {
    expect(forecastBudget({ period: 'WEEKLY', startsOn: day('2025-04-07'), today: day('2025-04-09'), limitMinor: 100_00, days: [] })).toMatchObject({
      spentMinor: 0,
      projectedMinor: 0,
      overByMinor: -100_00,
      dailyRateMinor: 0,
      crossingOn: null,
      exceeded: false,
      daysLeft: 4,
      endsOn: '2025-04-13',
    });
  });

  it('counts rent once on its day, not spread over the month, whether it is paid already or still to come', () => {
    const rent = (d: string) => ({ day: d, amountMinor: 950_00 });
    const rentHistory = [rent('2025-01-28'), rent('2025-02-28'), rent('2025-03-28')];
    // Before it is paid: due on the 28th, and that is the day the 900 EUR budget goes over.
    const due = forecastBudget({ period: 'MONTHLY', startsOn: day('2025-04-01'), today: day('2025-04-10'), limitMinor: 900_00, days: rentHistory })!;
    expect(due).toMatchObject({ spentMinor: 0, projectedMinor: 950_00, dailyRateMinor: 0, recurringDueMinor: 950_00, crossingOn: '2025-04-28', exceeded: false });
    expect(due.recurring).toEqual([{ amountMinor: 950_00, lastOn: '2025-03-28', dueOn: '2025-04-28' }]);
    // Paid on the 28th: nothing more is expected this month, however few days have passed since.
    const paid = forecastBudget({ period: 'MONTHLY', startsOn: day('2025-04-01'), today: day('2025-04-28'), limitMinor: 1000_00, days: [...rentHistory, rent('2025-04-28')] })!;
    expect(paid).toMatchObject({ spentMinor: 950_00, projectedMinor: 950_00, recurringDueMinor: 0, crossingOn: null });
    // The naive pace would have said 950 / 28 x 30 = 1017.86 EUR.
  });

  it("the month rent rises by 3 %, counts the new rent once as that month's rent, not as the old one still due plus daily spending", () => {
    const rent = (d: string, amountMinor: number) => ({ day: d, amountMinor });
    const days = [rent('2025-01-03', 900_00), rent('2025-02-03', 900_00), rent('2025-03-03', 900_00), rent('2025-04-03', 927_00)];
    const forecast = forecastBudget({ period: 'MONTHLY', startsOn: day('2025-04-01'), today: day('2025-04-10'), limitMinor: 1000_00, days })!;
    // Not 900 expected tomorrow + 927 spread over the days left (2 445 EUR): 927 paid, nothing more to come.
    expect(forecast).toMatchObject({ spentMinor: 927_00, projectedMinor: 927_00, dailyRateMinor: 0, recurringDueMinor: 0, crossingOn: null, exceeded: false });
    expect(forecast.recurring).toEqual([{ amountMinor: 927_00, lastOn: '2025-04-03', dueOn: null }]);
  });

  it("a bill paid within 2 days of its due day at up to 10 % more is that month's bill; a similar amount a week early is not", () => {
    // A metered bill due on the 15th, moved to Monday the 17th when the 15th was a Saturday.
    const bills = [
      { day: '2025-01-15', amountMinor: 60_00 },
      { day: '2025-02-17', amountMinor: 60_80 },
      { day: '2025-03-17', amountMinor: 59_90 },
    ];
    // April's, 9 % more, on Tuesday the 15th: 2 days before a month after March's.
    const paid = forecastBudget({
      period: 'MONTHLY',
      startsOn: day('2025-04-01'),
      today: day('2025-04-20'),
      limitMinor: 100_00,
      days: [...bills, { day: '2025-04-15', amountMinor: 65_30 }],
    })!;
    expect(paid).toMatchObject({ spentMinor: 65_30, projectedMinor: 65_30, dailyRateMinor: 0, recurringDueMinor: 0 });
    expect(paid.recurring).toEqual([{ amountMinor: 65_30, lastOn: '2025-04-15', dueOn: null }]);
    // 61 EUR on the 9th, 8 days before the bill is due: everyday spending, and the bill still to come.
    const early = forecastBudget({
      period: 'MONTHLY',
      startsOn: day('2025-04-01'),
      today: day('2025-04-10'),
      limitMinor: 100_00,
      days: [...bills, { day: '2025-04-09', amountMinor: 61_00 }],
    })!;
    expect(early.recurring).toEqual([{ amountMinor: 59_90, lastOn: '2025-03-17', dueOn: '2025-04-17' }]);
    expect(early.recurringDueMinor).toBe(59_90);
    expect(early.dailyRateMinor).toBeGreaterThan(0);
  });

  it('takes rent out of the daily rate of a category that also has everyday spending', () => {
    const shops = groceries('2025-01-01', '2025-04-10');
    // A 120 EUR delivery box on the first day of each month without a shop (the aggregate is per day).
    const box = ['2025-01', '2025-02', '2025-03', '2025-04'].map((month) => {
      let d = `${month}-02`;
      while (shops.some((s) => s.day === d)) d = plus(d, 1);
      return { day: d, amountMinor: 120_00 };
    });
    expect(box.every((b) => b.day <= '2025-04-10')).toBe(true);
    const withBox = forecastBudget({ period: 'MONTHLY', startsOn: day('2025-04-01'), today: day('2025-04-10'), limitMinor: 700_00, days: [...shops, ...box] })!;
    const without = forecastBudget({ period: 'MONTHLY', startsOn: day('2025-04-01'), today: day('2025-04-10'), limitMinor: 700_00, days: shops })!;
    // Paid already this month: it adds to spending, not to the pace.
    expect(withBox.recurring).toEqual([{ amountMinor: 120_00, lastOn: box[3]!.day, dueOn: null }]);
    expect(withBox.spentMinor).toBe(without.spentMinor + 120_00);
    expect(withBox.dailyRateMinor).toBe(without.dailyRateMinor);
    expect(withBox.projectedMinor).toBe(without.projectedMinor + 120_00);
  });

  it('does not forecast a period that has not started or is over', () => {
    expect(forecastBudget({ period: 'MONTHLY', startsOn: day('2025-04-01'), today: day('2025-03-31'), limitMinor: 1, days: [] })).toBeNull();
    expect(forecastBudget({ period: 'MONTHLY', startsOn: day('2025-04-01'), today: day('2025-05-01'), limitMinor: 1, days: [] })).toBeNull();
  });
});
