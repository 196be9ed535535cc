import { EntitySchema } from '@mikro-orm/core';
import type { Role } from '@analytica/auth';

export class UserRecord {
  id!: string;
  email!: string;
  passwordHash!: string;
  displayName!: string;
  role!: Role;
  homeCurrency!: string;
  createdAt!: Date;
  emailVerifiedAt: Date | null = null;
  disabledAt: Date | null = null;
  passwordChangedAt: Date | null = null;
  /** Base32 TOTP secret: set when enrolment begins, in use once totpEnabledAt is set. */
  totpSecret: string | null = null;
  totpEnabledAt: Date | null = null;
  /** The last TOTP time step accepted, so that a code cannot be used twice. */
  totpLastStep: string | null = null;
  /**
   * Set on a decoy: what `register` made for an address that already has an account (this is that
   * account's id). A decoy works as a new, unverified account does for whoever registered it, and
   * for nothing else: no lookup by address finds it but a sign-in with its own password, it
   * cannot be verified (no link exists), and administrators do not see it.
   */
  decoyOf: string | null = null;
}
export const UserSchema = new EntitySchema<UserRecord>({
  class: UserRecord,
  tableName: 'users',
  properties: {
    id: { type: 'uuid', primary: true },
    // Unique among real accounts only (a partial index, migration 0004): decoys share an address.
    email: { type: 'string' },
    passwordHash: { type: 'string', fieldName: 'password_hash', hidden: true },
    displayName: { type: 'string', fieldName: 'display_name' },
    role: { type: 'string' },
    homeCurrency: { type: 'string', fieldName: 'home_currency' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    emailVerifiedAt: { type: 'Date', fieldName: 'email_verified_at', nullable: true },
    disabledAt: { type: 'Date', fieldName: 'disabled_at', nullable: true },
    passwordChangedAt: { type: 'Date', fieldName: 'password_changed_at', nullable: true },
    totpSecret: { type: 'string', fieldName: 'totp_secret', nullable: true, hidden: true },
    totpEnabledAt: { type: 'Date', fieldName: 'totp_enabled_at', nullable: true },
    totpLastStep: { type: 'bigint', fieldName: 'totp_last_step', nullable: true },
    decoyOf: { type: 'uuid', fieldName: 'decoy_of', nullable: true, hidden: true },
  },
});

/**
 * A link sent by email (verification, password reset, address change): its token is stored only
 * as its SHA-256 hash, for one user, good once until `expiresAt`.
 */
export class SingleUseTokenRecord {
  tokenHash!: string;
  userId!: string;
  createdAt!: Date;
  expiresAt!: Date;
  usedAt: Date | null = null;
}
/** The columns every single-use token table has; a fresh object per table (MikroORM annotates it). */
export const singleUseTokenProperties = () =>
  ({
    tokenHash: { type: 'string', fieldName: 'token_hash', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    expiresAt: { type: 'Date', fieldName: 'expires_at' },
    usedAt: { type: 'Date', fieldName: 'used_at', nullable: true },
  }) as const;

export class EmailVerificationRecord extends SingleUseTokenRecord {}
export const EmailVerificationSchema = new EntitySchema<EmailVerificationRecord>({
  class: EmailVerificationRecord,
  tableName: 'email_verifications',
  properties: singleUseTokenProperties(),
});

// OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, parallelism 1.
