import type { Logger } from '@analytica/logger';
import type { Database } from '@analytica/postgres';
import { cancelUnconfirmedPayments, stuckPayments, type PaymentRecord } from '@analytica/payment-subgraph/domain';
import type { ProcessingResult } from './processing.js';

/**
 * Every `intervalMs`, settles the payments that have been PROCESSING for longer than `afterMs`, and
 * cancels those whose confirmation code expired in REQUIRES_ACTION.
 * Several workers may run it at once: settling is guarded by the state machine and the bank's
 * idempotency key, so two reconcilers of one payment do no harm.
 */
export function startReconciler(options: {
  db: Database;
  logger: Logger;
  intervalMs: number;
  afterMs: number;
  reconcile(paymentId: string): Promise<ProcessingResult>;
  onReconciled?(result: ProcessingResult): void;
  /** After each committed change made here (payments canceled for want of confirmation). */
  onChange?(payment: PaymentRecord): Promise<void>;
}) {
  let running = true;
  let wake: (() => void) | undefined;

  async function pass() {
    for (const payment of await cancelUnconfirmedPayments(options.db.fork(), 100)) {
      options.logger.info({ paymentId: payment.id }, 'payment canceled: not confirmed in time');
      await options.onChange?.(payment);
    }
    const ids = await stuckPayments(options.db.fork(), new Date(Date.now() - options.afterMs), 100);
    for (const id of ids) {
      if (!running) return;
      try {
        const result = await options.reconcile(id);
        options.onReconciled?.(result);
        options.logger.info({ paymentId: id, result }, 'payment reconciled with the bank');
      } catch (error) {
        options.logger.warn({ paymentId: id, err: error }, 'payment could not be reconciled yet');
      }
    }
  }

  const done = (async () => {
    while (running) {
      try {
        await pass();
      } catch (error) {
        options.logger.error({ err: error }, 'reconciliation pass failed');
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();

  return {
    async stop() {
      running = false;
      wake?.();
      await done;
    },
  };
}
