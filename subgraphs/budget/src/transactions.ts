import { randomUUID } from 'node:crypto';
import { ArrayType, BigIntType, EntitySchema, LockMode } from '@mikro-orm/core';
import { AppError, ErrorCode, badInput } from '@analytica/errors';
import { recordEvent, type EventPayload } from '@analytica/events';
import { assertCurrency, assertMinorUnits } from '@analytica/money';
import type { EntityManager } from '@analytica/postgres';
import { isUuid, notFoundAt, ownedOrNotFound } from './access.js';
import { AccountRecord } from './accounts.js';
import { reviewBudgets, type SpendingChange } from './budgets.js';
import { usableCategories } from './categories.js';
import { categoryByRules } from './rules.js';

export class TransactionRecord {
  id!: string;
  userId!: string;
  accountId!: string;
  /** Null when uncategorised, split (the parts carry categories) or a transfer leg. */
  categoryId: string | null = null;
  /** Signed minor units: negative is money leaving the account. */
  amount!: number;
  currency!: string;
  bookedAt!: Date;
  payee!: string;
  notes: string | null = null;
  /** Lower-case labels, e.g. "holiday"; filtered with "has all of". */
  tags: string[] = [];
  /** Shared by the two legs of a transfer between the user's own accounts. */
  transferId: string | null = null;
  scheduleId: string | null = null;
  /** The occurrence of the schedule this transaction posted (YYYY-MM-DD). */
  scheduledOn: string | null = null;
  importId: string | null = null;
  /** The bank's own id of the line (OFX FITID); unique per account. */
  externalId: string | null = null;
  /** Bumped by every update, so that a later edit can say which version it read. */
  version!: number;
  createdAt!: Date;
  updatedAt!: Date;
}
export const TransactionSchema = new EntitySchema<TransactionRecord>({
  class: TransactionRecord,
  tableName: 'transactions',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    accountId: { type: 'uuid', fieldName: 'account_id' },
    categoryId: { type: 'uuid', fieldName: 'category_id', nullable: true },
    amount: { type: new BigIntType('number') },
    currency: { type: 'string' },
    bookedAt: { type: 'Date', fieldName: 'booked_at' },
    payee: { type: 'string' },
    notes: { type: 'text', nullable: true },
    tags: { type: new ArrayType(), columnType: 'text[]' },
    transferId: { type: 'uuid', fieldName: 'transfer_id', nullable: true },
    scheduleId: { type: 'uuid', fieldName: 'schedule_id', nullable: true },
    scheduledOn: { type: 'string', columnType: 'date', fieldName: 'scheduled_on', nullable: true },
    importId: { type: 'uuid', fieldName: 'import_id', nullable: true },
    externalId: { type: 'string', fieldName: 'external_id', nullable: true },
    version: { type: 'integer', version: true },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    updatedAt: { type: 'Date', fieldName: 'updated_at' },
  },
});

/** One part of a split transaction. */
export class SplitRecord {
  id!: string;
  userId!: string;
  transactionId!: string;
  position!: number;
  categoryId: string | null = null;
  amount!: number;
  notes: string | null = null;
}
export const SplitSchema = new EntitySchema<SplitRecord>({
  class: SplitRecord,
  tableName: 'transaction_splits',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    transactionId: { type: 'uuid', fieldName: 'transaction_id' },
    position: { type: 'smallint' },
    categoryId: { type: 'uuid', fieldName: 'category_id', nullable: true },
    amount: { type: new BigIntType('number') },
    notes: { type: 'text', nullable: true },
  },
});

interface MoneyEntry {
  amountMinor: number;
  currency: string;
}
export interface SplitEntry {
  amount: MoneyEntry;
  categoryId?: string | null;
  notes?: string | null;
}
export interface TransactionEntry {
  accountId: string;
  amount: MoneyEntry;
  bookedAt: Date;
  payee: string;
  categoryId?: string | null;
  notes?: string | null;
  tags?: string[] | null;
  splits?: SplitEntry[] | null;
}

const MAX_SPLITS = 50;
const MAX_TAGS = 20;

// --- Checks shared by every path that writes transactions (record, update, import, schedules) ---

export function checkAmount(money: MoneyEntry, field: string): { amount: number; currency: string } {
  const currency = assertCurrency(money.currency, `${field}.currency`);
  const amount = assertMinorUnits(money.amountMinor, `${field}.amountMinor`);
  if (amount === 0) throw badInput(`${field}.amountMinor`, 'A transaction moves money: give a non-zero amount (negative for money out).');
  return { amount, currency };
}

