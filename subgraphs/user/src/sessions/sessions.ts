import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { RevocationList } from '@analytica/auth';
import type { EntityManager } from '@analytica/postgres';
import { audit, type RequestMeta } from '../audit/audit.js';
import { AuditAction } from '../audit/audit.entity.js';
import { hashToken, newToken } from '../users/users.js';
import { UserRecord } from '../users/user.entity.js';
import { RefreshTokenRecord, SessionRecord } from './session.entity.js';

export interface IssuedRefreshToken {
  refreshToken: string;
  refreshExpiresAt: Date;
}

/** Adds a fresh refresh token to the session; only its hash is stored. */
export function addRefreshToken(em: EntityManager, session: SessionRecord, ttlSeconds: number): IssuedRefreshToken {
  const refreshToken = newToken();
  const now = new Date();
  const refreshExpiresAt = new Date(now.getTime() + ttlSeconds * 1000);
  em.create(RefreshTokenRecord, { id: randomUUID(), sessionId: session.id, tokenHash: hashToken(refreshToken), createdAt: now, expiresAt: refreshExpiresAt, rotatedAt: null });
  return { refreshToken, refreshExpiresAt };
}

export async function openSession(
  em: EntityManager,
  user: UserRecord,
  options: { ip: string | null; totpVerified: boolean; refreshTtlSeconds: number },
): Promise<{ session: SessionRecord } & IssuedRefreshToken> {
  const session = em.create(SessionRecord, {
    id: randomUUID(),
    userId: user.id,
    createdAt: new Date(),
    revokedAt: null,
    revokedReason: null,
    totpVerified: options.totpVerified,
    lastUsedAt: new Date(),
    ip: options.ip,
  });
  // The session row first: the unit of work does not order inserts by foreign key.
  await em.flush();
  const issued = addRefreshToken(em, session, options.refreshTtlSeconds);
  await em.flush();
  return { session, ...issued };
}

export type Rotation =
  { outcome: 'rotated'; user: UserRecord; session: SessionRecord; issued: IssuedRefreshToken } | { outcome: 'reused'; session: SessionRecord } | { outcome: 'invalid' };

/**
 * Trades a refresh token for the next one of its family. The token row is locked, so two
 * concurrent uses of one token cannot both succeed: the second sees it retired, as a thief would.
 */
export async function rotateRefreshToken(em: EntityManager, presented: string, ttlSeconds: number): Promise<Rotation> {
  if (presented.length > 100) return { outcome: 'invalid' };
  return em.transactional(async (tx): Promise<Rotation> => {
    const token = await tx.findOne(RefreshTokenRecord, { tokenHash: hashToken(presented) }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!token) return { outcome: 'invalid' };
    const session = await tx.findOneOrFail(SessionRecord, { id: token.sessionId });
    if (token.rotatedAt) return { outcome: 'reused', session };
    if (session.revokedAt || token.expiresAt.getTime() <= Date.now()) return { outcome: 'invalid' };
    const user = await tx.findOneOrFail(UserRecord, { id: session.userId });
    if (user.disabledAt) return { outcome: 'invalid' };
    token.rotatedAt = new Date();
    session.lastUsedAt = token.rotatedAt;
    const issued = addRefreshToken(tx, session, ttlSeconds);
    return { outcome: 'rotated', user, session, issued };
  });
}

/**
 * Ends sessions: first in Redis, so that their access tokens stop at once everywhere, then in
 * the database, so that their refresh tokens are refused. Returns how many were still open.
 */
export async function revokeSessions(em: EntityManager, revocations: RevocationList, userId: string, options: { only?: string; except?: string; reason: string }): Promise<number> {
  const open = await em.find(SessionRecord, {
    userId,
    revokedAt: null,
    ...(options.only ? { id: options.only } : {}),
    ...(options.except ? { id: { $ne: options.except } } : {}),
  });
  await revocations.revokeSessions(
    userId,
    open.map((s) => s.id),
  );
  const now = new Date();
  for (const session of open) {
    session.revokedAt = now;
    session.revokedReason = options.reason;
  }
  await em.flush();
  return open.length;
}

/** A retired refresh token came back: the whole family is treated as stolen. */
export async function handleRefreshTokenReuse(em: EntityManager, revocations: RevocationList, session: SessionRecord, meta: RequestMeta) {
  await revocations.revokeSessions(session.userId, [session.id]);
  await em.transactional(async (tx) => {
    await tx.nativeUpdate(SessionRecord, { id: session.id, revokedAt: null }, { revokedAt: new Date(), revokedReason: 'refresh-token-reuse' });
    await audit(tx, AuditAction.REFRESH_TOKEN_REUSED, meta, { subjectId: session.userId, detail: { sessionId: session.id } });
  });
}
