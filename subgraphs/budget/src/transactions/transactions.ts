import { checkArgumentValue } from '@analytica/subgraph';
import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import { AppError, ErrorCode, badInput, notFound } from '@analytica/errors';
import { recordEvent, type EventPayload } from '@analytica/events';
import { assertCurrency, assertMinorUnits } from '@analytica/money';
import type { EntityManager } from '@analytica/postgres';
import { isUuid, ownedOrNotFound } from '@analytica/subgraph/access';
import { sumFromSql } from '../access.js';
import { AccountRecord } from '../accounts/account.entity.js';
import { assertBalancesExact } from '../accounts/accounts.js';
import { reviewBudgets, type SpendingChange } from '../budgets/budgets.js';
import { usableCategories } from '../categories/categories.js';
import { CategoryRecord } from '../categories/category.entity.js';
import { categoryByRules } from '../rules/rules.js';
import { settleSuggestions } from '../suggestions/labels.js';
import { SplitRecord, TransactionRecord } from './transaction.entity.js';

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

const splitPayload = (splits: readonly { categoryId: string | null; amount: number }[]) => splits.map((s) => ({ categoryId: s.categoryId, amountMinor: String(s.amount) }));

export function recordedPayload(
  t: TransactionRecord,
  splits: readonly { categoryId: string | null; amount: number }[],
  categoryName?: string | null,
): EventPayload<'transactions.recorded.v1'> {
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
    ...(categoryName !== undefined ? { categoryName } : {}),
  };
}

/** What a transaction adds to budgets: one line per part, or the transaction itself. */
export function spendingLines(t: Pick<TransactionRecord, 'categoryId' | 'bookedAt'>, splits: readonly { categoryId: string | null }[]): SpendingChange[] {
  const categories = splits.length ? splits.map((s) => s.categoryId) : [t.categoryId];
  return categories.filter((c): c is string => c !== null).map((categoryId) => ({ categoryId, bookedAt: t.bookedAt }));
}

// --- Writes ---

/**
 * Adds a transaction, its parts and its event to the unit of work; flushed with the caller's
 * transaction. `categoryName` (the name of fields.categoryId, when the caller has it) travels in
 * the event for consumers that show it.
 */
export function bookTransaction(
  tx: EntityManager,
  fields: Omit<TransactionRecord, 'version' | 'createdAt' | 'updatedAt'>,
  splits: readonly CheckedSplit[] = [],
  categoryName?: string | null,
) {
  const now = new Date();
  const transaction = tx.create(TransactionRecord, { ...fields, version: 1, createdAt: now, updatedAt: now });
  const parts = splits.map((s) =>
    tx.create(SplitRecord, { id: randomUUID(), userId: fields.userId, transactionId: fields.id, position: s.position, categoryId: s.categoryId, amount: s.amount, notes: s.notes }),
  );
  recordEvent(tx, 'transactions.recorded.v1', fields.userId, recordedPayload(transaction, parts, categoryName));
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
  if (!isUuid(input.accountId)) throw notFound('Account', input.accountId, 'input.accountId');
  const splits = input.splits?.length ? checkSplits(input.splits, amount, currency, 'input.splits') : [];
  if (splits.length && input.categoryId) throw badInput('input.categoryId', 'A split transaction carries its categories in its parts; leave categoryId out.');

  return em.transactional(async (tx) => {
    const account = ownedOrNotFound(userId, await tx.findOne(AccountRecord, { id: input.accountId }), 'Account', input.accountId, 'input.accountId');
    if (account.currency !== currency) {
      throw badInput('input.amount.currency', `Account "${account.name}" is kept in ${account.currency}; record the amount in ${account.currency}.`);
    }
    await usableCategories(tx, userId, [
      ...(input.categoryId ? [{ id: input.categoryId, field: 'input.categoryId' }] : []),
      ...splits.flatMap((s, i) => (s.categoryId ? [{ id: s.categoryId, field: `input.splits[${i}].categoryId` }] : [])),
    ]);
    const categoryId = input.categoryId ?? (splits.length ? null : await categoryByRules(tx, userId, { payee, notes, amount, currency }));
    const categoryName = categoryId ? ((await tx.findOne(CategoryRecord, { id: categoryId, userId }))?.name ?? null) : null;
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
      categoryName,
    );
    await tx.flush();
    await assertBalancesExact(tx, [account.id], 'input.amount.amountMinor');
    await reviewBudgets(tx, userId, spendingLines(transaction, parts));
    return transaction;
  });
}

