import { BigIntType, EntitySchema } from '@mikro-orm/core';
import { PAYMENT_STATUSES, type PaymentStatus } from '@analytica/events';

/**
 * The payment state machine. REQUIRES_ACTION is where risk checks park a payment until the payer
 * confirms it (one-time code); the payments worker moves QUEUED on to PROCESSING and a final state.
 * Every move goes through `transitionPayment`, which refuses anything not listed here.
 */
export const NEXT_STATUSES: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  REQUIRES_ACTION: ['QUEUED', 'CANCELED', 'FAILED'],
  QUEUED: ['PROCESSING', 'REQUIRES_ACTION', 'CANCELED', 'FAILED'],
  PROCESSING: ['SUCCEEDED', 'FAILED'],
  SUCCEEDED: [],
  FAILED: [],
  CANCELED: [],
};

/** The statuses a payment can still leave: it is in flight, and still needs its bank account. */
export const IN_FLIGHT_STATUSES: readonly PaymentStatus[] = PAYMENT_STATUSES.filter((status) => NEXT_STATUSES[status].length > 0);

/** The final statuses in which no money left the account: they do not count against the daily limit. */
export const UNPAID_STATUSES = ['FAILED', 'CANCELED'] as const satisfies readonly PaymentStatus[];

export class PaymentRecord {
  id!: string;
  userId!: string;
  bankAccountId!: string;
  amountMinor!: number;
  currency!: string;
  payeeName!: string;
  reference!: string;
  status!: PaymentStatus;
  idempotencyKey!: string;
  /** SHA-256 of the request parameters: a replayed key must come with the same request. */
  requestFingerprint!: string;
  failureReason: string | null = null;
  /** The bank's id for the executed (or declined) order. */
  providerReference: string | null = null;
  createdAt!: Date;
  updatedAt!: Date;
  confirmationCodeHash: string | null = null;
  confirmationExpiresAt: Date | null = null;
  confirmationAttempts = 0;
}
export const PaymentSchema = new EntitySchema<PaymentRecord>({
  class: PaymentRecord,
  tableName: 'payments',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    bankAccountId: { type: 'uuid', fieldName: 'bank_account_id' },
    amountMinor: { type: new BigIntType('number'), fieldName: 'amount_minor' },
    currency: { type: 'string' },
    payeeName: { type: 'string', fieldName: 'payee_name' },
    reference: { type: 'string' },
    status: { type: 'string' },
    idempotencyKey: { type: 'string', fieldName: 'idempotency_key' },
    requestFingerprint: { type: 'string', fieldName: 'request_fingerprint' },
    failureReason: { type: 'string', fieldName: 'failure_reason', nullable: true },
    providerReference: { type: 'string', fieldName: 'provider_reference', nullable: true },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    updatedAt: { type: 'Date', fieldName: 'updated_at' },
    confirmationCodeHash: { type: 'string', fieldName: 'confirmation_code_hash', nullable: true, hidden: true },
    confirmationExpiresAt: { type: 'Date', fieldName: 'confirmation_expires_at', nullable: true },
    confirmationAttempts: { type: 'integer', fieldName: 'confirmation_attempts' },
  },
});

export class PaymentStatusChangeRecord {
  id!: number;
  paymentId!: string;
  status!: PaymentStatus;
  reason: string | null = null;
  at!: Date;
}
export const PaymentStatusChangeSchema = new EntitySchema<PaymentStatusChangeRecord>({
  class: PaymentStatusChangeRecord,
  tableName: 'payment_status_history',
  properties: {
    id: { type: new BigIntType('number'), primary: true, autoincrement: true },
    paymentId: { type: 'uuid', fieldName: 'payment_id' },
    status: { type: 'string' },
    reason: { type: 'string', nullable: true },
    at: { type: 'Date' },
  },
});
