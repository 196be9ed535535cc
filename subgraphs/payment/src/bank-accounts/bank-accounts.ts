import { createHmac, randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { AuthUser } from '@analytica/auth';
import { AppError, badInput, conflict, ErrorCode, notFound } from '@analytica/errors';
import { recordEvent } from '@analytica/events';
import type { EntityManager } from '@analytica/postgres';
import { isUuid, ownedOrNotFound, visibleOrNotFound } from '@analytica/subgraph/access';
import { BankRefusal, BankUnavailable, type BankClient, type ProviderAccount } from '../bank-client.js';
import { codeHash, codeMatches, MAX_CODE_ATTEMPTS, MAX_CODES_PER_ACCOUNT, newOneTimeCode } from '../one-time-codes.js';
import { IN_FLIGHT_STATUSES } from '../payments/payment.entity.js';
import { BankAccountRecord, BankConnectionRecord } from './bank-account.entity.js';
import { assertIban, maskAccountNumber } from './iban.js';

/** Keyed, so that the fingerprints in a leaked table cannot be matched against a list of IBANs. */
export function accountFingerprint(secret: string, normalisedIban: string): string {
  return createHmac('sha256', secret).update(normalisedIban).digest('hex');
}

export interface LinkingSettings {
  secret: string;
  codeTtlSeconds: number;
}

/** An account the bank listed under a connection, as the user chooses among them. */
export interface OfferedAccount {
  accountId: string;
  name: string;
  holderName: string;
  accountNumber: string;
  currency: string;
  open: boolean;
  /** The user's live link to this account, if they linked it already. */
  linkedAccountId: string | null;
}

export interface BankConnectionView {
  connection: BankConnectionRecord;
  accounts: OfferedAccount[];
}

/** A provider failure while the user waits: nothing was written, they can simply try again. */
function providerProblem(error: unknown): never {
  if (error instanceof BankUnavailable) {
    throw new AppError(ErrorCode.SERVICE_UNAVAILABLE, 'The bank did not answer in time; nothing was changed. Please try again in a moment.');
  }
  if (error instanceof BankRefusal && (error.code === 'CONSENT_INVALID' || error.code === 'ACCOUNT_NOT_COVERED')) {
    throw badInput('input.connectionId', 'The bank no longer accepts this connection (revoked or expired); connect the bank again.');
  }
  throw error;
}

async function offers(em: EntityManager, userId: string, secret: string, accounts: ProviderAccount[]): Promise<OfferedAccount[]> {
  const live = await em.find(BankAccountRecord, { userId, status: { $ne: 'UNLINKED' } });
  const byFingerprint = new Map(live.map((a) => [a.accountFingerprint, a.id]));
  return accounts.map((a) => ({
    accountId: a.accountId,
    name: a.name,
    holderName: a.holderName,
    accountNumber: maskAccountNumber(a.iban),
    currency: a.currency,
    open: a.status === 'OPEN',
    linkedAccountId: byFingerprint.get(accountFingerprint(secret, a.iban)) ?? null,
  }));
}

/**
 * Asks the bank for access to the user's accounts (an account-access consent; the provider
 * authenticates the user) and answers the accounts it lists, so the user can pick one to link.
 */
export async function connectBank(em: EntityManager, bank: BankClient, userId: string, bankName: string, secret: string): Promise<BankConnectionView> {
  const name = bankName.trim();
  if (name.length < 1 || name.length > 100) throw badInput('input.bankName', 'Give the bank name in 1 to 100 characters.');
  const consent = await bank.createConsent(userId, name).catch(providerProblem);
  const connection = await em.transactional(async (tx) =>
    tx.create(BankConnectionRecord, {
      id: randomUUID(),
      userId,
      bankName: name,
      consentId: consent.consentId,
      createdAt: new Date(),
      expiresAt: new Date(consent.expiresAt),
    }),
  );
  return { connection, accounts: await offers(em, userId, secret, consent.accounts) };
}

async function ownConnection(em: EntityManager, userId: string, connectionId: string): Promise<BankConnectionRecord> {
  const connection = ownedOrNotFound(userId, isUuid(connectionId) ? await em.findOne(BankConnectionRecord, { id: connectionId }) : null, 'BankConnection', connectionId);
  if (connection.expiresAt <= new Date()) throw badInput('input.connectionId', 'This bank connection has expired; connect the bank again.');
  return connection;
}

function codeEmail(tx: EntityManager, account: BankAccountRecord, code: string, expiresAt: Date) {
  recordEvent(tx, 'notifications.email.v1', account.userId, {
    userId: account.userId,
    template: 'one-time-code',
    data: {
      purpose: 'bank-account',
      code,
      expiresAt: expiresAt.toISOString(),
      bankName: account.bankName,
      accountNumber: account.accountNumber,
      bankAccountId: account.id,
    },
  });
}

function issueCode(tx: EntityManager, account: BankAccountRecord, settings: LinkingSettings) {
  const code = newOneTimeCode();
  const expiresAt = new Date(Date.now() + settings.codeTtlSeconds * 1000);
  account.verificationCodeHash = codeHash(settings.secret, 'bank-account', account.id, code);
  account.verificationExpiresAt = expiresAt;
  account.verificationAttempts = 0;
  account.verificationCodesSent += 1;
  codeEmail(tx, account, code, expiresAt);
}

/**
 * Links one account of a connection. It starts PENDING_VERIFICATION: a one-time code goes to the
 * user's email address (through the outbox, in the same transaction), and only the code makes it
 * VERIFIED. A stolen session alone therefore cannot add a payment source.
 */
export async function linkBankAccount(
  em: EntityManager,
  bank: BankClient,
  userId: string,
  input: { connectionId: string; accountId: string },
  settings: LinkingSettings,
): Promise<BankAccountRecord> {
  const connection = await ownConnection(em, userId, input.connectionId);
  const accounts = await bank.consentAccounts(connection.consentId).catch(providerProblem);
  const chosen = accounts.find((a) => a.accountId === input.accountId);
  if (!chosen) throw badInput('input.accountId', 'This account is not among the accounts the bank listed for this connection.');
  if (chosen.status !== 'OPEN') throw badInput('input.accountId', 'The bank reports this account as closed; choose an open account.');
  const iban = assertIban(chosen.iban, 'input.accountId');
  const fingerprint = accountFingerprint(settings.secret, iban);
  const alreadyLinked = () => badInput('input.accountId', 'This bank account is already linked to your profile.');
  try {
    return await em.transactional(async (tx) => {
      if (await tx.count(BankAccountRecord, { userId, accountFingerprint: fingerprint, status: { $ne: 'UNLINKED' } })) throw alreadyLinked();
      const account = tx.create(BankAccountRecord, {
        id: randomUUID(),
        userId,
        bankName: connection.bankName,
        holderName: chosen.holderName,
        accountNumber: maskAccountNumber(iban),
        accountFingerprint: fingerprint,
        currency: chosen.currency,
        status: 'PENDING_VERIFICATION',
        createdAt: new Date(),
        verifiedAt: null,
        unlinkedAt: null,
        connectionId: connection.id,
        providerAccountId: chosen.accountId,
        verificationCodeHash: null,
        verificationExpiresAt: null,
        verificationAttempts: 0,
        verificationCodesSent: 0,
      });
      issueCode(tx, account, settings);
      return account;
    });
  } catch (error) {
    // Two links of one account at the same moment: the partial unique index lets one through.
    if (error instanceof UniqueConstraintViolationException) throw alreadyLinked();
    throw error;
  }
}

/**
 * Checks the emailed code. A wrong code counts against the account and is refused; the count is
 * committed even though the call fails, so guesses cannot be retried for free.
 */
export async function verifyBankAccount(em: EntityManager, userId: string, id: string, code: string, settings: LinkingSettings): Promise<BankAccountRecord> {
  if (!isUuid(id)) throw notFound('BankAccount', id);
  let refusal: AppError | undefined;
  const account = await em.transactional(async (tx) => {
    const row = ownedOrNotFound(userId, await tx.findOne(BankAccountRecord, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE }), 'BankAccount', id);
    if (row.status === 'VERIFIED') return row;
    if (row.status !== 'PENDING_VERIFICATION') throw badInput('id', 'This bank account was unlinked; link it again.');
    if (!row.verificationExpiresAt || row.verificationExpiresAt <= new Date()) {
      throw badInput('code', 'This code has expired; ask for a new one with resendBankAccountCode.');
    }
    if (row.verificationAttempts >= MAX_CODE_ATTEMPTS) throw badInput('code', 'Too many wrong codes; ask for a new one with resendBankAccountCode.');
    if (!codeMatches(row.verificationCodeHash, settings.secret, 'bank-account', row.id, code)) {
      row.verificationAttempts += 1;
      const left = MAX_CODE_ATTEMPTS - row.verificationAttempts;
      refusal = badInput('code', left > 0 ? `That code is not right; ${left} tries left.` : 'That code is not right, and it was the last try; ask for a new code.');
      return row;
    }
    row.status = 'VERIFIED';
    row.verifiedAt = new Date();
    row.verificationCodeHash = null;
    row.verificationExpiresAt = null;
    return row;
  });
  if (refusal) throw refusal;
  return account;
}

