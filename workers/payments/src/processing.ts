import { PermanentFailure } from '@analytica/events';
import type { Logger } from '@analytica/logger';
import type { Database } from '@analytica/postgres';
import {
  BankAccountRecord,
  BankRefusal,
  beginProcessing,
  providerLink,
  settlePayment,
  type BankClient,
  type PaymentOutcome,
  type PaymentRecord,
  type Settlement,
} from '@analytica/payment-subgraph/domain';
import type { CrashPoint } from './environment.js';

export interface ProcessingDeps {
  db: Database;
  bank: BankClient;
  logger: Logger;
  /** Called after each committed status change (live status, metrics). */
  onChange(payment: PaymentRecord): Promise<void>;
  /** Test hook (PAYMENTS_CRASH_AT): called at each step of a payment; crashes the process at the chosen one. */
  step?(point: CrashPoint): void;
}

export type ProcessingResult = 'SUCCEEDED' | 'FAILED' | 'skipped';

function settlementOf(outcome: PaymentOutcome): Settlement {
  return outcome.status === 'EXECUTED'
    ? { status: 'SUCCEEDED', bankReference: outcome.bankPaymentId, bookedAt: new Date(outcome.bookedAt) }
    : { status: 'FAILED', bankReference: outcome.bankPaymentId, reason: `The bank declined the payment: ${outcome.message} (${outcome.code})` };
}

async function settle(deps: ProcessingDeps, paymentId: string, settlement: Settlement): Promise<ProcessingResult> {
  // before-commit: the settlement's rows are written in its open transaction, not yet committed.
  const step = deps.step;
  const settled = await settlePayment(deps.db.fork(), paymentId, settlement, step ? { beforeCommit: () => step('before-commit') } : {});
  if (!settled) throw new PermanentFailure(`payment ${paymentId} disappeared while it was processed`);
  if (settled.moved) await deps.onChange(settled.payment);
  return settled.moved ? settlement.status : 'skipped';
}

/**
 * Sends one payment to the bank, at most once in effect, whatever happens to this process:
 *
 * 1. QUEUED → PROCESSING is committed before the bank is called (with its status event).
 * 2. The bank is called with the payment id as idempotency key: however often this step runs
 *    (a redelivery after a crash, a retry tier, the reconciler), the bank applies the order once
 *    and answers every call with the same outcome.
 * 3. PROCESSING → SUCCEEDED (with its ledger debit) or FAILED is committed only from PROCESSING,
 *    so a second settlement of the same outcome changes nothing.
 *
 * A passing bank failure is thrown (the consumer retries it through the retry tiers); a payment
 * already past PROCESSING, or canceled before it got there, is skipped.
 */
export async function processPayment(deps: ProcessingDeps, paymentId: string): Promise<ProcessingResult> {
  const begun = await beginProcessing(deps.db.fork(), paymentId);
  if (!begun) throw new PermanentFailure(`payment ${paymentId} does not exist`);
  if (begun.moved) await deps.onChange(begun.payment);
  const payment = begun.payment;
  if (payment.status !== 'PROCESSING') return 'skipped';

  const em = deps.db.fork();
  const account = await em.findOne(BankAccountRecord, { id: payment.bankAccountId });
  const link = account ? await providerLink(em, account) : null;
  if (!link) {
    return settle(deps, payment.id, { status: 'FAILED', bankReference: null, reason: 'The bank account is not linked through a bank connection; link it again.' });
  }
  let outcome: PaymentOutcome;
  // before-bank: PROCESSING is committed, the bank not yet called.
  deps.step?.('before-bank');
  try {
    outcome = await deps.bank.submitPayment(payment.id, link.consentId, {
      debtorAccountId: link.providerAccountId,
      amount: { amountMinor: payment.amountMinor, currency: payment.currency },
      creditorName: payment.payeeName,
      reference: payment.reference,
    });
  } catch (error) {
    // The bank refused the request itself (a revoked consent, say): no retry can change that.
    if (error instanceof BankRefusal) {
      return settle(deps, payment.id, { status: 'FAILED', bankReference: null, reason: `The bank refused the payment order: ${error.message} (${error.code})` });
    }
    throw error;
  }
  // after-bank: the bank has applied the order and answered; nothing of it is committed here yet.
  deps.step?.('after-bank');
  return settle(deps, payment.id, settlementOf(outcome));
}

/**
 * Settles a payment left in PROCESSING (its messages died in the dead-letter topic, or the worker
 * stopped for good mid-way) by asking the bank what became of its key. A bank that never received
 * it gets the order now, under the same key, so a call still in flight elsewhere cannot double it.
 */
export async function reconcilePayment(deps: ProcessingDeps, paymentId: string): Promise<ProcessingResult> {
  const outcome = await deps.bank.paymentByKey(paymentId);
  if (outcome === null) return processPayment(deps, paymentId);
  return settle(deps, paymentId, settlementOf(outcome));
}
