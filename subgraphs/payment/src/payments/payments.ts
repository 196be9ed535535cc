import { randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import { LockMode, UniqueConstraintViolationException, type FilterQuery } from '@mikro-orm/core';
import type { AuthUser } from '@analytica/auth';
import { AppError, badInput, conflict, notFound } from '@analytica/errors';
import { recordEvent, type PaymentStatus } from '@analytica/events';
import { allowLongerStatements, type EntityManager } from '@analytica/postgres';
import { isUuid, ownedOrNotFound, visibleOrNotFound } from '@analytica/subgraph/access';
import { checkPageSize, newestFirstPage, pageOf } from '@analytica/subgraph/pages';
import { BankAccountRecord } from '../bank-accounts/bank-account.entity.js';
import { codeHash, codeMatches, MAX_CODE_ATTEMPTS, newOneTimeCode } from '../one-time-codes.js';
import { notePayee, payeeKey } from '../payees/payees.js';
import { recordStatus, requestedEvent, statusEvent, transitionPayment, type PaymentChange } from './lifecycle.js';
import { PaymentRecord, PaymentStatusChangeRecord } from './payment.entity.js';
import { assertIdempotencyKey, checkRisk, requestFingerprint, scalar, validatePaymentRequest, type PaymentRequest, type RiskLimits } from './risk.js';

export interface PaymentSettings {
  limits: RiskLimits;
  /** Keys the HMAC of one-time codes. */
  secret: string;
  codeTtlSeconds: number;
}

function replay(existing: PaymentRecord, fingerprint: string): PaymentRecord {
  if (existing.requestFingerprint !== fingerprint) {
    throw conflict(`The idempotency key "${existing.idempotencyKey}" was already used for a different payment request; send a new key for a new payment.`);
  }
  return existing;
}

function issueConfirmationCode(tx: EntityManager, payment: PaymentRecord, settings: PaymentSettings) {
  const code = newOneTimeCode();
  payment.confirmationCodeHash = codeHash(settings.secret, 'payment', payment.id, code);
  payment.confirmationExpiresAt = new Date(Date.now() + settings.codeTtlSeconds * 1000);
  payment.confirmationAttempts = 0;
  recordEvent(tx, 'notifications.email.v1', payment.userId, {
    userId: payment.userId,
    template: 'one-time-code',
    data: {
      purpose: 'payment',
      code,
      expiresAt: payment.confirmationExpiresAt.toISOString(),
      paymentId: payment.id,
      payeeName: payment.payeeName,
      amountMinor: payment.amountMinor,
      currency: payment.currency,
    },
  });
}

/**
 * Creates a payment with Stripe's idempotency semantics: the same key and the same request give the
 * same payment (no second row, no second event); the same key with another request is a CONFLICT.
 * Risk checks run before anything is written: limits refuse, and a large payment to a payee the
 * user never paid waits in REQUIRES_ACTION for a code sent by email. The payment, its first history
 * row and its events (`payments.requested.v1` once it is QUEUED) are written in one transaction.
 * Duplicates that race past the first lookup meet the unique (user_id, idempotency_key) constraint,
 * and the losers answer with the winner's payment.
 */
export async function initiatePayment(em: EntityManager, userId: string, input: PaymentRequest, idempotencyKey: string, settings: PaymentSettings): Promise<PaymentRecord> {
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
  validatePaymentRequest(request, settings.limits);
  if (!isUuid(request.bankAccountId)) throw notFound('BankAccount', request.bankAccountId);

  try {
    return await em.transactional(async (tx) => {
      // A user's payments queue here on purpose: this transaction may wait longer than the pool's
      // lock_timeout (and the wait is one statement, under statement_timeout too).
      await allowLongerStatements(tx, { statementTimeoutMs: 15_000, lockTimeoutMs: 10_000 });
      await tx.getConnection().execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`payments:${userId}`], 'all', tx.getTransactionContext());
      // A duplicate that waited on the lock finds the winner here, before the limits count it.
      const winner = await tx.findOne(PaymentRecord, { userId, idempotencyKey });
      if (winner) return replay(winner, fingerprint);
      // FOR SHARE: an unlink of this account waits for this payment, and then sees it in flight.
      const account = ownedOrNotFound(
        userId,
        await tx.findOne(BankAccountRecord, { id: request.bankAccountId }, { lockMode: LockMode.PESSIMISTIC_READ }),
        'BankAccount',
        request.bankAccountId,
      );
      if (account.status === 'UNLINKED') throw badInput('input.bankAccountId', 'This bank account was unlinked; link it again or pay from another account.');
      if (account.status !== 'VERIFIED') throw badInput('input.bankAccountId', 'This bank account is not verified yet; enter the code we emailed you (verifyBankAccount) first.');
      if (account.currency !== request.currency) {
        throw badInput('input.amount.currency', `This bank account holds ${account.currency}; send the amount in ${account.currency}.`);
      }
      await checkRisk(tx, userId, request, settings.limits);
      const knownPayee = await scalar(tx, 'select count(*) as value from payees where user_id = ? and name_key = ?', [userId, payeeKey(request.payeeName)]);
      const needsCode = knownPayee === 0 && request.amountMinor >= settings.limits.reviewThresholdMinor;

      const now = new Date();
      const payment = tx.create(PaymentRecord, {
        id: randomUUID(),
        userId,
        ...request,
        status: needsCode ? 'REQUIRES_ACTION' : 'QUEUED',
        idempotencyKey,
        requestFingerprint: fingerprint,
        failureReason: null,
        providerReference: null,
        createdAt: now,
        updatedAt: now,
        confirmationCodeHash: null,
        confirmationExpiresAt: null,
        confirmationAttempts: 0,
      });
      // The history row references the payment: write the payment first, still inside the transaction.
      await tx.flush();
      const reason = needsCode ? 'A first payment of this size to this payee: confirm it with the code we emailed you.' : null;
      recordStatus(tx, payment, reason);
      statusEvent(tx, payment, null, reason);
      if (needsCode) {
        issueConfirmationCode(tx, payment, settings);
      } else {
        await notePayee(tx, userId, payment.payeeName, now);
        requestedEvent(tx, payment);
      }
      return payment;
    });
  } catch (error) {
    if (!(error instanceof UniqueConstraintViolationException)) throw error;
    const winner = await em.fork().findOne(PaymentRecord, { userId, idempotencyKey });
    if (!winner) throw error;
    return replay(winner, fingerprint);
  }
}

