import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TransactionRecord } from './transaction.entity.js';
import { checkPageSize, checkSplits, checkTags, decodeCursor, encodeCursor, selectTransactions, spendingLines } from './transactions.js';

const badInputOn = (field: string) => expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field }) });
const transaction = (fields: Partial<TransactionRecord>) =>
  Object.assign(new TransactionRecord(), { id: randomUUID(), bookedAt: new Date('2025-03-02T09:30:00.123Z'), amount: -250, payee: 'Corner Market', ...fields });

describe('transaction pages', () => {
  it('reads back the position a cursor was made from, in each sort order', () => {
    const t = transaction({});
    expect(decodeCursor(encodeCursor('BOOKED_AT_DESC', t), 'BOOKED_AT_DESC')).toEqual({ key: t.bookedAt, id: t.id });
    expect(decodeCursor(encodeCursor('AMOUNT_ASC', t), 'AMOUNT_ASC')).toEqual({ key: -250, id: t.id });
    expect(decodeCursor(encodeCursor('PAYEE_DESC', t), 'PAYEE_DESC')).toEqual({ key: 'Corner Market', id: t.id });
  });

  it('refuses cursors it did not issue, or issued for another sort order, naming `after`', () => {
    const forged = [
      'not base64 at all!',
      Buffer.from('["BOOKED_AT_DESC","2025-03-02T00:00:00Z"]').toString('base64url'),
      Buffer.from(`["BOOKED_AT_DESC","yesterday","${randomUUID()}"]`).toString('base64url'),
      Buffer.from('["BOOKED_AT_DESC","2025-03-02T00:00:00Z","1 or 1=1"]').toString('base64url'),
      Buffer.from(`["AMOUNT_ASC","12; drop table transactions","${randomUUID()}"]`).toString('base64url'),
      Buffer.from('{"offset":10}').toString('base64url'),
      encodeCursor('AMOUNT_ASC', transaction({})),
    ];
    for (const cursor of forged) expect(() => decodeCursor(cursor, cursor === forged[4] ? 'AMOUNT_ASC' : 'BOOKED_AT_DESC'), cursor).toThrowError(badInputOn('after'));
  });

  it('takes 50 by default and 1 to 200 when asked, refusing anything else as `first`', () => {
    expect(checkPageSize(undefined)).toBe(50);
    expect(checkPageSize(null)).toBe(50);
    expect(checkPageSize(1)).toBe(1);
    expect(checkPageSize(200)).toBe(200);
    for (const first of [0, -1, 201, 1.5]) expect(() => checkPageSize(first)).toThrowError(badInputOn('first'));
  });
});

describe('transaction filters', () => {
  const userId = randomUUID();

  it('always scopes the selection to the user, with every value as a parameter', () => {
    expect(selectTransactions(userId, {})).toEqual({ sql: 't.user_id = ?', params: [userId] });
    const from = new Date('2025-03-01T00:00:00Z');
    const selection = selectTransactions(userId, { from, payee: "o'Brien %", tags: ['Holiday', 'holiday', 'food'], minAmount: -500 });
    expect(selection.sql.startsWith('t.user_id = ? and ')).toBe(true);
    expect(selection.sql).not.toContain("o'Brien");
    expect(selection.params).toEqual([userId, from, -500, "%o'Brien \\%%", 'holiday', 'food']);
  });

  it('refuses malformed ids, an inverted time window or amount range, and empty text, naming the filter field', () => {
    const from = new Date('2025-03-01T00:00:00Z');
    expect(() => selectTransactions(userId, { accountId: 'x' })).toThrowError(badInputOn('filter.accountId'));
    expect(() => selectTransactions(userId, { categoryId: 'x' })).toThrowError(badInputOn('filter.categoryId'));
    expect(() => selectTransactions(userId, { from, to: from })).toThrowError(badInputOn('filter.to'));
    expect(() => selectTransactions(userId, { minAmount: 10, maxAmount: -10 })).toThrowError(badInputOn('filter.maxAmount'));
    expect(() => selectTransactions(userId, { minAmount: 1.5 })).toThrowError(badInputOn('filter.minAmount'));
    expect(() => selectTransactions(userId, { search: '  ' })).toThrowError(badInputOn('filter.search'));
    expect(() => selectTransactions(userId, { tags: ['x'.repeat(41)] })).toThrowError(badInputOn('filter.tags'));
  });
});

describe('splits and tags', () => {
  const part = (amountMinor: number, currency = 'EUR') => ({ amount: { amountMinor, currency } });

  it('accepts parts that sum exactly to the transaction', () => {
    expect(checkSplits([part(-3000), part(-1250)], -4250, 'EUR', 'input.splits').map((p) => p.amount)).toEqual([-3000, -1250]);
  });

  it('refuses parts that do not sum, a single part, a zero part or a part in another currency, naming the field', () => {
    expect(() => checkSplits([part(-3000), part(-1000)], -4250, 'EUR', 'input.splits')).toThrowError(badInputOn('input.splits'));
    expect(() => checkSplits([part(-4250)], -4250, 'EUR', 'input.splits')).toThrowError(badInputOn('input.splits'));
    expect(() => checkSplits([part(-4250), part(0)], -4250, 'EUR', 'input.splits')).toThrowError(badInputOn('input.splits[1].amount.amountMinor'));
    expect(() => checkSplits([part(-4000), part(-250, 'USD')], -4250, 'EUR', 'input.splits')).toThrowError(badInputOn('input.splits[1].amount.currency'));
  });

  it('lower-cases and de-duplicates tags and refuses an empty or long one', () => {
    expect(checkTags([' Holiday ', 'holiday', 'Paris  trip'], 'input.tags')).toEqual(['holiday', 'paris trip']);
    expect(() => checkTags(['ok', ' '], 'input.tags')).toThrowError(badInputOn('input.tags[1]'));
    expect(() =>
      checkTags(
        Array.from({ length: 21 }, (_, i) => `t${i}`),
        'input.tags',
      ),
    ).toThrowError(badInputOn('input.tags'));
  });

  it('counts a split transaction in the categories of its parts, and a transfer in none', () => {
    const bookedAt = new Date('2025-03-02T00:00:00Z');
    expect(spendingLines({ categoryId: 'a', bookedAt }, [])).toEqual([{ categoryId: 'a', bookedAt }]);
    expect(spendingLines({ categoryId: null, bookedAt }, [{ categoryId: 'b' }, { categoryId: null }, { categoryId: 'c' }])).toEqual([
      { categoryId: 'b', bookedAt },
      { categoryId: 'c', bookedAt },
    ]);
    expect(spendingLines({ categoryId: null, bookedAt }, [])).toEqual([]);
  });
});
