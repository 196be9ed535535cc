import { EntitySchema, type FilterQuery } from '@mikro-orm/core';
import { badInput } from '@analytica/errors';
import type { EntityManager } from '@analytica/postgres';

/** Everything security-relevant the user service records. Stored as the dotted value. */
export enum AuditAction {
  USER_REGISTERED = 'user.registered',
  REGISTRATION_RATE_LIMITED = 'registration.rate_limited',
  EMAIL_VERIFIED = 'email.verified',
  LOGIN_SUCCEEDED = 'login.succeeded',
  LOGIN_FAILED = 'login.failed',
  LOGIN_RATE_LIMITED = 'login.rate_limited',
  ACCOUNT_LOCKED = 'login.locked',
  LOGIN_REFUSED_DISABLED = 'login.refused_disabled',
  REFRESH_TOKEN_REUSED = 'session.refresh_token_reused',
  LOGGED_OUT = 'session.logged_out',
  LOGGED_OUT_EVERYWHERE = 'session.logged_out_everywhere',
  PASSWORD_CHANGED = 'password.changed',
  PASSWORD_CHANGE_REFUSED = 'password.change_refused',
  TOTP_ENABLED = 'totp.enabled',
  TOTP_DISABLED = 'totp.disabled',
  ROLE_CHANGED = 'admin.role_changed',
  USER_DISABLED = 'admin.user_disabled',
  USER_ENABLED = 'admin.user_enabled',
  SESSIONS_REVOKED = 'admin.sessions_revoked',
  USERS_LISTED = 'admin.users_listed',
  USER_VIEWED = 'admin.user_viewed',
  AUDIT_LOG_READ = 'admin.audit_log_read',
}

export class AuditRecord {
  id!: string;
  at!: Date;
  action!: AuditAction;
  actorId: string | null = null;
  subjectId: string | null = null;
  email: string | null = null;
  ip: string | null = null;
  sessionId: string | null = null;
  detail: Record<string, unknown> = {};
}
export const AuditSchema = new EntitySchema<AuditRecord>({
  class: AuditRecord,
  tableName: 'audit_log',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    at: { type: 'Date' },
    action: { type: 'string' },
    actorId: { type: 'uuid', fieldName: 'actor_id', nullable: true },
    subjectId: { type: 'uuid', fieldName: 'subject_id', nullable: true },
    email: { type: 'string', nullable: true },
    ip: { type: 'string', nullable: true },
    sessionId: { type: 'uuid', fieldName: 'session_id', nullable: true },
    detail: { type: 'json' },
  },
});

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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Newest first, keyset-paged by id: `after` is the id of the last entry of the previous page. */
export async function readAuditLog(em: EntityManager, filter: AuditFilter, first: number, after: string | null | undefined) {
  if (!Number.isInteger(first) || first < 1 || first > 200) throw badInput('first', 'Ask for 1 to 200 entries per page.');
  if (after != null && !/^\d{1,19}$/.test(after)) throw badInput('after', 'Pass the endCursor of the previous page.');
  if (filter.userId != null && !UUID.test(filter.userId)) throw badInput('filter.userId', 'Give a user id.');
  if (filter.from && filter.to && filter.from >= filter.to) throw badInput('filter.to', 'Give a time after filter.from.');
  const where: FilterQuery<AuditRecord> = {
    ...(filter.userId ? { $or: [{ actorId: filter.userId }, { subjectId: filter.userId }] } : {}),
    ...(filter.email ? { email: filter.email.trim().toLowerCase() } : {}),
    ...(filter.actions?.length ? { action: { $in: filter.actions } } : {}),
    ...(filter.from || filter.to ? { at: { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lt: filter.to } : {}) } } : {}),
    ...(after != null ? { id: { $lt: after } } : {}),
  };
  const rows = await em.find(AuditRecord, where, { orderBy: { id: 'desc' }, limit: first + 1 });
  return { entries: rows.slice(0, first), hasNextPage: rows.length > first };
}