async function lockOwnPayment(tx: EntityManager, userId: string, id: string): Promise<PaymentRecord> {
  return ownedOrNotFound(userId, await tx.findOne(PaymentRecord, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE }), 'Payment', id);
}

/**
 * Releases a payment waiting in REQUIRES_ACTION with the code that was emailed. A wrong code counts
 * (committed although the caller is refused: `refusal` is the error to answer); the last wrong try
 * fails the payment, and an expired code cancels it, since the payer did not confirm it in time.
 */
export async function confirmPayment(em: EntityManager, userId: string, id: string, code: string, settings: PaymentSettings): Promise<PaymentChange & { refusal?: AppError }> {
  if (!isUuid(id)) throw notFound('Payment', id);
  let refusal: AppError | undefined;
  const change = await em.transactional(async (tx): Promise<PaymentChange> => {
    const payment = await lockOwnPayment(tx, userId, id);
    if (payment.status !== 'REQUIRES_ACTION') throw conflict(`Payment ${id} is ${payment.status}; only a payment that REQUIRES_ACTION is confirmed with a code.`);
    if (!payment.confirmationExpiresAt || payment.confirmationExpiresAt <= new Date()) {
      transitionPayment(tx, payment, 'CANCELED', 'The confirmation code expired before it was entered.');
      payment.confirmationCodeHash = null;
      refusal = badInput('code', 'The code has expired, so the payment was canceled; start a new payment.');
      return { payment, moved: true };
    }
    if (!codeMatches(payment.confirmationCodeHash, settings.secret, 'payment', payment.id, code)) {
      payment.confirmationAttempts += 1;
      const left = MAX_CODE_ATTEMPTS - payment.confirmationAttempts;
      if (left > 0) {
        refusal = badInput('code', `That code is not right; ${left} tries left.`);
        return { payment, moved: false };
      }
      transitionPayment(tx, payment, 'FAILED', 'Too many wrong confirmation codes.');
      payment.confirmationCodeHash = null;
      refusal = badInput('code', 'That code is not right, and it was the last try: the payment failed. Start a new payment if you meant it.');
      return { payment, moved: true };
    }
    payment.confirmationCodeHash = null;
    payment.confirmationExpiresAt = null;
    transitionPayment(tx, payment, 'QUEUED', 'Confirmed with the emailed code.');
    await notePayee(tx, userId, payment.payeeName, payment.updatedAt);
    requestedEvent(tx, payment);
    return { payment, moved: true };
  });
  return { ...change, refusal };
}

