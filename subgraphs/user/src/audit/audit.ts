import type { FilterQuery } from '@mikro-orm/core';
import { badInput } from '@analytica/errors';
import type { EntityManager } from '@analytica/postgres';
import { isUuid } from '@analytica/subgraph/access';
import { AuditRecord, type AuditAction } from './audit.entity.js';

/** Who is asking and from where: every audit entry carries it. */
export interface RequestMeta {
  ip: string | null;
  actorId?: string | null;
  sessionId?: string | null;
}

/**
 * Appends one entry at once (an INSERT, not a unit-of-work change): inside a transaction it
 * commits or rolls back with the change it records; outside one it is written even when the
 * request then fails, which is what a failed login needs.
 */
export async function audit(
  em: EntityManager,
  action: AuditAction,
  meta: RequestMeta,
  entry: { subjectId?: string | null; actorId?: string | null; email?: string | null; detail?: Record<string, unknown> } = {},
) {
  await em.insert(AuditRecord, {
    at: new Date(),
    action,
    actorId: entry.actorId ?? meta.actorId ?? null,
    subjectId: entry.subjectId ?? null,
    email: entry.email ?? null,
    ip: meta.ip,
    sessionId: meta.sessionId ?? null,
    detail: entry.detail ?? {},
  } as AuditRecord);
}

export interface AuditFilter {
  /** Entries where this user acted or was acted on. */
  userId?: string | null;
  email?: string | null;
  actions?: AuditAction[] | null;
  from?: Date | null;
  to?: Date | null;
}

/** Newest first, keyset-paged by id: `after` is the id of the last entry of the previous page. */
export async function readAuditLog(em: EntityManager, filter: AuditFilter, first: number, after: string | null | undefined) {
  if (!Number.isInteger(first) || first < 1 || first > 200) throw badInput('first', 'Ask for 1 to 200 entries per page.');
  if (after != null && !/^\d{1,19}$/.test(after)) throw badInput('after', 'Pass the endCursor of the previous page.');
  if (filter.userId != null && !isUuid(filter.userId)) throw badInput('filter.userId', 'Give a user id.');
  if (filter.from && filter.to && filter.from >= filter.to) throw badInput('filter.to', 'Give a time after filter.from.');
  const matching: FilterQuery<AuditRecord> = {
    ...(filter.userId ? { $or: [{ actorId: filter.userId }, { subjectId: filter.userId }] } : {}),
    ...(filter.email ? { email: filter.email.trim().toLowerCase() } : {}),
    ...(filter.actions?.length ? { action: { $in: filter.actions } } : {}),
    ...(filter.from || filter.to ? { at: { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lt: filter.to } : {}) } } : {}),
  };
  const [rows, totalCount] = await Promise.all([
    em.find(AuditRecord, after != null ? { ...matching, id: { $lt: after } } : matching, { orderBy: { id: 'desc' }, limit: first + 1 }),
    em.count(AuditRecord, matching),
  ]);
  return { entries: rows.slice(0, first), hasNextPage: rows.length > first, totalCount };
}
