import { describe, expect, it } from 'vitest';
import { minorUnitsFromSql, visibleOrNotFound } from './access.js';

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

describe('reads by id', () => {
  const record = { userId: 'owner' };
  it("answers NOT_FOUND for another user's object exactly as for a missing one", () => {
    const other = { user: { id: 'someone', role: 'USER' as const, sessionId: 's' } };
    const foreign = (() => {
      try {
        visibleOrNotFound(other, record, 'Account', 'id-1');
      } catch (error) {
        return error;
      }
    })();
    const missing = (() => {
      try {
        visibleOrNotFound(other, null, 'Account', 'id-1');
      } catch (error) {
        return error;
      }
    })();
    expect(foreign).toMatchObject({ message: 'Account id-1 was not found.', extensions: { code: 'NOT_FOUND' } });
    expect(missing).toEqual(foreign);
  });

  it('lets the owner and admins see the object, and refuses anonymous callers', () => {
    expect(visibleOrNotFound({ user: { id: 'owner', role: 'USER', sessionId: 's' } }, record, 'Account', 'x')).toBe(record);
    expect(visibleOrNotFound({ user: { id: 'admin', role: 'ADMIN', sessionId: 's' } }, record, 'Account', 'x')).toBe(record);
    expect(() => visibleOrNotFound({ user: null }, record, 'Account', 'x')).toThrowError(expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } }));
  });
});