export function checkBookedAt(value: Date, field: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw badInput(field, 'Give the booking time as an ISO 8601 date-time, e.g. 2025-03-01T12:00:00Z.');
  }
  return value;
}

export function checkPayee(text: string, field: string): string {
  const payee = text.trim();
  if (payee.length < 1 || payee.length > 200) throw badInput(field, 'Give a payee of 1 to 200 characters.');
  return payee;
}

export function checkNotes(text: string | null | undefined, field: string): string | null {
  const notes = text?.trim() || null;
  if (notes && notes.length > 2000) throw badInput(field, 'Keep notes to at most 2000 characters.');
  return notes;
}

/** Tags are trimmed, lower-cased and de-duplicated, so that "Holiday" and "holiday " are one tag. */
export function checkTags(tags: readonly string[] | null | undefined, field: string): string[] {
  const clean = [...new Set((tags ?? []).map((t) => t.trim().toLowerCase().replace(/\s+/g, ' ')))];
  if (clean.length > MAX_TAGS) throw badInput(field, `Use at most ${MAX_TAGS} tags.`);
  for (const [i, tag] of clean.entries()) {
    if (tag.length < 1 || tag.length > 40) throw badInput(`${field}[${i}]`, 'A tag has 1 to 40 characters.');
  }
  return clean;
}

/** Parts of a split: at least two, in the transaction's currency, non-zero, summing exactly to its amount. */
export function checkSplits(splits: readonly SplitEntry[], total: number, currency: string, field: string) {
  if (splits.length < 2 || splits.length > MAX_SPLITS) throw badInput(field, `Split a transaction into 2 to ${MAX_SPLITS} parts (or send none).`);
  const parts = splits.map((split, i) => {
    const { amount, currency: partCurrency } = checkAmount(split.amount, `${field}[${i}].amount`);
    if (partCurrency !== currency) throw badInput(`${field}[${i}].amount.currency`, `Every part is in the transaction's currency, ${currency}.`);
    return { position: i, amount, categoryId: split.categoryId ?? null, notes: checkNotes(split.notes, `${field}[${i}].notes`) };
  });
  const sum = parts.reduce((s, p) => s + p.amount, 0);
  if (sum !== total) {
    throw badInput(field, `The parts sum to ${sum} minor units but the transaction is ${total}; they must be equal.`);
  }
  return parts;
}

export type CheckedSplit = ReturnType<typeof checkSplits>[number];

// --- Events ---

const splitPayload = (splits: readonly { categoryId: string | null; amount: number }[]) =>
  splits.map((s) => ({ categoryId: s.categoryId, amountMinor: String(s.amount) }));

export function recordedPayload(t: TransactionRecord, splits: readonly { categoryId: string | null; amount: number }[]): EventPayload<'transactions.recorded.v1'> {
  return {
    userId: t.userId,
    transactionId: t.id,
    accountId: t.accountId,
    categoryId: t.categoryId,
    amountMinor: String(t.amount),
    currency: t.currency,
    payee: t.payee,
    bookedAt: t.bookedAt.toISOString(),
    splits: splitPayload(splits),
    transferId: t.transferId,
  };
}

/** What a transaction adds to budgets: one line per part, or the transaction itself. */
export function spendingLines(t: Pick<TransactionRecord, 'categoryId' | 'bookedAt'>, splits: readonly { categoryId: string | null }[]): SpendingChange[] {
  const categories = splits.length ? splits.map((s) => s.categoryId) : [t.categoryId];
  return categories.filter((c): c is string => c !== null).map((categoryId) => ({ categoryId, bookedAt: t.bookedAt }));
}

// --- Writes ---

/** Adds a transaction, its parts and its event to the unit of work; flushed with the caller's transaction. */
export function bookTransaction(tx: EntityManager, fields: Omit<TransactionRecord, 'version' | 'createdAt' | 'updatedAt'>, splits: readonly CheckedSplit[] = []) {
  const now = new Date();
  const transaction = tx.create(TransactionRecord, { ...fields, version: 1, createdAt: now, updatedAt: now });
  const parts = splits.map((s) =>
    tx.create(SplitRecord, { id: randomUUID(), userId: fields.userId, transactionId: fields.id, position: s.position, categoryId: s.categoryId, amount: s.amount, notes: s.notes }),
  );
  recordEvent(tx, 'transactions.recorded.v1', fields.userId, recordedPayload(transaction, parts));
  return { transaction, parts };
}

