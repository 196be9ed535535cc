// Live status for Subscription.paymentStatus.
import type { Redis } from '@analytica/redis';
import { createLivePublisher } from '@analytica/redis/live';
import type { PaymentRecord } from './payment.entity.js';

/**
 * What the gateway delivers for `paymentStatus`: `__typename`, the key and every field of Payment
 * the payment subgraph resolves without a query (fields of other types are fetched per event).
 */
function paymentSnapshot(payment: PaymentRecord) {
  return {
    __typename: 'Payment',
    id: payment.id,
    userId: payment.userId,
    payeeName: payment.payeeName,
    reference: payment.reference,
    status: payment.status,
    amount: { amountMinor: payment.amountMinor, currency: payment.currency },
    failureReason: payment.failureReason,
    bankReference: payment.providerReference,
    createdAt: payment.createdAt.toISOString(),
    updatedAt: payment.updatedAt.toISOString(),
  };
}

/**
 * Publishes the payment's new state for `paymentStatus` after its change was committed. Best
 * effort: a lost message costs a subscriber one live update, never the truth, which queries give.
 */
export async function publishPaymentStatus(redis: Redis, prefix: string, payment: PaymentRecord, onError?: (error: unknown) => void) {
  try {
    await createLivePublisher(redis, prefix).entity('Payment', payment.id, paymentSnapshot(payment));
  } catch (error) {
    onError?.(error);
  }
}