/** A payment can be canceled until the bank has it: once PROCESSING it is out of our hands. */
export async function cancelPayment(em: EntityManager, userId: string, id: string): Promise<PaymentRecord> {
  if (!isUuid(id)) throw notFound('Payment', id);
  return em.transactional(async (tx) => {
    const payment = await lockOwnPayment(tx, userId, id);
    if (payment.status !== 'QUEUED' && payment.status !== 'REQUIRES_ACTION') {
      throw conflict(`Payment ${id} is ${payment.status}; only a QUEUED payment (or one that REQUIRES_ACTION) can be canceled.`);
    }
    transitionPayment(tx, payment, 'CANCELED', 'Canceled by the payer.');
    payment.confirmationCodeHash = null;
    return payment;
  });
}

// --- Reads ---

/** The largest page of payments one request reads. */
export const MAX_PAYMENTS_PAGE = 100;

/** Owners see their own payments, admins everyone's; anybody else is told it does not exist. */
export async function findPayment(em: EntityManager, viewer: AuthUser, id: string): Promise<PaymentRecord> {
  return visibleOrNotFound(viewer, isUuid(id) ? await em.findOne(PaymentRecord, { id }) : null, 'Payment', id);
}

export function listPayments(em: EntityManager, userId: string, first: number): Promise<PaymentRecord[]> {
  if (!Number.isInteger(first) || first < 1 || first > 100) throw badInput('first', 'Ask for 1 to 100 payments.');
  return em.find(PaymentRecord, { userId }, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: first });
}

export interface PaymentFilter {
  statuses?: PaymentStatus[] | null;
  bankAccountId?: string | null;
}

/** A page of the user's payments, newest first, with how many match the filter across all pages. */
export async function pagePayments(em: EntityManager, userId: string, filter: PaymentFilter, first: number, after: string | null | undefined) {
  checkPageSize(first, MAX_PAYMENTS_PAGE, 'payments');
  if (filter.statuses?.length === 0) throw badInput('filter.statuses', 'Give at least one status, or leave statuses out for all of them.');
  // Not a uuid: no account of anybody's, so no payments (rather than a database error).
  if (filter.bankAccountId != null && !isUuid(filter.bankAccountId)) return { ...pageOf<PaymentRecord>([], false), totalCount: 0 };
  const matching: FilterQuery<PaymentRecord> = {
    userId,
    ...(filter.statuses ? { status: { $in: filter.statuses } } : {}),
    ...(filter.bankAccountId != null ? { bankAccountId: filter.bankAccountId } : {}),
  };
  return newestFirstPage(first, after, {
    rows: (older, limit) => em.find(PaymentRecord, older ? { $and: [matching, older] } : matching, { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], limit }),
    count: () => em.count(PaymentRecord, matching),
  });
}

/** One query for the histories of a page of payments, oldest change first. */
export function historyLoader(em: EntityManager) {
  return new DataLoader<string, PaymentStatusChangeRecord[]>(async (ids) => {
    const rows = await em.find(PaymentStatusChangeRecord, { paymentId: { $in: [...ids] } }, { orderBy: { id: 'asc' } });
    return ids.map((id) => rows.filter((row) => row.paymentId === id));
  });
}
