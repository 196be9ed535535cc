import { createHmac, randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import { EntitySchema, LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { AuthUser } from '@analytica/auth';
import { badInput, conflict, notFound } from '@analytica/errors';
import { assertCurrency } from '@analytica/money';
import type { EntityManager } from '@analytica/postgres';
import { assertIban, maskAccountNumber } from './iban.js';
import { isUuid } from './ids.js';

export type BankAccountStatus = 'PENDING_VERIFICATION' | 'VERIFIED' | 'UNLINKED';

export class BankAccountRecord {
  id!: string;
  userId!: string;
  bankName!: string;
  holderName!: string;
  /** `•••• 1234`: the only form of the number that is kept. */
  accountNumber!: string;
  /** HMAC-SHA256 of the normalised IBAN, to recognise the same account without storing it. */
  accountFingerprint!: string;
  currency!: string;
  status!: BankAccountStatus;
  createdAt!: Date;
  verifiedAt: Date | null = null;
  unlinkedAt: Date | null = null;
}
export const BankAccountSchema = new EntitySchema<BankAccountRecord>({
  class: BankAccountRecord,
  tableName: 'bank_accounts',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    bankName: { type: 'string', fieldName: 'bank_name' },
    holderName: { type: 'string', fieldName: 'holder_name' },
    accountNumber: { type: 'string', fieldName: 'account_number' },
    accountFingerprint: { type: 'string', fieldName: 'account_fingerprint', hidden: true },
    currency: { type: 'string' },
    status: { type: 'string' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    verifiedAt: { type: 'Date', fieldName: 'verified_at', nullable: true },
    unlinkedAt: { type: 'Date', fieldName: 'unlinked_at', nullable: true },
  },
});

/** Keyed, so that the fingerprints in a leaked table cannot be matched against a list of IBANs. */
export function accountFingerprint(secret: string, normalisedIban: string): string {
  return createHmac('sha256', secret).update(normalisedIban).digest('hex');
}

export interface BankAccountLink {
  bankName: string;
  holderName: string;
  iban: string;
  currency: string;
}

export async function linkBankAccount(em: EntityManager, userId: string, input: BankAccountLink, fingerprintSecret: string): Promise<BankAccountRecord> {
  const bankName = input.bankName.trim();
  if (bankName.length < 1 || bankName.length > 100) throw badInput('input.bankName', 'Give the bank name in 1 to 100 characters.');
  const holderName = input.holderName.trim();
  if (holderName.length < 1 || holderName.length > 140) throw badInput('input.holderName', 'Give the account holder name in 1 to 140 characters.');
  const iban = assertIban(input.iban, 'input.iban');
  const currency = assertCurrency(input.currency, 'input.currency');
  const fingerprint = accountFingerprint(fingerprintSecret, iban);
  const alreadyLinked = () => badInput('input.iban', 'This bank account is already linked to your profile.');
  try {
    return await em.transactional(async (tx) => {
      if (await tx.count(BankAccountRecord, { userId, accountFingerprint: fingerprint, status: { $ne: 'UNLINKED' } })) throw alreadyLinked();
      const now = new Date();
      // Linking verifies at once for now; micro-deposit verification will start accounts in PENDING_VERIFICATION.
      return tx.create(BankAccountRecord, {
        id: randomUUID(),
        userId,
        bankName,
        holderName,
        accountNumber: maskAccountNumber(iban),
        accountFingerprint: fingerprint,
        currency,
        status: 'VERIFIED',
        createdAt: now,
        verifiedAt: now,
        unlinkedAt: null,
      });
    });
  } catch (error) {
    // Two links of one account at the same moment: the partial unique index lets one through.
    if (error instanceof UniqueConstraintViolationException) throw alreadyLinked();
    throw error;
  }
}

/** Unlinks the caller's own account. Unlinking twice is harmless and answers the account as it is. */
export async function unlinkBankAccount(em: EntityManager, userId: string, id: string): Promise<BankAccountRecord> {
  if (!isUuid(id)) throw notFound('BankAccount', id);
  return em.transactional(async (tx) => {
    // The row lock orders this against initiatePayment, which reads the account FOR SHARE.
    const account = await tx.findOne(BankAccountRecord, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!account || account.userId !== userId) throw notFound('BankAccount', id);
    if (account.status === 'UNLINKED') return account;
    // Payments in these states still need the account: it cannot be unlinked under them.
    const inFlight: { count: string }[] = await tx
      .getConnection()
      .execute(
        `select count(*) as count from payments where bank_account_id = ? and status in ('REQUIRES_ACTION', 'QUEUED', 'PROCESSING')`,
        [id],
        'all',
        tx.getTransactionContext(),
      );
    const count = Number(inFlight[0]?.count ?? 0);
    if (count > 0) {
      throw conflict(`This bank account has ${count} payment(s) in progress; cancel them or wait until they finish before unlinking it.`);
    }
    account.status = 'UNLINKED';
    account.unlinkedAt = new Date();
    return account;
  });
}

/** Owners see their own accounts, admins everyone's; anybody else is told it does not exist. */
export async function findBankAccount(em: EntityManager, viewer: AuthUser, id: string): Promise<BankAccountRecord> {
  const account = isUuid(id) ? await em.findOne(BankAccountRecord, { id }) : null;
  if (!account || (account.userId !== viewer.id && viewer.role !== 'ADMIN')) throw notFound('BankAccount', id);
  return account;
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
