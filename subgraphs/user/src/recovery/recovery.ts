import { EntitySchema, LockMode } from '@mikro-orm/core';
import { hash } from '@node-rs/argon2';
import { recordEvent } from '@analytica/events';
import { badInput } from '@analytica/errors';
import type { EntityManager } from '@analytica/postgres';
import { audit, type RequestMeta } from '../audit/audit.js';
import { AuditAction } from '../audit/audit.entity.js';
import { ARGON2, checkPasswordPolicy, hashToken, newToken } from '../users/users.js';
import { SingleUseTokenRecord, singleUseTokenProperties, UserRecord } from '../users/user.entity.js';

/** A password reset link's token, by its SHA-256 hash: good once, until expiresAt. */
export class PasswordResetRecord extends SingleUseTokenRecord {}
export const PasswordResetSchema = new EntitySchema<PasswordResetRecord>({
  class: PasswordResetRecord,
  tableName: 'password_resets',
  properties: singleUseTokenProperties(),
});

/**
 * Starts a password reset for an address. The same work is done whether or not the address has an
 * account, so that neither the answer nor its time tells: a token is made and hashed, the account
 * looked up, and one transaction writes the audit entry; for an account it also stores the token's
 * hash and records the email request (`notifications.email.v1`, template `password-reset`) in the
 * outbox, so the email is sent after the answer, by the notifications worker. Decoys
 * (registerUser) and disabled accounts get no email.
 */
export async function requestPasswordReset(em: EntityManager, email: string, options: { ttlSeconds: number; meta: RequestMeta }): Promise<void> {
  const token = newToken();
  const tokenHash = hashToken(token);
  await em.transactional(async (tx) => {
    const now = new Date();
    const user = await tx.findOne(UserRecord, { email, decoyOf: null });
    const eligible = user !== null && user.disabledAt === null;
    if (eligible) {
      const expiresAt = new Date(now.getTime() + options.ttlSeconds * 1000);
      tx.create(PasswordResetRecord, { tokenHash, userId: user.id, createdAt: now, expiresAt, usedAt: null });
      recordEvent(tx, 'notifications.email.v1', user.id, {
        userId: user.id,
        to: user.email,
        template: 'password-reset',
        data: { resetToken: token, expiresAt: expiresAt.toISOString() },
      });
      await tx.flush();
    }
    await audit(tx, AuditAction.PASSWORD_RESET_REQUESTED, options.meta, { subjectId: user?.id ?? null, email, detail: { emailed: eligible } });
  });
}

/**
 * Sets a new password with a reset token: the token must be known, unused and unexpired, and the
 * password pass the same rules as at registration. The token (and any other open reset token of
 * the user) is used up in the same transaction that sets the password; the row is locked, so two
 * uses of one token cannot both win. Answers the user, whose sessions the caller then ends.
 */
export async function resetPassword(em: EntityManager, token: string, newPassword: string, meta: RequestMeta): Promise<UserRecord> {
  const invalid = () => badInput('token', 'This password reset link is not valid, was used already or has expired; ask for a new one.');
  if (token.length > 100) throw invalid();
  return em.transactional(async (tx) => {
    const record = await tx.findOne(PasswordResetRecord, { tokenHash: hashToken(token) }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!record || record.usedAt || record.expiresAt.getTime() <= Date.now()) throw invalid();
    const user = await tx.findOneOrFail(UserRecord, { id: record.userId });
    if (user.disabledAt) throw invalid();
    checkPasswordPolicy(newPassword, user.email, 'newPassword');
    const now = new Date();
    user.passwordHash = await hash(newPassword, ARGON2);
    user.passwordChangedAt = now;
    await tx.nativeUpdate(PasswordResetRecord, { userId: user.id, usedAt: null }, { usedAt: now });
    record.usedAt = now;
    await tx.flush();
    await audit(tx, AuditAction.PASSWORD_RESET, { ...meta, actorId: user.id }, { subjectId: user.id, email: user.email });
    return user;
  });
}

