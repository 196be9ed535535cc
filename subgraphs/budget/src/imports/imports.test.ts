import { describe, expect, it } from 'vitest';
import { findDuplicates, readOfxStatement } from './imports.js';
import { ofxSgml } from './statement-samples.js';

const at = (iso: string) => new Date(iso);
const line = (row: number, amount: number, payee: string, day: string, externalId: string | null = null) => ({
  row,
  bookedAt: at(`${day}T00:00:00Z`),
  amount,
  payee,
  notes: null,
  externalId,
});

describe('duplicate detection', () => {
  const booked = [
    { id: 'b1', amount: -450, payee: 'Coffee Bar', bookedAt: at('2025-03-03T08:00:00Z'), externalId: null },
    { id: 'b2', amount: -9_900, payee: 'Power & Light', bookedAt: at('2025-03-10T00:00:00Z'), externalId: 'FIT-9' },
  ];

  it('matches the same account, amount and payee (ignoring case) within the window, each booked line once', () => {
    const lines = [line(2, -450, 'COFFEE BAR', '2025-03-04'), line(3, -450, 'Coffee Bar', '2025-03-04'), line(4, -450, 'Coffee Bar', '2025-03-09')];
    expect(findDuplicates(lines, booked, 3)).toEqual(['b1', null, null]);
    expect(findDuplicates(lines, booked, 0)).toEqual([null, null, null]);
  });

  it('matches a bank id regardless of date and payee, and not a different amount', () => {
    expect(findDuplicates([line(1, -9_900, 'PWR&LGHT', '2025-04-30', 'FIT-9')], booked, 3)).toEqual(['b2']);
    expect(findDuplicates([line(1, -9_901, 'Power & Light', '2025-03-10')], booked, 3)).toEqual([null]);
  });
});

describe('OFX statements into an account', () => {
  it('reads amounts into the minor units of the account and keeps the bank id', () => {
    const lines = readOfxStatement(ofxSgml([{ posted: '20250303', amount: '-42.5', fitId: 'A1', name: 'Shop', memo: 'Shop' }]), 'EUR');
    expect(lines).toEqual([{ row: 1, bookedAt: at('2025-03-03T00:00:00Z'), amount: -4_250, payee: 'Shop', notes: null, externalId: 'A1' }]);
  });

  it('refuses a statement in another currency and an amount with too many decimals, naming the transaction', () => {
    const one = (amount: string) => ofxSgml([{ posted: '20250303', amount, fitId: 'A1', name: 'Shop' }], { currency: 'USD' });
    expect(() => readOfxStatement(one('-1.00'), 'EUR')).toThrowError(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'input.content' } }));
    expect(() => readOfxStatement(one('-1.005'), 'USD')).toThrowError(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'input.content', row: 1 } }));
  });
});