/**
 * Books a transaction and its `transactions.recorded.v1` event in one database transaction:
 * the event is published (by the outbox relay) if and only if the transaction exists. Without a
 * category (and not split), the user's rules choose one. Budgets it touches are reviewed in the
 * same transaction, so an overspending event is written with it.
 */
export async function recordTransaction(em: EntityManager, userId: string, input: TransactionEntry): Promise<TransactionRecord> {
  const { amount, currency } = checkAmount(input.amount, 'input.amount');
  const bookedAt = checkBookedAt(input.bookedAt, 'input.bookedAt');
  const payee = checkPayee(input.payee, 'input.payee');
  const notes = checkNotes(input.notes, 'input.notes');
  const tags = checkTags(input.tags, 'input.tags');
  if (!isUuid(input.accountId)) throw notFoundAt('input.accountId', 'Account', input.accountId);
  const splits = input.splits?.length ? checkSplits(input.splits, amount, currency, 'input.splits') : [];
  if (splits.length && input.categoryId) throw badInput('input.categoryId', 'A split transaction carries its categories in its parts; leave categoryId out.');

  return em.transactional(async (tx) => {
    const account = ownedOrNotFound(userId, await tx.findOne(AccountRecord, { id: input.accountId }), 'input.accountId', 'Account', input.accountId);
    if (account.currency !== currency) {
      throw badInput('input.amount.currency', `Account "${account.name}" is kept in ${account.currency}; record the amount in ${account.currency}.`);
    }
    await usableCategories(tx, userId, [
      ...(input.categoryId ? [{ id: input.categoryId, field: 'input.categoryId' }] : []),
      ...splits.flatMap((s, i) => (s.categoryId ? [{ id: s.categoryId, field: `input.splits[${i}].categoryId` }] : [])),
    ]);
    const categoryId = input.categoryId ?? (splits.length ? null : await categoryByRules(tx, userId, { payee, notes, amount, currency }));
    const { transaction, parts } = bookTransaction(
      tx,
      {
        id: randomUUID(),
        userId,
        accountId: account.id,
        categoryId,
        amount,
        currency,
        bookedAt,
        payee,
        notes,
        tags,
        transferId: null,
        scheduleId: null,
        scheduledOn: null,
        importId: null,
        externalId: null,
      },
      splits,
    );
    await tx.flush();
    await reviewBudgets(tx, userId, spendingLines(transaction, parts));
    return transaction;
  });
}

/** Locks one of the user's transactions for an edit and checks the version the editor read. */
async function lockForEdit(tx: EntityManager, userId: string, id: string, expectedVersion: number | null | undefined) {
  const transaction = ownedOrNotFound(
    userId,
    await tx.findOne(TransactionRecord, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true }),
    'id',
    'Transaction',
    id,
  );
  if (expectedVersion != null && transaction.version !== expectedVersion) {
    throw new AppError(
      ErrorCode.CONFLICT,
      `Transaction ${id} was changed since you read it (you sent version ${expectedVersion}, it is now ${transaction.version}); reload it and apply your change again.`,
      { field: 'expectedVersion', currentVersion: transaction.version },
    );
  }
  return transaction;
}

export interface TransactionPatch {
  accountId?: string | null;
  amount?: MoneyEntry | null;
  bookedAt?: Date | null;
  payee?: string | null;
  /** null makes it uncategorised; absent leaves it. */
  categoryId?: string | null;
  notes?: string | null;
  tags?: string[] | null;
  /** null or [] merges the parts back into one transaction; absent leaves them. */
  splits?: SplitEntry[] | null;
}

/**
 * Changes a transaction if it is still at `expectedVersion`: of two editors who read the same
 * version, the first to commit wins and the second gets CONFLICT, never a silent overwrite (the row
 * is locked for the check, and the version is bumped by the same update). A transfer leg keeps its
 * amount, account and (lack of) category; its date moves both legs.
 */