/** Sends a fresh code for an account still waiting for verification (a few times at most). */
export async function resendBankAccountCode(em: EntityManager, userId: string, id: string, settings: LinkingSettings): Promise<BankAccountRecord> {
  if (!isUuid(id)) throw notFound('BankAccount', id);
  return em.transactional(async (tx) => {
    const account = ownedOrNotFound(userId, await tx.findOne(BankAccountRecord, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE }), 'BankAccount', id);
    if (account.status !== 'PENDING_VERIFICATION') throw conflict(`Bank account ${id} is ${account.status}; only an account waiting for verification gets a code.`);
    if (account.verificationCodesSent >= MAX_CODES_PER_ACCOUNT) {
      throw new AppError(ErrorCode.RATE_LIMITED, 'No more codes can be sent for this account; unlink it and link it again.');
    }
    issueCode(tx, account, settings);
    return account;
  });
}

/** Unlinks the caller's own account. Unlinking twice is harmless and answers the account as it is. */
export async function unlinkBankAccount(em: EntityManager, userId: string, id: string): Promise<BankAccountRecord> {
  if (!isUuid(id)) throw notFound('BankAccount', id);
  return em.transactional(async (tx) => {
    // The row lock orders this against initiatePayment, which reads the account FOR SHARE.
    const account = ownedOrNotFound(userId, await tx.findOne(BankAccountRecord, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE }), 'BankAccount', id);
    if (account.status === 'UNLINKED') return account;
    // Payments in these states still need the account: it cannot be unlinked under them.
    const inFlight: { count: string }[] = await tx
      .getConnection()
      .execute(
        `select count(*) as count from payments where bank_account_id = ? and status in (${IN_FLIGHT_STATUSES.map(() => '?').join(', ')})`,
        [id, ...IN_FLIGHT_STATUSES],
        'all',
        tx.getTransactionContext(),
      );
    const count = Number(inFlight[0]?.count ?? 0);
    if (count > 0) {
      throw conflict(`This bank account has ${count} payment(s) in progress; cancel them or wait until they finish before unlinking it.`);
    }
    account.status = 'UNLINKED';
    account.unlinkedAt = new Date();
    account.verificationCodeHash = null;
    return account;
  });
}

