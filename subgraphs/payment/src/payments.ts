import { createHash, randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import { BigIntType, EntitySchema, LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { AuthUser } from '@analytica/auth';
import { AppError, badInput, conflict, ErrorCode, notFound } from '@analytica/errors';
import { recordEvent } from '@analytica/events';
import { assertCurrency, assertMinorUnits, formatMinorUnits } from '@analytica/money';
import type { EntityManager } from '@analytica/postgres';
import type { Redis } from '@analytica/redis';
import { createLivePublisher } from '@analytica/redis/live';
import { BankAccountRecord } from './bank-accounts.js';
import { isUuid } from './ids.js';
import { bookDebit } from './ledger.js';
import { codeHash, codeMatches, MAX_CODE_ATTEMPTS, newOneTimeCode } from './one-time-codes.js';
import { notePayee, payeeKey } from './payees.js';

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

/** The risk limits checked before a payment is queued (see the PAYMENT_* variables). */
export interface RiskLimits {
  maxAmountMinor: number;
  dailyLimitMinor: number;
  velocityMax: number;
  velocityWindowSeconds: number;
  reviewThresholdMinor: number;
}

export interface PaymentSettings {
  limits: RiskLimits;
  /** Keys the HMAC of one-time codes. */
  secret: string;
  codeTtlSeconds: number;
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

function validatePaymentRequest(request: PaymentRequest, limits: RiskLimits): PaymentRequest {
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

function replay(existing: PaymentRecord, fingerprint: string): PaymentRecord {
  if (existing.requestFingerprint !== fingerprint) {
    throw conflict(
      `The idempotency key "${existing.idempotencyKey}" was already used for a different payment request; send a new key for a new payment.`,
    );
  }
  return existing;
}

async function scalar(tx: EntityManager, sql: string, params: unknown[]): Promise<number> {
  const rows: { value: string | number | null }[] = await tx.getConnection().execute(sql, params, 'all', tx.getTransactionContext());
  return Number(rows[0]?.value ?? 0);
}

/**
 * Velocity and daily total, checked with the user's payments serialised (an advisory lock held
 * to the end of the transaction), so that concurrent requests cannot both slip under a limit.
 */
async function checkRisk(tx: EntityManager, userId: string, request: PaymentRequest, limits: RiskLimits) {
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
      where user_id = ? and currency = ? and created_at > now() - interval '24 hours' and status not in ('FAILED', 'CANCELED')`,
    [userId, request.currency],
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

function statusEvent(tx: EntityManager, payment: PaymentRecord, previous: PaymentStatus | null, reason: string | null) {
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

function recordStatus(tx: EntityManager, payment: PaymentRecord, reason: string | null) {
  tx.create(PaymentStatusChangeRecord, { paymentId: payment.id, status: payment.status, reason, at: payment.updatedAt } as PaymentStatusChangeRecord);
}

function requestedEvent(tx: EntityManager, payment: PaymentRecord) {
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
export async function initiatePayment(
  em: EntityManager,
  userId: string,
  input: PaymentRequest,
  idempotencyKey: string,
  settings: PaymentSettings,
): Promise<PaymentRecord> {
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
      await tx.getConnection().execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`payments:${userId}`], 'all', tx.getTransactionContext());
      // A duplicate that waited on the lock finds the winner here, before the limits count it.
      const winner = await tx.findOne(PaymentRecord, { userId, idempotencyKey });
      if (winner) return replay(winner, fingerprint);
      // FOR SHARE: an unlink of this account waits for this payment, and then sees it in flight.
      const account = await tx.findOne(BankAccountRecord, { id: request.bankAccountId }, { lockMode: LockMode.PESSIMISTIC_READ });
      if (!account || account.userId !== userId) throw notFound('BankAccount', request.bankAccountId);
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

async function lockOwnPayment(tx: EntityManager, userId: string, id: string): Promise<PaymentRecord> {
  const payment = await tx.findOne(PaymentRecord, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!payment || payment.userId !== userId) throw notFound('Payment', id);
  return payment;
}

/** The result of an action on a payment, and whether its status moved (then it is published live). */
export interface PaymentChange {
  payment: PaymentRecord;
  moved: boolean;
}

/**
 * Releases a payment waiting in REQUIRES_ACTION with the code that was emailed. A wrong code counts
 * (committed although the caller is refused: `refusal` is the error to answer); the last wrong try
 * fails the payment, and an expired code cancels it, since the payer did not confirm it in time.
 */
export async function confirmPayment(
  em: EntityManager,
  userId: string,
  id: string,
  code: string,
  settings: PaymentSettings,
): Promise<PaymentChange & { refusal?: AppError }> {
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

// --- The payments worker's side of the state machine ---

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

export type Settlement =
  | { status: 'SUCCEEDED'; bankReference: string; bookedAt: Date }
  | { status: 'FAILED'; bankReference: string | null; reason: string };

/**
 * Ends a PROCESSING payment with the bank's answer. SUCCEEDED books the ledger debit in the same
 * transaction. A payment no longer PROCESSING was settled by someone else (a redelivery, the
 * reconciler) with the same answer from the bank, and is left as it is.
 */
export async function settlePayment(em: EntityManager, paymentId: string, settlement: Settlement): Promise<PaymentChange | null> {
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

// --- Live status for Subscription.paymentStatus ---

/**
 * What the gateway delivers for `paymentStatus`: `__typename`, the key and every field of Payment
 * the payment subgraph resolves without a query (fields of other types are fetched per event).
 */
export function paymentSnapshot(payment: PaymentRecord) {
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

// --- Reads ---

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
