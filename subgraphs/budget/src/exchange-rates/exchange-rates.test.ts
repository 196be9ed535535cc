import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SAMPLE_RATES_FILE } from '../environment.js';
import { divideRounded, MissingRateError, parseRatesCsv, RateTable } from './exchange-rates.js';

const table = new RateTable([
  { day: '2025-03-03', base: 'EUR', quote: 'USD', rate: '1.0500' },
  { day: '2025-03-04', base: 'EUR', quote: 'USD', rate: '1.0600' },
  { day: '2025-03-03', base: 'EUR', quote: 'JPY', rate: '160.00' },
  { day: '2025-03-03', base: 'EUR', quote: 'GBP', rate: '0.82500' },
  { day: '2025-03-03', base: 'EUR', quote: 'KWD', rate: '0.324' },
]);

describe('conversions', () => {
  it('converts with the rate of the day, or the last one before it, or the first one for days before the table', () => {
    expect(table.convert(10_000, 'EUR', 'USD', '2025-03-03')).toBe(10_500);
    expect(table.convert(10_000, 'EUR', 'USD', '2025-03-04')).toBe(10_600);
    expect(table.convert(10_000, 'EUR', 'USD', '2025-03-09')).toBe(10_600); // a Sunday: Tuesday's rate stands
    expect(table.convert(10_000, 'EUR', 'USD', '2024-12-31')).toBe(10_500);
  });

  it('inverts a rate and crosses two rates through their common base, rounding once', () => {
    expect(table.convert(10_500, 'USD', 'EUR', '2025-03-03')).toBe(10_000);
    // 1.00 USD = 1/1.05 EUR = 160/1.05 JPY = 152.38 -> 152 yen (no minor unit)
    expect(table.convert(100, 'USD', 'JPY', '2025-03-03')).toBe(152);
    expect(table.convert(152, 'JPY', 'USD', '2025-03-03')).toBe(100);
    // GBP 2 digits to KWD 3 digits: 1.00 GBP = 0.324/0.825 KWD = 0.392727 -> 0.393
    expect(table.convert(100, 'GBP', 'KWD', '2025-03-03')).toBe(393);
    expect(table.convert(-100, 'GBP', 'KWD', '2025-03-03')).toBe(-393);
  });

  it('rounds half away from zero, exactly, also beyond what a float holds', () => {
    expect(divideRounded(5n, 2n)).toBe(3n);
    expect(divideRounded(-5n, 2n)).toBe(-3n);
    expect(divideRounded(4n, 3n)).toBe(1n);
    expect(divideRounded(-7n, 4n)).toBe(-2n);
    expect(table.convert(9_007_199_254_740_000, 'EUR', 'EUR', '2025-03-03')).toBe(9_007_199_254_740_000);
    expect(() => table.convert(9_000_000_000_000_000, 'EUR', 'USD', '2025-03-03')).toThrow(/exact range/);
  });

  it('refuses a pair no rate connects, naming the field it was given', () => {
    expect(() => table.convert(100, 'EUR', 'SEK', '2025-03-03', 'homeCurrency')).toThrowError(MissingRateError);
    expect(() => table.convert(100, 'EUR', 'SEK', '2025-03-03', 'homeCurrency')).toThrowError(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'homeCurrency' }) }),
    );
    expect(table.canConvert('USD', 'GBP')).toBe(true);
    expect(table.canConvert('USD', 'SEK')).toBe(false);
  });
});

describe('rate files', () => {
  it('reads the shipped sample: about 90 days of EUR rates for USD, GBP, JPY and CHF on business days', () => {
    const rates = parseRatesCsv(readFileSync(SAMPLE_RATES_FILE, 'utf8'));
    const days = [...new Set(rates.map((r) => r.day))].sort();
    expect(new Set(rates.map((r) => `${r.base}/${r.quote}`))).toEqual(new Set(['EUR/USD', 'EUR/GBP', 'EUR/JPY', 'EUR/CHF']));
    expect(days.length).toBeGreaterThanOrEqual(60);
    expect((Date.parse(days.at(-1)!) - Date.parse(days[0]!)) / 86_400_000).toBeGreaterThanOrEqual(85);
    expect(days.every((d) => ![0, 6].includes(new Date(`${d}T00:00:00Z`).getUTCDay()))).toBe(true);
    const usd = rates.filter((r) => r.quote === 'USD').map((r) => Number(r.rate));
    expect(Math.min(...usd)).toBeGreaterThan(1);
    expect(Math.max(...usd)).toBeLessThan(1.3);
  });

  it('refuses a bad row, naming it, and a file without the header', () => {
    const file = (row: string) => `date,base,quote,rate\n2025-03-03,EUR,USD,1.05\n${row}\n`;
    const badRow = (row: number) => expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'csv', row }) });
    for (const row of [
      '2025-02-30,EUR,USD,1.05',
      '2025-03-04,EUR,XXX,1.05',
      '2025-03-04,EUR,EUR,1',
      '2025-03-04,EUR,USD,-1',
      '2025-03-04,EUR,USD,1.0000000000001',
      '2025-03-04,EUR,USD',
    ]) {
      expect(() => parseRatesCsv(file(row)), row).toThrowError(badRow(2));
    }
    expect(() => parseRatesCsv('day,from,to,rate\n2025-03-03,EUR,USD,1.05\n')).toThrowError(expect.objectContaining({ extensions: expect.objectContaining({ field: 'csv' }) }));
  });
});
