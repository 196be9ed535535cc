import { describe, expect, it } from 'vitest';
import { minorUnitsFromSql } from './access.js';

describe('amounts read from SQL', () => {
  it('turns bigint text into an exact number', () => {
    expect(minorUnitsFromSql('-4250')).toBe(-4250);
    expect(minorUnitsFromSql('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(minorUnitsFromSql(12)).toBe(12);
  });

  it('refuses a sum a number cannot hold exactly, rather than rounding it', () => {
    for (const value of ['9007199254740993', '-9007199254740993', '12.5', '', 'NaN', null]) {
      expect(() => minorUnitsFromSql(value), String(value)).toThrow();
    }
  });
});
