import { conflict } from '@analytica/errors';
import { recordEvent, type PaymentStatus } from '@analytica/events';
import type { EntityManager } from '@analytica/postgres';
import { NEXT_STATUSES, PaymentStatusChangeRecord, type PaymentRecord } from './payment.entity.js';

/** The result of an action on a payment, and whether its status moved (then it is published live). */
export interface PaymentChange {
  payment: PaymentRecord;
  moved: boolean;
}

/** `payments.status-changed.v1` for the payment's current status, in the caller's transaction (outbox). */
export function statusEvent(tx: EntityManager, payment: PaymentRecord, previous: PaymentStatus | null, reason: string | null) {
  recordEvent(tx, 'payments.status-changed.v1', payment.userId, {
    userId: payment.userId,
    paymentId: payment.id,
    bankAccountId: payment.bankAccountId,
    status: payment.status,
    previousStatus: previous,
    reason,
    amountMinor: String(payment.amountMinor),
    currency: payment.currency,
    payeeName: payment.payeeName,
    reference: payment.reference,
    bankReference: payment.providerReference,
    changedAt: payment.updatedAt.toISOString(),
  });
}

/** The history row of the payment's current status. */
export function recordStatus(tx: EntityManager, payment: PaymentRecord, reason: string | null) {
  tx.create(PaymentStatusChangeRecord, { paymentId: payment.id, status: payment.status, reason, at: payment.updatedAt } as PaymentStatusChangeRecord);
}

/** `payments.requested.v1`, which hands a QUEUED payment to the payments worker. */
export function requestedEvent(tx: EntityManager, payment: PaymentRecord) {
  recordEvent(tx, 'payments.requested.v1', payment.userId, {
    userId: payment.userId,
    paymentId: payment.id,
    bankAccountId: payment.bankAccountId,
    amountMinor: String(payment.amountMinor),
    currency: payment.currency,
    payeeName: payment.payeeName,
    requestedAt: payment.updatedAt.toISOString(),
  });
}

/**
 * Moves a payment that the caller has locked (PESSIMISTIC_WRITE in `tx`) to its next status, and
 * writes the history row and `payments.status-changed.v1` in the same transaction.
 */
export function transitionPayment(tx: EntityManager, payment: PaymentRecord, to: PaymentStatus, reason: string | null) {
  const from = payment.status;
  if (!NEXT_STATUSES[from].includes(to)) {
    throw conflict(`Payment ${payment.id} is ${from} and cannot become ${to}.`);
  }
  payment.status = to;
  payment.updatedAt = new Date();
  if (to === 'FAILED') payment.failureReason = reason;
  recordStatus(tx, payment, reason);
  statusEvent(tx, payment, from, reason);
}
