import { createHash } from 'node:crypto';
import { AppError, badInput, ErrorCode } from '@analytica/errors';
import { assertCurrency, assertMinorUnits, formatMinorUnits } from '@analytica/money';
import type { EntityManager } from '@analytica/postgres';
import { UNPAID_STATUSES } from './payment.entity.js';

/** The risk limits checked before a payment is queued (see the PAYMENT_* variables). */
export interface RiskLimits {
  maxAmountMinor: number;
  dailyLimitMinor: number;
  velocityMax: number;
  velocityWindowSeconds: number;
  reviewThresholdMinor: number;
}

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

export function validatePaymentRequest(request: PaymentRequest, limits: RiskLimits): PaymentRequest {
  assertMinorUnits(request.amountMinor, 'input.amount.amountMinor', { positive: true });
  assertCurrency(request.currency, 'input.amount.currency');
  if (request.payeeName.length < 1 || request.payeeName.length > 70) throw badInput('input.payeeName', 'Give the payee name in 1 to 70 characters.');
  if (request.reference.length > 140) throw badInput('input.reference', 'Keep the reference to 140 characters (what a SEPA transfer carries).');
  if (/[\p{Cc}]/u.test(request.payeeName + request.reference)) {
    throw badInput(/[\p{Cc}]/u.test(request.payeeName) ? 'input.payeeName' : 'input.reference', 'Remove line breaks and control characters.');
  }
  if (request.amountMinor > limits.maxAmountMinor) {
    throw badInput(
      'input.amount.amountMinor',
      `A single payment can be at most ${formatMinorUnits(limits.maxAmountMinor, request.currency)} ${request.currency}; split it or contact support.`,
    );
  }
  return request;
}

/** One number from SQL (a count, a sum), in the caller's transaction. */
export async function scalar(tx: EntityManager, sql: string, params: unknown[]): Promise<number> {
  const rows: { value: string | number | null }[] = await tx.getConnection().execute(sql, params, 'all', tx.getTransactionContext());
  return Number(rows[0]?.value ?? 0);
}

/**
 * Velocity and daily total, checked with the user's payments serialised (an advisory lock held
 * to the end of the transaction), so that concurrent requests cannot both slip under a limit.
 */
export async function checkRisk(tx: EntityManager, userId: string, request: PaymentRequest, limits: RiskLimits) {
  const recent = await scalar(tx, `select count(*) as value from payments where user_id = ? and created_at > now() - make_interval(secs => ?)`, [
    userId,
    limits.velocityWindowSeconds,
  ]);
  if (recent >= limits.velocityMax) {
    throw new AppError(
      ErrorCode.RATE_LIMITED,
      `You have made ${recent} payments in the last ${Math.round(limits.velocityWindowSeconds / 60)} minutes, the most allowed; try again later.`,
      { retryAfterSeconds: limits.velocityWindowSeconds },
    );
  }
  const today = await scalar(
    tx,
    `select coalesce(sum(amount_minor), 0) as value from payments
      where user_id = ? and currency = ? and created_at > now() - interval '24 hours' and status not in (${UNPAID_STATUSES.map(() => '?').join(', ')})`,
    [userId, request.currency, ...UNPAID_STATUSES],
  );
  if (today + request.amountMinor > limits.dailyLimitMinor) {
    const left = Math.max(0, limits.dailyLimitMinor - today);
    throw badInput(
      'input.amount.amountMinor',
      `This would take you over your limit of ${formatMinorUnits(limits.dailyLimitMinor, request.currency)} ${request.currency} in 24 hours; ` +
        `${formatMinorUnits(left, request.currency)} ${request.currency} is left.`,
    );
  }
}
