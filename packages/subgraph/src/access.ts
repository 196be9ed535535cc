import type { AuthUser } from '@analytica/auth';
import { notFound } from '@analytica/errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Ids are UUIDs. Anything else cannot name a row, and is answered like an unknown id rather than
 * passed to PostgreSQL, which would reject it as a malformed uuid.
 */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * Reads by id: the owner and admins see the object; anybody else is told it does not exist, as for
 * a missing one, so that ids cannot be probed. `field` names the input path the id came in, if any.
 * (Field resolvers on an object already fetched use assertOwnerOrAdmin, which says FORBIDDEN.)
 */
export function visibleOrNotFound<T extends { userId: string }>(viewer: AuthUser, record: T | null | undefined, what: string, id: string, field?: string): T {
  if (!record || (record.userId !== viewer.id && viewer.role !== 'ADMIN')) throw notFound(what, id, field);
  return record;
}

/** Writes: only the caller's own objects, admins included (nobody acts in another person's name). */
export function ownedOrNotFound<T extends { userId: string }>(userId: string, record: T | null | undefined, what: string, id: string, field?: string): T {
  if (!record || record.userId !== userId) throw notFound(what, id, field);
  return record;
}
