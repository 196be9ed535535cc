import { randomUUID } from 'node:crypto';
import { BigIntType, EntitySchema, type FilterQuery } from '@mikro-orm/core';
import { badInput } from '@analytica/errors';
import { recordEvent } from '@analytica/events';
import { assertCurrency, assertMinorUnits } from '@analytica/money';
import type { EntityManager } from '@analytica/postgres';
import { isUuid, notFoundAt, ownedOrNotFound } from './access.js';
import { AccountRecord } from './accounts.js';
import { CategoryRecord } from './categories.js';

export class TransactionRecord {
  id!: string;
  userId!: string;
  accountId!: string;
  categoryId: string | null = null;
  /** Signed minor units: negative is money leaving the account. */
  amount!: number;
  currency!: string;
  bookedAt!: Date;
  payee!: string;
  notes: string | null = null;
  /** Bumped by every update, so that a later edit can say which version it read. */
  version!: number;
  createdAt!: Date;
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
    version: { type: 'integer', version: true },
    createdAt: { type: 'Date', fieldName: 'created_at' },
  },
});

export interface TransactionEntry {
  accountId: string;
  amount: { amountMinor: number; currency: string };
  bookedAt: Date;
  payee: string;
  categoryId?: string | null;
  notes?: string | null;
}

/**
 * Books a transaction and its `transactions.recorded.v1` event in one database transaction:
 * the event is published (by the outbox relay) if and only if the transaction exists.
 */
export async function recordTransaction(em: EntityManager, userId: string, input: TransactionEntry): Promise<TransactionRecord> {
  const currency = assertCurrency(input.amount.currency, 'input.amount.currency');
  const amount = assertMinorUnits(input.amount.amountMinor, 'input.amount.amountMinor');
  if (amount === 0) throw badInput('input.amount.amountMinor', 'A transaction moves money: give a non-zero amount (negative for money out).');
  if (!(input.bookedAt instanceof Date) || Number.isNaN(input.bookedAt.getTime())) {
    throw badInput('input.bookedAt', 'Give the booking time as an ISO 8601 date-time, e.g. 2025-03-01T12:00:00Z.');
  }
  const payee = input.payee.trim();
  if (payee.length < 1 || payee.length > 200) throw badInput('input.payee', 'Give a payee of 1 to 200 characters.');
  const notes = input.notes?.trim() || null;
  if (notes && notes.length > 2000) throw badInput('input.notes', 'Keep notes to at most 2000 characters.');
  if (!isUuid(input.accountId)) throw notFoundAt('input.accountId', 'Account', input.accountId);
  const categoryId = input.categoryId ?? null;
  if (categoryId !== null && !isUuid(categoryId)) throw notFoundAt('input.categoryId', 'Category', categoryId);

  return em.transactional(async (tx) => {
    const account = ownedOrNotFound(userId, await tx.findOne(AccountRecord, { id: input.accountId }), 'input.accountId', 'Account', input.accountId);
    if (account.currency !== currency) {
      throw badInput('input.amount.currency', `Account "${account.name}" is kept in ${account.currency}; record the amount in ${account.currency}.`);
    }
    if (categoryId !== null) {
      ownedOrNotFound(userId, await tx.findOne(CategoryRecord, { id: categoryId }), 'input.categoryId', 'Category', categoryId);
    }
    const transaction = tx.create(TransactionRecord, {
      id: randomUUID(),
      userId,
      accountId: account.id,
      categoryId,
      amount,
      currency,
      bookedAt: input.bookedAt,
      payee,
      notes,
      version: 1,
      createdAt: new Date(),
    });
    recordEvent(tx, 'transactions.recorded.v1', userId, {
      userId,
      transactionId: transaction.id,
      accountId: account.id,
      categoryId,
      amountMinor: String(amount),
      currency,
      payee,
      bookedAt: transaction.bookedAt.toISOString(),
    });
    return transaction;
  });
}

export async function deleteTransaction(em: EntityManager, userId: string, id: string): Promise<void> {
  if (!isUuid(id)) throw notFoundAt('id', 'Transaction', id);
  await em.transactional(async (tx) => {
    const transaction = ownedOrNotFound(userId, await tx.findOne(TransactionRecord, { id }), 'id', 'Transaction', id);
    tx.remove(transaction);
  });
}

export interface TransactionFilter {
  accountId?: string | null;
  categoryId?: string | null;
  /** Booked at or after. */
  from?: Date | null;
  /** Booked before. */
  to?: Date | null;
}

/** The rows a filter selects for one user, before paging; also what totalCount counts. */
export function transactionsWhere(userId: string, filter: TransactionFilter = {}): FilterQuery<TransactionRecord> {
  const where: FilterQuery<TransactionRecord> & Record<string, unknown> = { userId };
  if (filter.accountId != null) {
    if (!isUuid(filter.accountId)) throw badInput('filter.accountId', 'Give an account id as returned by accounts.');
    where.accountId = filter.accountId;
  }
  if (filter.categoryId != null) {
    if (!isUuid(filter.categoryId)) throw badInput('filter.categoryId', 'Give a category id as returned by categories.');
    where.categoryId = filter.categoryId;
  }
  if (filter.from && filter.to && filter.from >= filter.to) throw badInput('filter.to', '"to" must be later than "from".');
  if (filter.from || filter.to) {
    where.bookedAt = { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lt: filter.to } : {}) };
  }
  return where;
}

export const PAGE_SIZE = { default: 50, max: 200 } as const;

/** A position in the bookedAt desc, id desc order; opaque to clients. */
interface Position {
  bookedAt: Date;
  id: string;
}

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([position.bookedAt.toISOString(), position.id])).toString('base64url');
}

export function decodeCursor(cursor: string, field = 'after'): Position {
  try {
    const [iso, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const bookedAt = new Date(String(iso));
    if (typeof iso === 'string' && typeof id === 'string' && isUuid(id) && !Number.isNaN(bookedAt.getTime())) return { bookedAt, id };
  } catch {
    // falls through to the same answer as any other unreadable cursor
  }
  throw badInput(field, 'This cursor is not one this service issued; pass pageInfo.endCursor from the previous page.');
}

export function checkPageSize(first: number | null | undefined): number {
  const size = first ?? PAGE_SIZE.default;
  if (!Number.isInteger(size) || size < 1 || size > PAGE_SIZE.max) throw badInput('first', `Ask for 1 to ${PAGE_SIZE.max} transactions per page.`);
  return size;
}

/** One page, newest first, by keyset on (bookedAt, id): stable while new transactions arrive. */
export async function pageTransactions(
  em: EntityManager,
  where: FilterQuery<TransactionRecord>,
  first: number,
  after?: string | null,
): Promise<{ nodes: TransactionRecord[]; hasNextPage: boolean }> {
  let query = where;
  if (after) {
    const position = decodeCursor(after);
    query = {
      $and: [where, { $or: [{ bookedAt: { $lt: position.bookedAt } }, { bookedAt: position.bookedAt, id: { $lt: position.id } }] }],
    } as FilterQuery<TransactionRecord>;
  }
  const rows = await em.find(TransactionRecord, query, { orderBy: [{ bookedAt: 'desc' }, { id: 'desc' }], limit: first + 1 });
  return { nodes: rows.slice(0, first), hasNextPage: rows.length > first };
}
