import { createHash, randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import { BigIntType, EntitySchema, LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { AuthUser } from '@analytica/auth';
import { badInput, conflict, notFound } from '@analytica/errors';
import { recordEvent } from '@analytica/events';
import { assertCurrency, assertMinorUnits } from '@analytica/money';
import type { EntityManager } from '@analytica/postgres';
import { BankAccountRecord } from './bank-accounts.js';
import { isUuid } from './ids.js';

export const PAYMENT_STATUSES = ['REQUIRES_ACTION', 'QUEUED', 'PROCESSING', 'SUCCEEDED', 'FAILED', 'CANCELED'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

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
  providerReference: string | null = null;
  createdAt!: Date;
  updatedAt!: Date;
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

/** Stripe's rule for keys: long enough to be unique per request, and safe in logs and headers. */
export function assertIdempotencyKey(key: string, field = 'idempotencyKey'): string {
  if (!/^[A-Za-z0-9_-]{8,100}$/.test(key)) {
    throw badInput(field, 'Use 8 to 100 characters of letters, digits, "-" or "_" (a UUID works well) as the idempotency key.');
  }
  return key;
}

export interface PaymentRequest {
  bankAccountId: string;
  amountMinor: number;
  currency: string;
  payeeName: string;
  reference: string;
}

/** A fixed field order, so the same request always hashes the same. */
export function requestFingerprint(request: PaymentRequest): string {
  const canonical = JSON.stringify([request.bankAccountId, request.amountMinor, request.currency, request.payeeName, request.reference]);
  return createHash('sha256').update(canonical).digest('hex');
}

function validatePaymentRequest(request: PaymentRequest): PaymentRequest {
  assertMinorUnits(request.amountMinor, 'input.amount.amountMinor', { positive: true });
  assertCurrency(request.currency, 'input.amount.currency');
  if (request.payeeName.length < 1 || request.payeeName.length > 70) throw badInput('input.payeeName', 'Give the payee name in 1 to 70 characters.');
  if (request.reference.length > 140) throw badInput('input.reference', 'Keep the reference to 140 characters (what a SEPA transfer carries).');
  if (/[\p{Cc}]/u.test(request.payeeName + request.reference)) {
    throw badInput(/[\p{Cc}]/u.test(request.payeeName) ? 'input.payeeName' : 'input.reference', 'Remove line breaks and control characters.');
  }
  return request;
}

function replay(existing: PaymentRecord, fingerprint: string): PaymentRecord {
  if (existing.requestFingerprint !== fingerprint) {
    throw conflict(
      `The idempotency key "${existing.idempotencyKey}" was already used for a different payment request; send a new key for a new payment.`,
    );
  }
  return existing;
}

/**
 * Creates a payment with Stripe's idempotency semantics: the same key and the same request give the
 * same payment (no second row, no second event); the same key with another request is a CONFLICT.
 * The payment, its first history row and `payments.requested.v1` are written in one transaction.
 * Duplicates that race past the first lookup meet the unique (user_id, idempotency_key) constraint,
 * and the losers answer with the winner's payment.
 */
export async function initiatePayment(em: EntityManager, userId: string, input: PaymentRequest, idempotencyKey: string): Promise<PaymentRecord> {
  assertIdempotencyKey(idempotencyKey);
  const request: PaymentRequest = {
    bankAccountId: input.bankAccountId,
    amountMinor: input.amountMinor,
    currency: input.currency,
    payeeName: input.payeeName.trim(),
    reference: input.reference.trim(),
  };
  const fingerprint = requestFingerprint(request);
  const earlier = await em.findOne(PaymentRecord, { userId, idempotencyKey });
  if (earlier) return replay(earlier, fingerprint);
  validatePaymentRequest(request);
  if (!isUuid(request.bankAccountId)) throw notFound('BankAccount', request.bankAccountId);

  try {
    return await em.transactional(async (tx) => {
      // FOR SHARE: an unlink of this account waits for this payment, and then sees it in flight.
      const account = await tx.findOne(BankAccountRecord, { id: request.bankAccountId }, { lockMode: LockMode.PESSIMISTIC_READ });
      if (!account || account.userId !== userId) throw notFound('BankAccount', request.bankAccountId);
      if (account.status === 'UNLINKED') throw badInput('input.bankAccountId', 'This bank account was unlinked; link it again or pay from another account.');
      if (account.status !== 'VERIFIED') throw badInput('input.bankAccountId', 'This bank account is not verified yet; finish its verification first.');
      if (account.currency !== request.currency) {
        throw badInput('input.amount.currency', `This bank account holds ${account.currency}; send the amount in ${account.currency}.`);
      }
      const now = new Date();
      const payment = tx.create(PaymentRecord, {
        id: randomUUID(),
        userId,
        ...request,
        status: 'QUEUED',
        idempotencyKey,
        requestFingerprint: fingerprint,
        failureReason: null,
        providerReference: null,
        createdAt: now,
        updatedAt: now,
      });
      // The history row references the payment: write the payment first, still inside the transaction.
      await tx.flush();
      recordStatus(tx, payment, null);
      recordEvent(tx, 'payments.requested.v1', userId, {
        userId,
        paymentId: payment.id,
        bankAccountId: payment.bankAccountId,
        amountMinor: String(payment.amountMinor),
        currency: payment.currency,
        payeeName: payment.payeeName,
        requestedAt: now.toISOString(),
      });
      return payment;
    });
  } catch (error) {
    if (!(error instanceof UniqueConstraintViolationException)) throw error;
    const winner = await em.fork().findOne(PaymentRecord, { userId, idempotencyKey });
    if (!winner) throw error;
    return replay(winner, fingerprint);
  }
}

function recordStatus(tx: EntityManager, payment: PaymentRecord, reason: string | null) {
  tx.create(PaymentStatusChangeRecord, { paymentId: payment.id, status: payment.status, reason, at: payment.updatedAt } as PaymentStatusChangeRecord);
}

/**
 * Moves a payment that the caller has locked (PESSIMISTIC_WRITE in `tx`) to its next status and
 * writes the history row in the same transaction.
 */
export function transitionPayment(tx: EntityManager, payment: PaymentRecord, to: PaymentStatus, reason: string | null) {
  if (!NEXT_STATUSES[payment.status].includes(to)) {
    throw conflict(`Payment ${payment.id} is ${payment.status} and cannot become ${to}.`);
  }
  payment.status = to;
  payment.updatedAt = new Date();
  recordStatus(tx, payment, reason);
}

/** Only a QUEUED payment can be canceled: once the bank has it, it is PROCESSING and out of our hands. */
export async function cancelPayment(em: EntityManager, userId: string, id: string): Promise<PaymentRecord> {
  if (!isUuid(id)) throw notFound('Payment', id);
  return em.transactional(async (tx) => {
    const payment = await tx.findOne(PaymentRecord, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!payment || payment.userId !== userId) throw notFound('Payment', id);
    if (payment.status !== 'QUEUED') throw conflict(`Payment ${id} is ${payment.status}; only a QUEUED payment can be canceled.`);
    transitionPayment(tx, payment, 'CANCELED', 'Canceled by the payer.');
    return payment;
  });
}

/** Owners see their own payments, admins everyone's; anybody else is told it does not exist. */
export async function findPayment(em: EntityManager, viewer: AuthUser, id: string): Promise<PaymentRecord> {
  const payment = isUuid(id) ? await em.findOne(PaymentRecord, { id }) : null;
  if (!payment || (payment.userId !== viewer.id && viewer.role !== 'ADMIN')) throw notFound('Payment', id);
  return payment;
}

export function listPayments(em: EntityManager, userId: string, first: number): Promise<PaymentRecord[]> {
  if (!Number.isInteger(first) || first < 1 || first > 100) throw badInput('first', 'Ask for 1 to 100 payments.');
  return em.find(PaymentRecord, { userId }, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: first });
}

/** One query for the histories of a page of payments, oldest change first. */
export function historyLoader(em: EntityManager) {
  return new DataLoader<string, PaymentStatusChangeRecord[]>(async (ids) => {
    const rows = await em.find(PaymentStatusChangeRecord, { paymentId: { $in: [...ids] } }, { orderBy: { id: 'asc' } });
    return ids.map((id) => rows.filter((row) => row.paymentId === id));
  });
}
