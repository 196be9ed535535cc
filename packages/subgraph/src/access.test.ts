import { describe, expect, it } from 'vitest';
import { isUuid, ownedOrNotFound, visibleOrNotFound } from './access.js';

const owner = { id: 'owner', role: 'USER' as const, sessionId: 's' };
const stranger = { id: 'someone', role: 'USER' as const, sessionId: 's' };
const admin = { id: 'admin', role: 'ADMIN' as const, sessionId: 's' };
const record = { userId: 'owner' };

const thrown = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
};

describe('reads by id', () => {
  it("answers NOT_FOUND for another user's object exactly as for a missing one", () => {
    const foreign = thrown(() => visibleOrNotFound(stranger, record, 'Account', 'id-1'));
    const missing = thrown(() => visibleOrNotFound(stranger, null, 'Account', 'id-1'));
    expect(foreign).toMatchObject({ message: 'Account id-1 was not found.', extensions: { code: 'NOT_FOUND' } });
    expect(missing).toEqual(foreign);
  });

  it('lets the owner and admins see the object', () => {
    expect(visibleOrNotFound(owner, record, 'Account', 'x')).toBe(record);
    expect(visibleOrNotFound(admin, record, 'Account', 'x')).toBe(record);
  });

  it('names the input the id came in', () => {
    expect(thrown(() => visibleOrNotFound(stranger, record, 'Account', 'x', 'input.accountId'))).toMatchObject({ extensions: { code: 'NOT_FOUND', field: 'input.accountId' } });
  });
});

describe('writes by id', () => {
  it("refuses another user's object, an admin's write included, as NOT_FOUND naming the field", () => {
    expect(ownedOrNotFound('owner', record, 'Account', 'x', 'input.accountId')).toBe(record);
    for (const caller of ['someone', 'admin']) {
      expect(thrown(() => ownedOrNotFound(caller, record, 'Account', 'x', 'input.accountId'))).toMatchObject({
        message: 'Account x was not found.',
        extensions: { code: 'NOT_FOUND', field: 'input.accountId' },
      });
    }
  });
});

describe('ids', () => {
  it('takes UUIDs in either case and nothing else', () => {
    expect(isUuid('4b1c0f1e-0000-4000-8000-00000000000a')).toBe(true);
    expect(isUuid('4B1C0F1E-0000-4000-8000-00000000000A')).toBe(true);
    for (const bad of ['', 'abc', '4b1c0f1e-0000-4000-8000-00000000000', "4b1c0f1e-0000-4000-8000-00000000000a' or 1=1"]) expect(isUuid(bad)).toBe(false);
  });
});
