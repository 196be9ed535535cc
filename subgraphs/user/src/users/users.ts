import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { recordEvent } from '@analytica/events';
import { badInput } from '@analytica/errors';
import { assertCurrency } from '@analytica/money';
import type { EntityManager } from '@analytica/postgres';
import type { Role } from '@analytica/auth';
import { audit, type RequestMeta } from '../audit/audit.js';
import { AuditAction } from '../audit/audit.entity.js';
import { EmailVerificationRecord, UserRecord } from './user.entity.js';

export const ARGON2 = { memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;
// Verified against when the email is unknown, so that both paths cost one argon2 verification.
const DUMMY_HASH = hash('not-a-real-password', ARGON2);

/** SHA-256 is enough for random tokens of 256 bits: nothing to guess, so no slow hash is needed. */
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
export const newToken = () => randomBytes(32).toString('base64url');

export function normaliseEmail(raw: string, field = 'email'): string {
  const email = raw.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254) {
    throw badInput(field, 'Enter an email address like name@example.com.');
  }
  return email;
}

// A few passwords long enough to pass the length rule that every list of breached passwords starts with.
const COMMON_PASSWORDS = new Set([
  '123456789012',
  '1234567890123',
  'qwertyuiopas',
  'qwerty123456',
  'password1234',
  'password12345',
  'passwordpassword',
  'iloveyou1234',
  'letmein12345',
  'welcome12345',
  'abcdefghijkl',
  'aaaaaaaaaaaa',
  '111111111111',
  'administrator',
]);

/**
 * NIST SP 800-63B and OWASP: length matters, composition rules do not. At least 12 characters,
 * at most 256 (argon2 hashes whatever it is given), not one of the best-known passwords, not a
 * handful of characters repeated, and not the email address.
 */
export function checkPasswordPolicy(password: string, email?: string, field = 'password') {
  if (password.length < 12) throw badInput(field, 'Use a password of at least 12 characters; a few unrelated words work well.');
  if (password.length > 256) throw badInput(field, 'Use a password of at most 256 characters.');
  if (new Set(password).size < 5) throw badInput(field, 'Use a password with at least 5 different characters.');
  if (COMMON_PASSWORDS.has(password.toLowerCase())) throw badInput(field, 'This password is one of the most common ones; choose another.');
  if (email && [email, email.split('@')[0]].includes(password.toLowerCase())) {
    throw badInput(field, 'Use a password that is not your email address.');
  }
}

export interface Registration {
  email: string;
  password: string;
  displayName: string;
  homeCurrency?: string;
  role?: Role;
}

/**
 * Creates the user, a single-use email verification token, the `user.registered.v1` event (which
 * carries the token to the notifications worker) and the audit entry, in one transaction.
 *
 * An address that already has an account is not told apart (that would let anyone test which
 * addresses have accounts): with `existing: 'answer'`, the existing account is left as it is, its
 * owner gets a "someone tried to register with your address" email (a `notifications.email.v1`
 * request), the attempt is audited, and the answer is `{ existing, decoy }`: a decoy (see
 * UserRecord.decoyOf), made with the same password hashing as a new account, that the caller
 * signs in as a new account is signed in. It carries no verification token and no
 * `user.registered.v1`, so no link can verify it, and it reaches nothing of the existing account.
 * Without the option (the first administrator), an existing address is BAD_USER_INPUT.
 */
