import { describe, expect, it } from 'vitest';
import { formatMinorUnits, parseDecimal } from './index.js';

describe('money', () => {
  it('parses decimals into minor units of the currency', () => {
    expect(parseDecimal('12.34', 'EUR', 'amount')).toBe(1234);
    expect(parseDecimal('-1,234.5', 'USD', 'amount')).toBe(-123450);
    expect(parseDecimal('500', 'JPY', 'amount')).toBe(500);
    expect(parseDecimal('1.234', 'KWD', 'amount')).toBe(1234);
  });

  it('refuses more decimals than the currency has, naming the field', () => {
    expect(() => parseDecimal('1.234', 'EUR', 'rows[3].amount')).toThrow(/EUR has 2 decimal places/);
    expect(() => parseDecimal('1.5', 'JPY', 'amount')).toThrow(/JPY has 0 decimal places/);
    try {
      parseDecimal('1.234', 'EUR', 'rows[3].amount');
    } catch (error) {
      expect((error as { extensions: Record<string, unknown> }).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'rows[3].amount' });
    }
  });

  it('refuses unknown currencies and text that is not an amount', () => {
    expect(() => parseDecimal('1', 'XXY', 'currency')).toThrow(/not a supported ISO 4217/);
    expect(() => parseDecimal('12,3a', 'EUR', 'amount')).toThrow(/not an amount/);
  });

  it('formats minor units for display', () => {
    expect(formatMinorUnits(1234, 'EUR')).toBe('12.34');
    expect(formatMinorUnits(-5, 'EUR')).toBe('-0.05');
    expect(formatMinorUnits(500, 'JPY')).toBe('500');
  });
});
