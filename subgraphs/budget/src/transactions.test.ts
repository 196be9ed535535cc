import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkPageSize, decodeCursor, encodeCursor, transactionsWhere } from './transactions.js';

const badInputOn = (field: string) => expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field } });

describe('transaction pages', () => {
  it('reads back the position a cursor was made from', () => {
    const position = { bookedAt: new Date('2025-03-02T09:30:00.123Z'), id: randomUUID() };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
  });

  it('refuses cursors it did not issue, naming `after`', () => {
    const forged = [
      'not base64 at all!',
      Buffer.from('["2025-03-02T00:00:00Z"]').toString('base64url'),
      Buffer.from(`["yesterday","${randomUUID()}"]`).toString('base64url'),
      Buffer.from('["2025-03-02T00:00:00Z","1 or 1=1"]').toString('base64url'),
      Buffer.from('{"offset":10}').toString('base64url'),
    ];
    for (const cursor of forged) expect(() => decodeCursor(cursor), cursor).toThrowError(badInputOn('after'));
  });

  it('takes 50 by default and 1 to 200 when asked, refusing anything else as `first`', () => {
    expect(checkPageSize(undefined)).toBe(50);
    expect(checkPageSize(null)).toBe(50);
    expect(checkPageSize(1)).toBe(1);
    expect(checkPageSize(200)).toBe(200);
    for (const first of [0, -1, 201, 1.5]) expect(() => checkPageSize(first)).toThrowError(badInputOn('first'));
  });

  it('always scopes the filter to the user, and refuses malformed ids and an inverted window', () => {
    const userId = randomUUID();
    expect(transactionsWhere(userId, {})).toEqual({ userId });
    const from = new Date('2025-03-01T00:00:00Z');
    expect(transactionsWhere(userId, { from })).toEqual({ userId, bookedAt: { $gte: from } });
    expect(() => transactionsWhere(userId, { accountId: 'x' })).toThrowError(badInputOn('filter.accountId'));
    expect(() => transactionsWhere(userId, { categoryId: 'x' })).toThrowError(badInputOn('filter.categoryId'));
    expect(() => transactionsWhere(userId, { from, to: from })).toThrowError(badInputOn('filter.to'));
  });
});