export async function registerUser(
  em: EntityManager,
  input: Registration,
  options: { verificationTtlSeconds: number; meta: RequestMeta; fieldPrefix?: string; existing?: 'answer' },
): Promise<UserRecord | { existing: UserRecord; decoy: UserRecord }> {
  const at = (field: string) => `${options.fieldPrefix ?? ''}${field}`;
  const email = normaliseEmail(input.email, at('email'));
  checkPasswordPolicy(input.password, email, at('password'));
  const displayName = input.displayName.trim();
  if (displayName.length < 1 || displayName.length > 80) throw badInput(at('displayName'), 'Give a display name of 1 to 80 characters.');
  // A known ISO 4217 code (packages/money's list): reports convert into it later.
  const homeCurrency = assertCurrency(input.homeCurrency ?? 'EUR', at('homeCurrency'));
  const passwordHash = await hash(input.password, ARGON2);
  const verificationToken = newToken();
  return em.transactional(async (tx) => {
    const now = new Date();
    const existing = await tx.findOne(UserRecord, { email, decoyOf: null });
    if (existing && options.existing !== 'answer') throw badInput(at('email'), 'An account with this email already exists; sign in instead.');
    if (existing) {
      recordEvent(tx, 'notifications.email.v1', existing.id, {
        userId: existing.id,
        to: existing.email,
        template: 'registration-attempt',
        data: { attemptedAt: now.toISOString() },
      });
      const decoy = tx.create(UserRecord, { id: randomUUID(), email, passwordHash, displayName, role: 'USER', homeCurrency, createdAt: now, decoyOf: existing.id });
      await tx.flush();
      await audit(tx, AuditAction.REGISTRATION_EXISTING_EMAIL, options.meta, { subjectId: existing.id, email, detail: { decoyId: decoy.id } });
      return { existing, decoy };
    }
    const user = tx.create(UserRecord, {
      id: randomUUID(),
      email,
      passwordHash,
      displayName,
      role: input.role ?? 'USER',
      homeCurrency,
      createdAt: now,
    });
    // The entities declare no relations, so the unit of work does not order inserts by foreign key.
    await tx.flush();
    const expiresAt = new Date(now.getTime() + options.verificationTtlSeconds * 1000);
    tx.create(EmailVerificationRecord, { tokenHash: hashToken(verificationToken), userId: user.id, createdAt: now, expiresAt, usedAt: null });
    recordEvent(tx, 'user.registered.v1', user.id, {
      userId: user.id,
      email,
      displayName,
      registeredAt: now.toISOString(),
      verificationToken,
      verificationExpiresAt: expiresAt.toISOString(),
    });
    await tx.flush();
    await audit(tx, AuditAction.USER_REGISTERED, options.meta, { subjectId: user.id, email, detail: { role: user.role } });
    return user;
  });
}

/**
 * Who signs in with this address and password: the account, or else the newest decoy registered
 * for the address (see registerUser) if the password is its own, or nobody (`user` null; `account`
 * is the real account, if any, for limits and the audit log). Both hashes are verified on every
 * attempt, side by side, so the time does not tell whether the address has an account or a decoy.
 * Only the newest decoy signs in: registering a taken address again replaces the one before.
 */
export async function userForSignIn(em: EntityManager, email: string, password: string): Promise<{ account: UserRecord | null; user: UserRecord | null }> {
  const [account, [decoy]] = await Promise.all([
    em.findOne(UserRecord, { email, decoyOf: null }),
    em.find(UserRecord, { email, decoyOf: { $ne: null } }, { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], limit: 1 }),
  ]);
  const [accountMatches, decoyMatches] = await Promise.all([passwordMatches(account, password), passwordMatches(decoy ?? null, password)]);
  return { account, user: accountMatches ? account : decoyMatches ? decoy! : null };
}

/** One argon2 verification whether or not the account exists, so that timing does not tell. */
export async function passwordMatches(user: UserRecord | null, password: string): Promise<boolean> {
  // Over-long input is refused before hashing: argon2 would spend time on whatever it is given.
  const candidate = password.length > 256 ? '' : password;
  const valid = await verify(user?.passwordHash ?? (await DUMMY_HASH), candidate);
  return user !== null && valid && candidate !== '';
}

export async function changePassword(em: EntityManager, user: UserRecord, newPassword: string) {
  checkPasswordPolicy(newPassword, user.email, 'newPassword');
  if (await passwordMatches(user, newPassword)) throw badInput('newPassword', 'Choose a password different from the current one.');
  user.passwordHash = await hash(newPassword, ARGON2);
  user.passwordChangedAt = new Date();
}

/** Marks the email verified; a token is good once, until it expires. */
export async function verifyEmail(em: EntityManager, token: string, meta: RequestMeta): Promise<UserRecord> {
  return em.transactional(async (tx) => {
    const record = token.length <= 100 ? await tx.findOne(EmailVerificationRecord, { tokenHash: hashToken(token) }) : null;
    if (!record || record.usedAt || record.expiresAt.getTime() < Date.now()) {
      throw badInput('token', 'This verification link is not valid or has expired; sign in to ask for a new one.');
    }
    const user = await tx.findOneOrFail(UserRecord, { id: record.userId });
    record.usedAt = new Date();
    user.emailVerifiedAt ??= record.usedAt;
    await tx.flush();
    await audit(tx, AuditAction.EMAIL_VERIFIED, meta, { subjectId: user.id, actorId: user.id, email: user.email });
    return user;
  });
}

/** Creates the first administrator from ADMIN_EMAIL / ADMIN_PASSWORD unless the account exists. */
export async function ensureAdmin(em: EntityManager, email: string, password: string, verificationTtlSeconds: number): Promise<'created' | 'exists'> {
  if (await em.count(UserRecord, { email: normaliseEmail(email), decoyOf: null })) return 'exists';
  // Never `existing: 'answer'`: a lost race with another instance is an error here, not a decoy.
  await registerUser(em, { email, password, displayName: 'Administrator', role: 'ADMIN' }, { verificationTtlSeconds, meta: { ip: null } });
  return 'created';
}
