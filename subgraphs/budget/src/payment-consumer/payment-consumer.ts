import { AppError, ErrorCode } from '@analytica/errors';
import { claimEvent, PermanentFailure, runConsumer, type Event, type EventBus } from '@analytica/events';
import type { Logger } from '@analytica/logger';
import type { Database, EntityManager } from '@analytica/postgres';
import { AccountRecord } from '../accounts/account.entity.js';
import { openAccount } from '../accounts/accounts.js';
import type { TransactionRecord } from '../transactions/transaction.entity.js';
import { recordTransaction } from '../transactions/transactions.js';

/** The consumer name under which booked payments are recorded in processed_events. */
export const PAYMENT_CONSUMER = 'budget.payments';

/**
 * Where a payment is booked. The budget does not know the payment service's bank accounts, so the
 * money leaves the user's oldest open checking account in the payment's currency (or any open
 * account in it); a user with none gets a "Bank payments" account in that currency.
 */
async function accountFor(tx: EntityManager, userId: string, currency: string): Promise<AccountRecord> {
  const accounts = await tx.find(AccountRecord, { userId, currency, archivedAt: null }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  const chosen = accounts.find((a) => a.type === 'CHECKING') ?? accounts[0];
  return chosen ?? openAccount(tx, userId, { name: `Bank payments (${currency})`, type: 'CHECKING', currency });
}

/**
 * Books a SUCCEEDED payment as an outgoing transaction, once per payment: the claim is keyed by the
 * payment id (not the event id), in the same transaction as the booking, so neither a redelivered
 * event nor a replayed one books it twice. Other statuses are ignored.
 */
export async function bookSucceededPayment(em: EntityManager, event: Event<'payments.status-changed.v1'>): Promise<TransactionRecord | null> {
  const p = event.payload;
  if (p.status !== 'SUCCEEDED') return null;
  const amount = Number(p.amountMinor);
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new PermanentFailure(`payment ${p.paymentId} has an amount of ${p.amountMinor}`);
  try {
    return await em.transactional(async (tx) => {
      if (!(await claimEvent(tx, `payment:${p.paymentId}`, PAYMENT_CONSUMER))) return null;
      const account = await accountFor(tx, p.userId, p.currency);
      return recordTransaction(tx, p.userId, {
        accountId: account.id,
        amount: { amountMinor: -amount, currency: p.currency },
        bookedAt: new Date(p.changedAt),
        payee: p.payeeName,
        notes: p.reference ? `${p.reference} (payment ${p.paymentId})` : `Payment ${p.paymentId}`,
        tags: ['payment'],
      });
    });
  } catch (error) {
    // The budget's own checks refused it (a currency it does not support, say): no retry will pass.
    if (error instanceof AppError && error.extensions.code === ErrorCode.BAD_USER_INPUT) throw new PermanentFailure(error.message);
    throw error;
  }
}

/**
 * Consumes payments.status-changed.v1 and books each succeeded payment in the budget. Start it from
 * startBudgetService beside the outbox relay (pass `onBooked: relay.poke` so the transaction's own
 * events leave at once); stop it before the database closes.
 */
export async function startPaymentConsumer(options: { db: Database; bus: EventBus; logger: Logger; onBooked?: () => void; retryDelaysMs?: number[] }) {
  // While another process creates the topic, Kafka answers "unknown topic" for a moment: try again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await consume(options);
    } catch (error) {
      if (attempt >= 6 || (error as { retriable?: boolean }).retriable !== true) throw error;
      options.logger.warn({ err: error, attempt }, 'payment consumer could not start yet; trying again');
      await new Promise((r) => setTimeout(r, 300 * attempt));
    }
  }
}

function consume(options: Parameters<typeof startPaymentConsumer>[0]) {
  return runConsumer({
    bus: options.bus,
    logger: options.logger,
    groupId: PAYMENT_CONSUMER,
    topic: 'payments.status-changed.v1',
    retryDelaysMs: options.retryDelaysMs,
    async handle(event) {
      const booked = await bookSucceededPayment(options.db.fork(), event);
      if (booked) {
        options.logger.info({ paymentId: event.payload.paymentId, transactionId: booked.id }, 'payment booked');
        options.onBooked?.();
      }
    },
  });
}
