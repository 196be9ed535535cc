import { EntitySchema } from '@mikro-orm/core';

export const BANK_ACCOUNT_STATUSES = ['PENDING_VERIFICATION', 'VERIFIED', 'UNLINKED'] as const;
export type BankAccountStatus = (typeof BANK_ACCOUNT_STATUSES)[number];

/** A consent the user gave at their bank: it lets us list their accounts and send payment orders. */
export class BankConnectionRecord {
  id!: string;
  userId!: string;
  bankName!: string;
  /** The provider's consent id: sent with every call made on the user's behalf. */
  consentId!: string;
  createdAt!: Date;
  expiresAt!: Date;
}
export const BankConnectionSchema = new EntitySchema<BankConnectionRecord>({
  class: BankConnectionRecord,
  tableName: 'bank_connections',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    bankName: { type: 'string', fieldName: 'bank_name' },
    consentId: { type: 'string', fieldName: 'consent_id', hidden: true },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    expiresAt: { type: 'Date', fieldName: 'expires_at' },
  },
});

export class BankAccountRecord {
  id!: string;
  userId!: string;
  bankName!: string;
  holderName!: string;
  /** `•••• 1234`: the only form of the number that is kept. */
  accountNumber!: string;
  /** HMAC-SHA256 of the normalised IBAN, to recognise the same account without storing it. */
  accountFingerprint!: string;
  currency!: string;
  status!: BankAccountStatus;
  createdAt!: Date;
  verifiedAt: Date | null = null;
  unlinkedAt: Date | null = null;
  /** The consent the account was linked through, and the provider's id for it (null for accounts linked before consents). */
  connectionId: string | null = null;
  providerAccountId: string | null = null;
  verificationCodeHash: string | null = null;
  verificationExpiresAt: Date | null = null;
  verificationAttempts = 0;
  verificationCodesSent = 0;
}
export const BankAccountSchema = new EntitySchema<BankAccountRecord>({
  class: BankAccountRecord,
  tableName: 'bank_accounts',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    bankName: { type: 'string', fieldName: 'bank_name' },
    holderName: { type: 'string', fieldName: 'holder_name' },
    accountNumber: { type: 'string', fieldName: 'account_number' },
    accountFingerprint: { type: 'string', fieldName: 'account_fingerprint', hidden: true },
    currency: { type: 'string' },
    status: { type: 'string' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    verifiedAt: { type: 'Date', fieldName: 'verified_at', nullable: true },
    unlinkedAt: { type: 'Date', fieldName: 'unlinked_at', nullable: true },
    connectionId: { type: 'uuid', fieldName: 'connection_id', nullable: true },
    providerAccountId: { type: 'string', fieldName: 'provider_account_id', nullable: true },
    verificationCodeHash: { type: 'string', fieldName: 'verification_code_hash', nullable: true, hidden: true },
    verificationExpiresAt: { type: 'Date', fieldName: 'verification_expires_at', nullable: true },
    verificationAttempts: { type: 'integer', fieldName: 'verification_attempts' },
    verificationCodesSent: { type: 'integer', fieldName: 'verification_codes_sent' },
  },
});