/** A new sign-in address waiting for its owner to follow the link sent to it. */
export class EmailChangeRecord extends SingleUseTokenRecord {
  newEmail!: string;
}
export const EmailChangeSchema = new EntitySchema<EmailChangeRecord>({
  class: EmailChangeRecord,
  tableName: 'email_changes',
  properties: { ...singleUseTokenProperties(), newEmail: { type: 'string', fieldName: 'new_email' } },
});

/**
 * Asks to move the user's sign-in address to `newEmail` (normalised, checked by the caller): a
 * single-use link goes to the new address (`email-change-verification`, through the outbox). An
 * address that already has an account gets nothing and the answer is the same, so this cannot test
 * which addresses have accounts; the attempt is audited.
 */
export async function requestEmailChange(em: EntityManager, user: UserRecord, newEmail: string, options: { ttlSeconds: number; meta: RequestMeta }): Promise<void> {
  if (newEmail === user.email) throw badInput('newEmail', 'This is already your address.');
  const token = newToken();
  await em.transactional(async (tx) => {
    const now = new Date();
    const taken = (await tx.count(UserRecord, { email: newEmail, decoyOf: null })) > 0;
    if (taken) {
      await audit(tx, AuditAction.EMAIL_CHANGE_REFUSED, options.meta, { subjectId: user.id, email: newEmail, detail: { reason: 'taken' } });
      return;
    }
    const expiresAt = new Date(now.getTime() + options.ttlSeconds * 1000);
    tx.create(EmailChangeRecord, { tokenHash: hashToken(token), userId: user.id, newEmail, createdAt: now, expiresAt, usedAt: null });
    recordEvent(tx, 'notifications.email.v1', user.id, {
      userId: user.id,
      to: newEmail,
      template: 'email-change-verification',
      data: { token, newEmail, expiresAt: expiresAt.toISOString() },
    });
    await tx.flush();
    await audit(tx, AuditAction.EMAIL_CHANGE_REQUESTED, options.meta, { subjectId: user.id, email: newEmail, detail: { previousEmail: user.email } });
  });
}

/**
 * Follows an email change link: the address becomes the user's sign-in address (and counts as
 * verified: the link reached it), `user.email-changed.v1` is recorded in the outbox, and the token
 * (with any other pending change of the user) is used up. Good once, until it expires.
 */
export async function confirmEmailChange(em: EntityManager, token: string, meta: RequestMeta): Promise<UserRecord> {
  const invalid = () => badInput('token', 'This email change link is not valid, was used already or has expired; ask for a new one.');
  if (token.length > 100) throw invalid();
  return em.transactional(async (tx) => {
    const record = await tx.findOne(EmailChangeRecord, { tokenHash: hashToken(token) }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!record || record.usedAt || record.expiresAt.getTime() <= Date.now()) throw invalid();
    const user = await tx.findOneOrFail(UserRecord, { id: record.userId });
    if (user.disabledAt) throw invalid();
    // Taken since the link was sent: the unique index would refuse it anyway.
    if (await tx.count(UserRecord, { email: record.newEmail, decoyOf: null })) {
      throw badInput('token', 'This address has an account now; ask for a change to another address.');
    }
    const now = new Date();
    const previousEmail = user.email;
    user.email = record.newEmail;
    user.emailVerifiedAt = now;
    await tx.nativeUpdate(EmailChangeRecord, { userId: user.id, usedAt: null }, { usedAt: now });
    record.usedAt = now;
    recordEvent(tx, 'user.email-changed.v1', user.id, { userId: user.id, previousEmail, email: user.email, changedAt: now.toISOString() });
    await tx.flush();
    await audit(tx, AuditAction.EMAIL_CHANGED, { ...meta, actorId: user.id }, { subjectId: user.id, email: user.email, detail: { previousEmail } });
    return user;
  });
}
