import { badInput } from '@analytica/errors';
import { assertMinorUnits } from '@analytica/money';
import type { EntityManager } from '@analytica/postgres';
import { isUuid, minorUnitsFromSql } from './access.js';
import { TransactionRecord } from './transactions.js';

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

/** Totals of the whole filtered set (all pages), per currency, summed exactly in SQL. */
export async function totalTransactions(em: EntityManager, selection: Selection): Promise<CurrencyTotals[]> {
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
  return rows.map((r) => ({
    currency: r.currency.trim(),
    count: Number(r.count),
    inflow: minorUnitsFromSql(r.inflow),
    outflow: minorUnitsFromSql(r.outflow),
    net: minorUnitsFromSql(r.net),
  }));
}

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
  return rows.map((r) => ({ currency: r.currency.trim(), day: r.day, count: Number(r.count), inflow: minorUnitsFromSql(r.inflow), outflow: minorUnitsFromSql(r.outflow) }));
}