/** Locks one of the user's transactions for an edit and checks the version the editor read. */
async function lockForEdit(tx: EntityManager, userId: string, id: string, expectedVersion: number | null | undefined) {
  const transaction = ownedOrNotFound(userId, await tx.findOne(TransactionRecord, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true }), 'Transaction', id, 'id');
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
  if (!isUuid(id)) throw notFound('Transaction', id, 'id');
  if (!Number.isInteger(expectedVersion) || expectedVersion < 1) throw badInput('expectedVersion', 'Send the version you read (1 or more).');
  const has = (key: keyof TransactionPatch) => patch[key] !== undefined;
  const amount = patch.amount ? checkAmount(patch.amount, 'input.amount') : undefined;
  const bookedAt = patch.bookedAt ? checkBookedAt(patch.bookedAt, 'input.bookedAt') : undefined;
  const payee = patch.payee != null ? checkPayee(patch.payee, 'input.payee') : undefined;
  if (patch.payee === null) throw badInput('input.payee', 'A transaction always has a payee.');
  const tags = has('tags') ? checkTags(patch.tags, 'input.tags') : undefined;
  if (patch.accountId != null && !isUuid(patch.accountId)) throw notFound('Account', patch.accountId, 'input.accountId');

  return em.transactional(async (tx) => {
    const transaction = await lockForEdit(tx, userId, id, expectedVersion);
    const oldSplits = await tx.find(SplitRecord, { userId, transactionId: id }, { orderBy: { position: 'asc' } });
    const before = { ...transaction, splits: oldSplits.map((s) => ({ categoryId: s.categoryId, amount: s.amount })) };

    if (transaction.transferId) {
      const locked = (['accountId', 'amount', 'categoryId', 'splits'] as const).find((key) => has(key));
      if (locked)
        throw badInput(
          `input.${locked}`,
          'This is one leg of a transfer: its account, amount and category follow the transfer. Delete the transfer and make it again to change them.',
        );
    }
    let account: AccountRecord | undefined;
    if (patch.accountId != null && patch.accountId !== transaction.accountId) {
      account = ownedOrNotFound(userId, await tx.findOne(AccountRecord, { id: patch.accountId }), 'Account', patch.accountId, 'input.accountId');
      transaction.accountId = account.id;
    }
    const currency = amount?.currency ?? transaction.currency;
    account ??= await tx.findOneOrFail(AccountRecord, { id: transaction.accountId });
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
    await assertBalancesExact(tx, [before.accountId, ...legs.map((l) => l.accountId)], 'input.amount.amountMinor');
    // A category the user chose where the model had suggested one: a label for training.
    if (patch.categoryId && patch.categoryId !== before.categoryId) await settleSuggestions(tx, userId, [{ transactionId: id, categoryId: patch.categoryId }]);
    await reviewBudgets(tx, userId, [...spendingLines(before, before.splits), ...spendingLines(transaction, parts)]);
    return transaction;
  });
}

