// The payments worker's side of the state machine.
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@analytica/postgres';
import { bookDebit } from '../ledger/ledger.js';
import { transitionPayment, type PaymentChange } from './lifecycle.js';
import { PaymentRecord } from './payment.entity.js';

/**
 * Takes a QUEUED payment into PROCESSING before the bank is called. A payment found PROCESSING is
 * one whose earlier attempt stopped somewhere (a crash, a passing failure): it is returned so the
 * caller asks the bank again with the same idempotency key. Anything else is left alone.
 */
export async function beginProcessing(em: EntityManager, paymentId: string): Promise<PaymentChange | null> {
  return em.transactional(async (tx) => {
    const payment = await tx.findOne(PaymentRecord, { id: paymentId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!payment) return null;
    if (payment.status !== 'QUEUED') return { payment, moved: false };
    transitionPayment(tx, payment, 'PROCESSING', null);
    return { payment, moved: true };
  });
}

export type Settlement = { status: 'SUCCEEDED'; bankReference: string; bookedAt: Date } | { status: 'FAILED'; bankReference: string | null; reason: string };

/**
 * Ends a PROCESSING payment with the bank's answer. SUCCEEDED books the ledger debit in the same
 * transaction. A payment no longer PROCESSING was settled by someone else (a redelivery, the
 * reconciler) with the same answer from the bank, and is left as it is.
 */
export async function settlePayment(
  em: EntityManager,
  paymentId: string,
  settlement: Settlement,
  hooks: { /** Test hook: runs after the settlement is written in its transaction, before the commit. */ beforeCommit?: () => void } = {},
): Promise<PaymentChange | null> {
  return em.transactional(async (tx) => {
    const payment = await tx.findOne(PaymentRecord, { id: paymentId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!payment) return null;
    if (payment.status !== 'PROCESSING') return { payment, moved: false };
    payment.providerReference = settlement.bankReference;
    if (settlement.status === 'SUCCEEDED') {
      transitionPayment(tx, payment, 'SUCCEEDED', null);
      bookDebit(tx, {
        paymentId: payment.id,
        userId: payment.userId,
        bankAccountId: payment.bankAccountId,
        amountMinor: -payment.amountMinor,
        currency: payment.currency,
        bankReference: settlement.bankReference,
        bookedAt: settlement.bookedAt,
      });
    } else {
      transitionPayment(tx, payment, 'FAILED', settlement.reason);
    }
    if (hooks.beforeCommit) {
      await tx.flush();
      hooks.beforeCommit();
    }
    return { payment, moved: true };
  });
}

/**
 * Cancels payments whose confirmation code expired unused, so that none waits in REQUIRES_ACTION for
 * ever (confirmPayment does the same when the payer comes back late). Answers the canceled payments.
 */
export async function cancelUnconfirmedPayments(em: EntityManager, limit: number): Promise<PaymentRecord[]> {
  return em.transactional(async (tx) => {
    // SKIP LOCKED: a payment the payer is confirming right now is left to that confirmation.
    const expired = await tx.find(
      PaymentRecord,
      { status: 'REQUIRES_ACTION', confirmationExpiresAt: { $lt: new Date() } },
      { orderBy: { confirmationExpiresAt: 'asc' }, limit, lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE },
    );
    for (const payment of expired) {
      transitionPayment(tx, payment, 'CANCELED', 'The confirmation code expired before it was entered.');
      payment.confirmationCodeHash = null;
    }
    return expired;
  });
}

/** Ids of payments that have sat in PROCESSING since before `before`, oldest first. */
export async function stuckPayments(em: EntityManager, before: Date, limit: number): Promise<string[]> {
  const rows: { id: string }[] = await em
    .getConnection()
    .execute(`select id from payments where status = 'PROCESSING' and updated_at < ? order by updated_at limit ?`, [before, limit], 'all');
  return rows.map((r) => r.id);
}