export async function updateTransaction(em: EntityManager, userId: string, id: string, expectedVersion: number, patch: TransactionPatch): Promise<TransactionRecord> {
  if (!isUuid(id)) throw notFoundAt('id', 'Transaction', id);
  if (!Number.isInteger(expectedVersion) || expectedVersion < 1) throw badInput('expectedVersion', 'Send the version you read (1 or more).');
  const has = (key: keyof TransactionPatch) => patch[key] !== undefined;
  const amount = patch.amount ? checkAmount(patch.amount, 'input.amount') : undefined;
  const bookedAt = patch.bookedAt ? checkBookedAt(patch.bookedAt, 'input.bookedAt') : undefined;
  const payee = patch.payee != null ? checkPayee(patch.payee, 'input.payee') : undefined;
  if (patch.payee === null) throw badInput('input.payee', 'A transaction always has a payee.');
  const tags = has('tags') ? checkTags(patch.tags, 'input.tags') : undefined;
  if (patch.accountId != null && !isUuid(patch.accountId)) throw notFoundAt('input.accountId', 'Account', patch.accountId);

  return em.transactional(async (tx) => {
    const transaction = await lockForEdit(tx, userId, id, expectedVersion);
    const oldSplits = await tx.find(SplitRecord, { userId, transactionId: id }, { orderBy: { position: 'asc' } });
    const before = { ...transaction, splits: oldSplits.map((s) => ({ categoryId: s.categoryId, amount: s.amount })) };

    if (transaction.transferId) {
      const locked = (['accountId', 'amount', 'categoryId', 'splits'] as const).find((key) => has(key));
      if (locked) throw badInput(`input.${locked}`, 'This is one leg of a transfer: its account, amount and category follow the transfer. Delete the transfer and make it again to change them.');
    }
    let account: AccountRecord | undefined;
    if (patch.accountId != null && patch.accountId !== transaction.accountId) {
      account = ownedOrNotFound(userId, await tx.findOne(AccountRecord, { id: patch.accountId }), 'input.accountId', 'Account', patch.accountId);
      transaction.accountId = account.id;
    }
    const currency = amount?.currency ?? transaction.currency;
    account ??= (await tx.findOneOrFail(AccountRecord, { id: transaction.accountId }));
    if (account.currency !== currency) {
      throw badInput(amount ? 'input.amount.currency' : 'input.accountId', `Account "${account.name}" is kept in ${account.currency}; the amount must be in ${account.currency}.`);
    }
    if (amount) {
      transaction.amount = amount.amount;
      transaction.currency = amount.currency;
    }

    let newSplits: CheckedSplit[] | undefined;
    if (has('splits')) {
      newSplits = patch.splits?.length ? checkSplits(patch.splits, transaction.amount, currency, 'input.splits') : [];
    } else if (oldSplits.length && amount) {
      throw badInput('input.splits', 'This transaction is split: send its parts again with the new amount, so that they still sum to it.');
    }
    const splitAfter = newSplits ? newSplits.length > 0 : oldSplits.length > 0;
    if (has('categoryId') && patch.categoryId !== null && splitAfter) {
      throw badInput('input.categoryId', 'A split transaction carries its categories in its parts; send splits: null to give it one category.');
    }
    await usableCategories(tx, userId, [
      ...(patch.categoryId ? [{ id: patch.categoryId, field: 'input.categoryId' }] : []),
      ...(newSplits ?? []).flatMap((s, i) => (s.categoryId ? [{ id: s.categoryId, field: `input.splits[${i}].categoryId` }] : [])),
    ]);
    if (has('categoryId')) transaction.categoryId = patch.categoryId ?? null;
    if (splitAfter) transaction.categoryId = null;
    if (bookedAt) transaction.bookedAt = bookedAt;
    if (payee !== undefined) transaction.payee = payee;
    if (has('notes')) transaction.notes = checkNotes(patch.notes, 'input.notes');
    if (tags !== undefined) transaction.tags = tags;
    transaction.updatedAt = new Date();

    let parts = oldSplits;
    if (newSplits) {
      for (const old of oldSplits) tx.remove(old);
      // The old parts must be gone before the new ones take their positions (a flush inserts first).
      await tx.flush();
      parts = newSplits.map((s) =>
        tx.create(SplitRecord, { id: randomUUID(), userId, transactionId: id, position: s.position, categoryId: s.categoryId, amount: s.amount, notes: s.notes }),
      );
    }

    const legs = [transaction];
    if (transaction.transferId && bookedAt) {
      const other = await tx.findOne(TransactionRecord, { userId, transferId: transaction.transferId, id: { $ne: id } }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (other) {
        other.bookedAt = bookedAt;
        other.updatedAt = transaction.updatedAt;
        legs.push(other);
      }
    }
    await tx.flush();
    for (const leg of legs) {
      const legBefore = leg === transaction ? before : { ...leg, bookedAt: before.bookedAt, splits: [] };
      const legParts = leg === transaction ? parts : [];
      recordEvent(tx, 'transactions.updated.v1', userId, {
        ...recordedPayload(leg, legParts),
        splits: splitPayload(legParts),
        version: leg.version,
        previous: {
          accountId: legBefore.accountId,
          categoryId: legBefore.categoryId,
          amountMinor: String(legBefore.amount),
          currency: legBefore.currency,
          bookedAt: legBefore.bookedAt.toISOString(),
          splits: splitPayload(legBefore.splits),
        },
      });
    }
    await tx.flush();
    await reviewBudgets(tx, userId, [...spendingLines(before, before.splits), ...spendingLines(transaction, parts)]);
    return transaction;
  });
}

/** Removes a transaction (both legs, for a transfer), optionally only if it is still at `expectedVersion`. */
export async function deleteTransaction(em: EntityManager, userId: string, id: string, expectedVersion?: number | null): Promise<string[]> {
  if (!isUuid(id)) throw notFoundAt('id', 'Transaction', id);
  return em.transactional(async (tx) => {
    const transaction = await lockForEdit(tx, userId, id, expectedVersion);
    const legs = transaction.transferId
      ? await tx.find(TransactionRecord, { userId, transferId: transaction.transferId }, { lockMode: LockMode.PESSIMISTIC_WRITE })
      : [transaction];
    const splits = await tx.find(SplitRecord, { userId, transactionId: { $in: legs.map((l) => l.id) } });
    const touched: SpendingChange[] = [];
    const deletedAt = new Date().toISOString();
    for (const leg of legs) {
      const parts = splits.filter((s) => s.transactionId === leg.id);
      touched.push(...spendingLines(leg, parts));
      recordEvent(tx, 'transactions.deleted.v1', userId, {
        userId,
        transactionId: leg.id,
        accountId: leg.accountId,
        categoryId: leg.categoryId,
        amountMinor: String(leg.amount),
        currency: leg.currency,
        bookedAt: leg.bookedAt.toISOString(),
        splits: splitPayload(parts),
        deletedAt,
      });
      tx.remove(leg);
    }
    await tx.flush();
    await reviewBudgets(tx, userId, touched);
    return legs.map((l) => l.id);
  });
}

const MAX_BULK = 1000;

/**
 * Gives many transactions one category (or none) at once, all or nothing. Split transactions and
 * transfer legs are refused, naming their position in `ids`.
 */
export async function recategorizeTransactions(em: EntityManager, userId: string, ids: readonly string[], categoryId: string | null): Promise<TransactionRecord[]> {
  if (ids.length < 1 || ids.length > MAX_BULK) throw badInput('ids', `Give 1 to ${MAX_BULK} transaction ids.`);
  const seen = new Set<string>();
  for (const [i, id] of ids.entries()) {
    if (!isUuid(id)) throw notFoundAt(`ids[${i}]`, 'Transaction', id);
    if (seen.has(id)) throw badInput(`ids[${i}]`, `Transaction ${id} is listed twice.`);
    seen.add(id);
  }
  return em.transactional(async (tx) => {
    if (categoryId !== null) await usableCategories(tx, userId, [{ id: categoryId, field: 'categoryId' }]);
    const rows = await tx.find(TransactionRecord, { id: { $in: [...ids] } }, { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const withSplits = new Set(
      (await tx.find(SplitRecord, { userId, transactionId: { $in: [...ids] } }, { fields: ['transactionId'] })).map((s) => s.transactionId),
    );
    const touched: SpendingChange[] = [];
    const now = new Date();
    const transactions = ids.map((id, i) => {
      const transaction = ownedOrNotFound(userId, byId.get(id), `ids[${i}]`, 'Transaction', id);
      if (transaction.transferId) throw badInput(`ids[${i}]`, `Transaction ${id} is a transfer leg; transfers have no category.`);
      if (withSplits.has(id)) throw badInput(`ids[${i}]`, `Transaction ${id} is split; change the categories of its parts instead.`);
      touched.push(...spendingLines(transaction, []));
      const previous = transaction.categoryId;
      transaction.categoryId = categoryId;
      transaction.updatedAt = now;
      touched.push(...spendingLines(transaction, []));
      return { transaction, previous };
    });
    await tx.flush();
    for (const { transaction, previous } of transactions) {
      recordEvent(tx, 'transactions.updated.v1', userId, {
        ...recordedPayload(transaction, []),
        splits: [],
        version: transaction.version,
        previous: {
          accountId: transaction.accountId,
          categoryId: previous,
          amountMinor: String(transaction.amount),
          currency: transaction.currency,
          bookedAt: transaction.bookedAt.toISOString(),
          splits: [],
        },
      });
    }
    await tx.flush();
    await reviewBudgets(tx, userId, touched);
    return transactions.map((t) => t.transaction);
  });
}