/** Removes a transaction (both legs, for a transfer), optionally only if it is still at `expectedVersion`. */
export async function deleteTransaction(em: EntityManager, userId: string, id: string, expectedVersion?: number | null): Promise<string[]> {
  if (!isUuid(id)) throw notFound('Transaction', id, 'id');
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
        transferId: leg.transferId,
        deletedAt,
      });
      tx.remove(leg);
    }
    await tx.flush();
    await assertBalancesExact(
      tx,
      legs.map((l) => l.accountId),
      'id',
    );
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
    if (!isUuid(id)) throw notFound('Transaction', id, `ids[${i}]`);
    if (seen.has(id)) throw badInput(`ids[${i}]`, `Transaction ${id} is listed twice.`);
    seen.add(id);
  }
  return em.transactional(async (tx) => {
    if (categoryId !== null) await usableCategories(tx, userId, [{ id: categoryId, field: 'categoryId' }]);
    const rows = await tx.find(TransactionRecord, { id: { $in: [...ids] } }, { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const withSplits = new Set((await tx.find(SplitRecord, { userId, transactionId: { $in: [...ids] } }, { fields: ['transactionId'] })).map((s) => s.transactionId));
    const touched: SpendingChange[] = [];
    const now = new Date();
    const transactions = ids.map((id, i) => {
      const transaction = ownedOrNotFound(userId, byId.get(id), 'Transaction', id, `ids[${i}]`);
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
    if (categoryId !== null) {
      const changed = transactions.filter((t) => t.previous !== categoryId).map((t) => ({ transactionId: t.transaction.id, categoryId }));
      if (changed.length) await settleSuggestions(tx, userId, changed);
    }
    await reviewBudgets(tx, userId, touched);
    return transactions.map((t) => t.transaction);
  });
}

// --- Reads: a user's transactions filtered, sorted, paged and summed ---

export interface TransactionFilter {
  accountId?: string | null;
  /** Transactions in this category, or with a part in it. */
  categoryId?: string | null;
  /** Transactions with a category (or a part's category) in this group. */
  group?: string | null;
  /** Booked at or after. */
  from?: Date | null;
  /** Booked before. */
  to?: Date | null;
  /** Signed minor units, inclusive. */
  minAmount?: number | null;
  maxAmount?: number | null;
  /** Contained in the payee, ignoring case. */
  payee?: string | null;
  /** Contained in the notes, ignoring case. */
  notes?: string | null;
  /** Contained in the payee or the notes, ignoring case. */
  search?: string | null;
  /** Has every one of these tags. */
  tags?: string[] | null;
  /** true: neither a category, nor parts, nor a transfer; false: the others. */
  uncategorized?: boolean | null;
}

/** A WHERE clause on `transactions t` with its parameters; every one starts with the user. */
export interface Selection {
  sql: string;
  params: unknown[];
}

const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function checkText(value: string, field: string): string {
  const text = value.trim();
  if (text.length < 1 || text.length > 200) throw badInput(field, 'Search for 1 to 200 characters.');
  return text;
}

const inCategory = (category: string) =>
  `(t.category_id ${category} or exists (select 1 from transaction_splits s where s.user_id = t.user_id and s.transaction_id = t.id and s.category_id ${category}))`;

/** The rows a filter selects for one user, before sorting and paging; also what totals count. */
export function selectTransactions(userId: string, filter: TransactionFilter = {}): Selection {
  const clauses = ['t.user_id = ?'];
  const params: unknown[] = [userId];
  if (filter.accountId != null) {
    if (!isUuid(filter.accountId)) throw badInput('filter.accountId', 'Give an account id as returned by accounts.');
    clauses.push('t.account_id = ?');
    params.push(filter.accountId);
  }
  if (filter.categoryId != null) {
    if (!isUuid(filter.categoryId)) throw badInput('filter.categoryId', 'Give a category id as returned by categories.');
    clauses.push(inCategory('= ?'));
    params.push(filter.categoryId, filter.categoryId);
  }
  if (filter.group != null) {
    clauses.push(inCategory('in (select c.id from categories c where c.user_id = t.user_id and c.group_name = ?)'));
    const group = checkText(filter.group, 'filter.group');
    params.push(group, group);
  }
  if (filter.from && filter.to && filter.from >= filter.to) throw badInput('filter.to', '"to" must be later than "from".');
  if (filter.from) {
    clauses.push('t.booked_at >= ?');
    params.push(filter.from);
  }
  if (filter.to) {
    clauses.push('t.booked_at < ?');
    params.push(filter.to);
  }
  if (filter.minAmount != null) {
    clauses.push('t.amount >= ?');
    params.push(assertMinorUnits(filter.minAmount, 'filter.minAmount'));
  }
  if (filter.maxAmount != null) {
    clauses.push('t.amount <= ?');
    params.push(assertMinorUnits(filter.maxAmount, 'filter.maxAmount'));
  }
  if (filter.minAmount != null && filter.maxAmount != null && filter.minAmount > filter.maxAmount) {
    throw badInput('filter.maxAmount', 'maxAmount must be at least minAmount.');
  }
  if (filter.payee != null) {
    clauses.push("t.payee ilike ? escape '\\'");
    params.push(likePattern(checkText(filter.payee, 'filter.payee')));
  }
  if (filter.notes != null) {
    clauses.push("t.notes ilike ? escape '\\'");
    params.push(likePattern(checkText(filter.notes, 'filter.notes')));
  }
  if (filter.search != null) {
    const pattern = likePattern(checkText(filter.search, 'filter.search'));
    clauses.push("(t.payee ilike ? escape '\\' or t.notes ilike ? escape '\\')");
    params.push(pattern, pattern);
  }
  if (filter.tags?.length) {
    const tags = [...new Set(filter.tags.map((t) => t.trim().toLowerCase()))];
    if (tags.length > 20 || tags.some((t) => t.length < 1 || t.length > 40)) throw badInput('filter.tags', 'Give 1 to 20 tags of 1 to 40 characters.');
    // Spelled out as array[...]: the driver would expand a JS array into a list of values.
    clauses.push(`t.tags @> array[${tags.map(() => '?').join(', ')}]::text[]`);
    params.push(...tags);
  }
  if (filter.uncategorized != null) {
    const bare = 't.category_id is null and t.transfer_id is null and not exists (select 1 from transaction_splits s where s.user_id = t.user_id and s.transaction_id = t.id)';
    clauses.push(filter.uncategorized ? `(${bare})` : `not (${bare})`);
  }
  return { sql: clauses.join(' and '), params };
}

export const TRANSACTION_SORTS = ['BOOKED_AT_DESC', 'BOOKED_AT_ASC', 'AMOUNT_DESC', 'AMOUNT_ASC', 'PAYEE_ASC', 'PAYEE_DESC'] as const;
export type TransactionSort = (typeof TRANSACTION_SORTS)[number];

const SORT_COLUMNS: Record<TransactionSort, { column: string; key: (t: TransactionRecord) => string | number; descending: boolean }> = {
  BOOKED_AT_DESC: { column: 't.booked_at', key: (t) => t.bookedAt.toISOString(), descending: true },
  BOOKED_AT_ASC: { column: 't.booked_at', key: (t) => t.bookedAt.toISOString(), descending: false },
  AMOUNT_DESC: { column: 't.amount', key: (t) => t.amount, descending: true },
  AMOUNT_ASC: { column: 't.amount', key: (t) => t.amount, descending: false },
  PAYEE_ASC: { column: 't.payee', key: (t) => t.payee, descending: false },
  PAYEE_DESC: { column: 't.payee', key: (t) => t.payee, descending: true },
};

export const PAGE_SIZE = { default: 50, max: 200 } as const;

/** A position in one sort order: the sort it belongs to, the sort key and the id; opaque to clients. */
export function encodeCursor(sort: TransactionSort, transaction: TransactionRecord): string {
  return Buffer.from(JSON.stringify([sort, SORT_COLUMNS[sort].key(transaction), transaction.id])).toString('base64url');
}

export function decodeCursor(cursor: string, sort: TransactionSort, field = 'after'): { key: string | number | Date; id: string } {
  try {
    const [cursorSort, key, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    // What the cursor carries goes into SQL: the same checks as any argument (no NUL, years 1-9999).
    checkArgumentValue(key, field);
    if (cursorSort === sort && typeof id === 'string' && isUuid(id)) {
      if (sort.startsWith('AMOUNT') && Number.isSafeInteger(key)) return { key: key as number, id };
      if (sort.startsWith('PAYEE') && typeof key === 'string') return { key, id };
      if (sort.startsWith('BOOKED_AT') && typeof key === 'string' && !Number.isNaN(new Date(key).getTime())) return { key: new Date(key), id };
    }
  } catch {
    // falls through to the same answer as any other unreadable cursor
  }
  throw badInput(field, 'This cursor is not one this service issued for this sort order; pass pageInfo.endCursor from the previous page.');
}

export function checkPageSize(first: number | null | undefined): number {
  const size = first ?? PAGE_SIZE.default;
  if (!Number.isInteger(size) || size < 1 || size > PAGE_SIZE.max) throw badInput('first', `Ask for 1 to ${PAGE_SIZE.max} transactions per page.`);
  return size;
}

/**
 * One page in the chosen order, by keyset on (sort key, id): stable while new transactions arrive,
 * and one statement whatever the page size.
 */
export async function pageTransactions(
  em: EntityManager,
  selection: Selection,
  sort: TransactionSort,
  first: number,
  after?: string | null,
): Promise<{ nodes: TransactionRecord[]; hasNextPage: boolean }> {
  const { column, descending } = SORT_COLUMNS[sort];
  const direction = descending ? 'desc' : 'asc';
  let sql = `select t.* from transactions t where ${selection.sql}`;
  const params = [...selection.params];
  if (after) {
    const position = decodeCursor(after, sort);
    sql += ` and (${column}, t.id) ${descending ? '<' : '>'} (?, ?)`;
    params.push(position.key, position.id);
  }
  sql += ` order by ${column} ${direction}, t.id ${direction} limit ?`;
  params.push(first + 1);
  const rows: Record<string, unknown>[] = await em.getConnection().execute(sql, params, 'all', em.getTransactionContext());
  const nodes = rows.slice(0, first).map((row) => em.map(TransactionRecord, row));
  return { nodes, hasNextPage: rows.length > first };
}

export interface CurrencyTotals {
  currency: string;
  count: number;
  /** Sum of positive amounts. */
  inflow: number;
  /** Sum of negative amounts (negative). */
  outflow: number;
  net: number;
}

/** Counts and sums of the filtered set per currency, as PostgreSQL computed them (exact, as text). */
export interface SummaryRow {
  currency: string;
  count: number;
  inflow: string;
  outflow: string;
  net: string;
}

/**
 * The whole filtered set (all pages) counted and summed per currency in SQL, in one statement.
 * Counts are always usable; the sums go through exactTotals, which refuses one beyond the exact
 * range, so that totalCount still answers when only the totals cannot.
 */
export async function summariseTransactions(em: EntityManager, selection: Selection): Promise<SummaryRow[]> {
  const rows: { currency: string; count: string; inflow: string; outflow: string; net: string }[] = await em.getConnection().execute(
    `select t.currency, count(*) as count,
            coalesce(sum(t.amount) filter (where t.amount > 0), 0)::text as inflow,
            coalesce(sum(t.amount) filter (where t.amount < 0), 0)::text as outflow,
            sum(t.amount)::text as net
       from transactions t where ${selection.sql}
      group by t.currency order by t.currency`,
    selection.params,
    'all',
    em.getTransactionContext(),
  );
  return rows.map((r) => ({ currency: r.currency.trim(), count: Number(r.count), inflow: r.inflow, outflow: r.outflow, net: r.net }));
}

/** One currency's sums as numbers, or BAD_USER_INPUT on `filter` for a sum beyond the exact range. */
export function exactTotals(row: SummaryRow): CurrencyTotals {
  const exact = (value: string, what: string) => sumFromSql(value, 'filter', `The ${what} of these ${row.currency} transactions`, NARROW_THE_FILTER);
  return { currency: row.currency, count: row.count, inflow: exact(row.inflow, 'inflow'), outflow: exact(row.outflow, 'outflow'), net: exact(row.net, 'net') };
}

/** Totals of the whole filtered set (all pages), per currency, summed exactly in SQL. */
export async function totalTransactions(em: EntityManager, selection: Selection): Promise<CurrencyTotals[]> {
  return (await summariseTransactions(em, selection)).map(exactTotals);
}

/** What to do about totals beyond the exact range (see sumFromSql). */
export const NARROW_THE_FILTER = 'narrow the filter (one account, a shorter time window) so that its totals fit.';

/** The filtered set summed per currency and UTC day, for conversion at each day's rate. */
export async function dailyTotals(em: EntityManager, selection: Selection): Promise<{ currency: string; day: string; inflow: number; outflow: number; count: number }[]> {
  const rows: { currency: string; day: string; inflow: string; outflow: string; count: string }[] = await em.getConnection().execute(
    `select t.currency, (t.booked_at at time zone 'UTC')::date::text as day, count(*) as count,
            coalesce(sum(t.amount) filter (where t.amount > 0), 0)::text as inflow,
            coalesce(sum(t.amount) filter (where t.amount < 0), 0)::text as outflow
       from transactions t where ${selection.sql}
      group by 1, 2`,
    selection.params,
    'all',
    em.getTransactionContext(),
  );
  return rows.map((r) => ({
    currency: r.currency.trim(),
    day: r.day,
    count: Number(r.count),
    inflow: sumFromSql(r.inflow, 'filter', `The inflow of these ${r.currency.trim()} transactions on ${r.day}`, NARROW_THE_FILTER),
    outflow: sumFromSql(r.outflow, 'filter', `The outflow of these ${r.currency.trim()} transactions on ${r.day}`, NARROW_THE_FILTER),
  }));
}
