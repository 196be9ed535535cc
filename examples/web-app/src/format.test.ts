import { CombinedGraphQLErrors } from '@apollo/client/errors';
import { describe, expect, it } from 'vitest';
import { describeError, parseAmount } from './format';

describe('parseAmount', () => {
  it('reads what people type as minor units of the currency, without floating point', () => {
    expect(parseAmount('25', 'EUR')).toBe(2500);
    expect(parseAmount('25.5', 'EUR')).toBe(2550);
    expect(parseAmount('0,30', 'EUR')).toBe(30);
    expect(parseAmount(' 1234.56 ', 'USD')).toBe(123_456);
    expect(parseAmount('0.07', 'EUR')).toBe(7); // 0.07 * 100 is 7.000000000000001 in floating point
    expect(parseAmount('500', 'JPY')).toBe(500);
    expect(parseAmount('1.234', 'BHD')).toBe(1234);
  });

  it('refuses what is not an amount in that currency', () => {
    for (const text of ['', '12.3.4', '-5', '1e3', 'ten', '12.345']) expect(parseAmount(text, 'EUR')).toBeNull();
    expect(parseAmount('500.5', 'JPY')).toBeNull();
  });
});

describe('describeError', () => {
  it("shows the API's message with its extensions.code", () => {
    const error = new CombinedGraphQLErrors({ errors: [{ message: 'That code is not right; 4 tries left.', extensions: { code: 'BAD_USER_INPUT' } }] });
    expect(describeError(error)).toBe('That code is not right; 4 tries left. (BAD_USER_INPUT)');
  });

  it('says the API cannot be reached when fetch fails', () => {
    expect(describeError(new TypeError('Failed to fetch'))).toMatch(/cannot be reached/);
  });
});