/** The consent to revoke at the bank once no live account uses it any more, or null. */
export async function consentLeftUnused(em: EntityManager, connectionId: string | null): Promise<string | null> {
  if (!connectionId) return null;
  const live = await em.count(BankAccountRecord, { connectionId, status: { $ne: 'UNLINKED' } });
  if (live > 0) return null;
  return (await em.findOne(BankConnectionRecord, { id: connectionId }))?.consentId ?? null;
}

/** The consent a payment order from this account is sent under. */
export async function providerLink(em: EntityManager, account: BankAccountRecord): Promise<{ consentId: string; providerAccountId: string } | null> {
  if (!account.connectionId || !account.providerAccountId) return null;
  const connection = await em.findOne(BankConnectionRecord, { id: account.connectionId });
  return connection ? { consentId: connection.consentId, providerAccountId: account.providerAccountId } : null;
}

/** Owners see their own accounts, admins everyone's; anybody else is told it does not exist. */
export async function findBankAccount(em: EntityManager, viewer: AuthUser, id: string): Promise<BankAccountRecord> {
  return visibleOrNotFound(viewer, isUuid(id) ? await em.findOne(BankAccountRecord, { id }) : null, 'BankAccount', id);
}

export function listBankAccounts(em: EntityManager, userId: string): Promise<BankAccountRecord[]> {
  return em.find(BankAccountRecord, { userId, status: { $ne: 'UNLINKED' } }, { orderBy: { createdAt: 'asc', id: 'asc' } });
}

/** One query for the bank accounts of a page of payments. */
export function bankAccountLoader(em: EntityManager) {
  return new DataLoader<string, BankAccountRecord | null>(async (ids) => {
    const rows = await em.find(BankAccountRecord, { id: { $in: [...ids] } });
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}
