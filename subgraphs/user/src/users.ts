import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { hash, verify } from '@node-rs/argon2';
import { recordEvent } from '@analytica/events';
import { badInput, unauthenticated } from '@analytica/errors';
import type { EntityManager } from '@analytica/postgres';
import type { Role } from '@analytica/auth';

export class UserRecord {
  id!: string;
  email!: string;
  passwordHash!: string;
  displayName!: string;
  role!: Role;
  homeCurrency!: string;
  createdAt!: Date;
}
export const UserSchema = new EntitySchema<UserRecord>({
  class: UserRecord,
  tableName: 'users',
  properties: {
    id: { type: 'uuid', primary: true },
    email: { type: 'string', unique: true },
    passwordHash: { type: 'string', fieldName: 'password_hash', hidden: true },
    displayName: { type: 'string', fieldName: 'display_name' },
    role: { type: 'string' },
    homeCurrency: { type: 'string', fieldName: 'home_currency' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
  },
});

export class SessionRecord {
  id!: string;
  userId!: string;
  createdAt!: Date;
  revokedAt: Date | null = null;
}
export const SessionSchema = new EntitySchema<SessionRecord>({
  class: SessionRecord,
  tableName: 'sessions',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    revokedAt: { type: 'Date', fieldName: 'revoked_at', nullable: true },
  },
});

// OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, parallelism 1.
const ARGON2 = { memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;
// Verified against when the email is unknown, so that both paths cost one argon2 verification.
const DUMMY_HASH = hash('not-a-real-password', ARGON2);

export function normaliseEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254) {
    throw badInput('email', 'Enter an email address like name@example.com.');
  }
  return email;
}

export function checkPasswordPolicy(password: string) {
  if (password.length < 12) throw badInput('password', 'Use a password of at least 12 characters.');
  if (password.length > 256) throw badInput('password', 'Use a password of at most 256 characters.');
}

export interface Registration {
  email: string;
  password: string;
  displayName: string;
  homeCurrency?: string;
  role?: Role;
}

/** Creates the user and the `user.registered.v1` event in one transaction. */
export async function registerUser(em: EntityManager, input: Registration): Promise<UserRecord> {
  const email = normaliseEmail(input.email);
  checkPasswordPolicy(input.password);
  const displayName = input.displayName.trim();
  if (displayName.length < 1 || displayName.length > 80) throw badInput('displayName', 'Give a display name of 1 to 80 characters.');
  const homeCurrency = input.homeCurrency ?? 'EUR';
  if (!/^[A-Z]{3}$/.test(homeCurrency)) throw badInput('homeCurrency', 'Use an ISO 4217 currency code such as EUR or USD.');
  const passwordHash = await hash(input.password, ARGON2);
  return em.transactional(async (tx) => {
    if (await tx.count(UserRecord, { email })) throw badInput('email', 'An account with this email already exists; sign in instead.');
    const user = tx.create(UserRecord, {
      id: randomUUID(),
      email,
      passwordHash,
      displayName,
      role: input.role ?? 'USER',
      homeCurrency,
      createdAt: new Date(),
    });
    recordEvent(tx, 'user.registered.v1', user.id, {
      userId: user.id,
      email,
      displayName,
      registeredAt: user.createdAt.toISOString(),
    });
    return user;
  });
}

/** Checks the password and opens a session; an unknown email and a wrong password look the same. */
export async function logIn(em: EntityManager, rawEmail: string, password: string): Promise<{ user: UserRecord; session: SessionRecord }> {
  const email = rawEmail.trim().toLowerCase();
  const user = await em.findOne(UserRecord, { email });
  const valid = await verify(user?.passwordHash ?? (await DUMMY_HASH), password);
  if (!user || !valid) throw unauthenticated('The email or password is not correct.');
  const session = em.create(SessionRecord, { id: randomUUID(), userId: user.id, createdAt: new Date(), revokedAt: null });
  await em.flush();
  return { user, session };
}

/** Creates the first administrator from ADMIN_EMAIL / ADMIN_PASSWORD unless the account exists. */
export async function ensureAdmin(em: EntityManager, email: string, password: string): Promise<'created' | 'exists'> {
  if (await em.count(UserRecord, { email: normaliseEmail(email) })) return 'exists';
  await registerUser(em, { email, password, displayName: 'Administrator', role: 'ADMIN' });
  return 'created';
}
