import type { FilterQuery } from '@mikro-orm/core';
import type { Role, RevocationList } from '@analytica/auth';
import { badInput, notFound } from '@analytica/errors';
import type { EntityManager } from '@analytica/postgres';
import { isUuid } from '@analytica/subgraph/access';
import { checkPageSize, newestFirstPage } from '@analytica/subgraph/pages';
import { audit, type RequestMeta } from '../audit/audit.js';
import { AuditAction } from '../audit/audit.entity.js';
import { revokeSessions } from '../sessions/sessions.js';
import { UserRecord } from '../users/user.entity.js';

export interface UserSearch {
  /** Part of the email or display name, case-insensitive. */
  query?: string | null;
  role?: Role | null;
  disabled?: boolean | null;
}

/** Newest accounts first, a page at a time. */
export async function searchUsers(em: EntityManager, search: UserSearch, first: number, after: string | null | undefined) {
  checkPageSize(first, 100, 'users');
  const query = search.query?.trim();
  if (query && query.length > 100) throw badInput('query', 'Search with at most 100 characters.');
  const pattern = query ? `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const matching: FilterQuery<UserRecord> = {
    $and: [
      { decoyOf: null },
      pattern ? { $or: [{ email: { $ilike: pattern } }, { displayName: { $ilike: pattern } }] } : {},
      search.role ? { role: search.role } : {},
      search.disabled === true ? { disabledAt: { $ne: null } } : search.disabled === false ? { disabledAt: null } : {},
    ],
  };
  return newestFirstPage(first, after, {
    rows: (older, limit) => em.find(UserRecord, older ? { $and: [matching, older] } : matching, { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], limit }),
    count: () => em.count(UserRecord, matching),
  });
}

export async function findUserForAdmin(em: EntityManager, id: string): Promise<UserRecord> {
  // Decoys (UserRecord.decoyOf) are not accounts an administrator manages.
  const user = isUuid(id) ? await em.findOne(UserRecord, { id, decoyOf: null }) : null;
  if (!user) throw notFound('User', id);
  return user;
}

function notYourself(admin: { id: string }, id: string, what: string) {
  if (admin.id === id) throw badInput('id', `You cannot ${what} your own account; ask another administrator.`);
}

/**
 * Disabling ends every session at once (Redis marks the user, so even access tokens already
 * handed out stop working) and refuses sign-in; enabling lets the user sign in again.
 */
export async function setUserDisabled(em: EntityManager, revocations: RevocationList, admin: { id: string }, id: string, disabled: boolean, meta: RequestMeta) {
  notYourself(admin, id, disabled ? 'disable' : 'enable');
  const user = await findUserForAdmin(em, id);
  if (disabled) {
    await revocations.disableUser(user.id);
    user.disabledAt ??= new Date();
    await revokeSessions(em, revocations, user.id, { reason: 'user-disabled' });
  } else {
    await revocations.enableUser(user.id);
    user.disabledAt = null;
    await em.flush();
  }
  await audit(em, disabled ? AuditAction.USER_DISABLED : AuditAction.USER_ENABLED, meta, { subjectId: user.id, email: user.email });
  return user;
}

/** The role travels in access tokens, so changing it ends the user's sessions: the next sign-in carries the new role. */
export async function changeUserRole(em: EntityManager, revocations: RevocationList, admin: { id: string }, id: string, role: Role, meta: RequestMeta) {
  notYourself(admin, id, 'change the role of');
  const user = await findUserForAdmin(em, id);
  const from = user.role;
  user.role = role;
  await em.flush();
  const sessions = from === role ? 0 : await revokeSessions(em, revocations, user.id, { reason: 'role-changed' });
  await audit(em, AuditAction.ROLE_CHANGED, meta, { subjectId: user.id, email: user.email, detail: { from, to: role, sessionsRevoked: sessions } });
  return user;
}

export async function revokeUserSessions(em: EntityManager, revocations: RevocationList, id: string, meta: RequestMeta): Promise<number> {
  const user = await findUserForAdmin(em, id);
  const count = await revokeSessions(em, revocations, user.id, { reason: 'admin' });
  await audit(em, AuditAction.SESSIONS_REVOKED, meta, { subjectId: user.id, email: user.email, detail: { sessionsRevoked: count } });
  return count;
}
