import { requireUser, type AuthContext } from '@analytica/auth';
import { AppError, ErrorCode } from '@analytica/errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs; anything else cannot name an object, and must not reach a uuid column as a cast error. */
export const isUuid = (value: string) => UUID.test(value);

/**
 * NOT_FOUND that also names the input path the client sent, e.g. "input.accountId". A missing
 * object and another user's object get the same answer, so that ids cannot be probed.
 */
export const notFoundAt = (field: string | undefined, what: string, id: string) => new AppError(ErrorCode.NOT_FOUND, `${what} ${id} was not found.`, field ? { field } : {});

/**
 * Reads by id: the owner and admins see the object; anyone else is told it does not exist.
 * (Field resolvers on an object already fetched use assertOwnerOrAdmin, which says FORBIDDEN.)
 */
export function visibleOrNotFound<T extends { userId: string }>(ctx: AuthContext, record: T | null | undefined, what: string, id: string): T {
  const user = requireUser(ctx);
  if (!record || (record.userId !== user.id && user.role !== 'ADMIN')) throw notFoundAt(undefined, what, id);
  return record;
}

/** Writes: only the caller's own objects, admins included (nobody books into another person's account). */
export function ownedOrNotFound<T extends { userId: string }>(userId: string, record: T | null | undefined, field: string, what: string, id: string): T {
  if (!record || record.userId !== userId) throw notFoundAt(field, what, id);
  return record;
}

/** bigint values and sums come back from pg as text; money must stay exact, so refuse what a number cannot hold. */
export function minorUnitsFromSql(value: unknown): number {
  const amount = typeof value === 'number' ? value : /^-?\d+$/.test(String(value)) ? Number(String(value)) : Number.NaN;
  if (!Number.isSafeInteger(amount)) throw new Error(`amount ${String(value)} is not an integer within the exact range`);
  return amount;
}
