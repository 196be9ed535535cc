import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import { badInput, notFound } from '@analytica/errors';
import { recordEvent } from '@analytica/events';
import { assertCurrency, assertMinorUnits } from '@analytica/money';
import type { EntityManager } from '@analytica/postgres';
import { isUuid } from '@analytica/subgraph/access';
import { addExact, sumFromSql } from '../access.js';
import { usableCategories } from '../categories/categories.js';
import { CategoryRecord } from '../categories/category.entity.js';
import { DAY_MS, isoDate, parseDay } from '../days.js';
import { loadRateTable } from '../exchange-rates/exchange-rates.js';
import { BUDGET_PERIODS, BudgetRecord, ROLLOVERS, type BudgetPeriod, type Rollover } from './budget.entity.js';
import { queueOnRowLocks } from '../locks.js';

/** The first day of the period that contains `day`: the 1st of its month, or the Monday of its ISO week. */
export function periodStart(day: Date, period: BudgetPeriod): string {
  if (period === 'MONTHLY') return isoDate(new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), 1)));
  const daysSinceMonday = (day.getUTCDay() + 6) % 7;
  return isoDate(new Date(day.getTime() - daysSinceMonday * DAY_MS));
}

/** The first day after the period (exclusive end). */
export function periodEnd(startsOn: string, period: BudgetPeriod): string {
  const start = new Date(`${startsOn}T00:00:00Z`);
  if (period === 'MONTHLY') return isoDate(new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1)));
  return isoDate(new Date(start.getTime() + 7 * DAY_MS));
}

/** The last day of the period (inclusive), for display. */
export function periodLastDay(startsOn: string, period: BudgetPeriod): string {
  return isoDate(new Date(new Date(`${periodEnd(startsOn, period)}T00:00:00Z`).getTime() - DAY_MS));
}

export interface BudgetSetting {
  categoryId: string;
  period: BudgetPeriod;
  /** Any day of the period; the current period when omitted. */
  startsOn?: string | null;
  amount: { amountMinor: number; currency: string };
  /** Kept as it is when omitted (NONE for a new budget). */
  rollover?: Rollover | null;
}

/**
 * Creates or replaces the budget of one category for one period. Setting an amount below what was
 * already spent is a crossing too, and emits budget.overspent.v1 like any other.
 */
export async function setBudget(em: EntityManager, userId: string, input: BudgetSetting, now = new Date()): Promise<BudgetRecord> {
  if (!BUDGET_PERIODS.includes(input.period)) throw badInput('input.period', `Use one of ${BUDGET_PERIODS.join(', ')}.`);
  const amount = assertMinorUnits(input.amount.amountMinor, 'input.amount.amountMinor', { positive: true });
  const currency = assertCurrency(input.amount.currency, 'input.amount.currency');
  const day = input.startsOn == null ? now : parseDay(input.startsOn, 'input.startsOn');
  const startsOn = periodStart(day, input.period);
  if (input.rollover != null && !ROLLOVERS.includes(input.rollover)) throw badInput('input.rollover', `Use one of ${ROLLOVERS.join(', ')}.`);
  if (!isUuid(input.categoryId)) throw notFound('Category', input.categoryId, 'input.categoryId');

  return em.transactional(async (tx) => {
    const category = (await usableCategories(tx, userId, [{ id: input.categoryId, field: 'input.categoryId' }])).get(input.categoryId)!;
    if (category.kind !== 'EXPENSE') throw badInput('input.categoryId', `"${category.name}" is an income category; budgets limit spending in expense categories.`);
    const stamp = new Date();
    const rollover = input.rollover ?? 'NONE';
    await tx.getConnection().execute(
      `insert into budgets (id, user_id, category_id, period, amount, currency, starts_on, rollover, created_at, updated_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       on conflict (user_id, category_id, period, starts_on) do update
          set amount = excluded.amount, currency = excluded.currency, updated_at = excluded.updated_at
              ${input.rollover != null ? ', rollover = excluded.rollover' : ''}`,
      [randomUUID(), userId, category.id, input.period, amount, currency, startsOn, rollover, stamp, stamp],
      'run',
      tx.getTransactionContext(),
    );
    const budget = await tx.findOneOrFail(
      BudgetRecord,
      { userId, categoryId: category.id, period: input.period, startsOn },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    );
    announceBudgets(tx, [budget], new Map([[category.id, category.name]]));
    await settleOverspending(tx, [budget]);
    return budget;
  });
}

/**
 * budget.set.v1 for each budget as it now stands, in the transaction that set it (outbox): the
 * insight service forecasts each budget's end-of-period spending against its limit from these.
 */
function announceBudgets(tx: EntityManager, budgets: readonly BudgetRecord[], names: ReadonlyMap<string, string>) {
  const setAt = new Date().toISOString();
  for (const budget of budgets) {
    recordEvent(tx, 'budget.set.v1', budget.userId, {
      userId: budget.userId,
      budgetId: budget.id,
      categoryId: budget.categoryId,
      categoryName: names.get(budget.categoryId) ?? null,
      period: budget.period,
      startsOn: budget.startsOn,
      limitMinor: String(budget.amount),
      currency: budget.currency,
      setAt,
    });
  }
}

/**
 * Copies every budget of the period before the one containing `day` into that period (amount,
 * currency, rollover), leaving categories that already have a budget there as they are. Returns
 * the period's budgets.
 */
export async function copyPreviousBudgets(em: EntityManager, userId: string, period: BudgetPeriod, day: string): Promise<BudgetRecord[]> {
  if (!BUDGET_PERIODS.includes(period)) throw badInput('input.period', `Use one of ${BUDGET_PERIODS.join(', ')}.`);
  const target = periodStart(parseDay(day, 'input.startsOn'), period);
  const previous = periodStart(new Date(new Date(`${target}T00:00:00Z`).getTime() - DAY_MS), period);
  return em.transactional(async (tx) => {
    const source = await tx.find(BudgetRecord, { userId, period, startsOn: previous });
    if (source.length === 0) throw badInput('input.startsOn', `There are no ${period.toLowerCase()} budgets starting ${previous} to copy.`);
    const inserted: { id: string }[] = await tx.getConnection().execute(
      `insert into budgets (id, user_id, category_id, period, amount, currency, starts_on, rollover)
       select gen_random_uuid(), b.user_id, b.category_id, b.period, b.amount, b.currency, ?::date, b.rollover
         from budgets b
         join categories c on c.user_id = b.user_id and c.id = b.category_id and c.archived_at is null
        where b.user_id = ? and b.period = ? and b.starts_on = ?::date
       on conflict (user_id, category_id, period, starts_on) do nothing
       returning id`,
      [target, userId, period, previous],
      'all',
      tx.getTransactionContext(),
    );
    if (inserted.length) {
      const created = await tx.find(BudgetRecord, { id: { $in: inserted.map((r) => r.id) } }, { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' } });
      const categories = await tx.find(CategoryRecord, { userId, id: { $in: created.map((b) => b.categoryId) } });
      announceBudgets(tx, created, new Map(categories.map((c) => [c.id, c.name])));
      await settleOverspending(tx, created);
    }
    return tx.find(BudgetRecord, { userId, period, startsOn: target }, { orderBy: { id: 'asc' } });
  });
}

/**
 * What each budget's category spent in its period, net of refunds: minus the sum of the category's
 * lines (unsplit transactions and parts of split ones) booked from the first day 00:00 UTC up to
 * the day after the period. Lines in other currencies count at the rate of their day.
 * One statement, plus one for rates when some line is in another currency.
 */
export async function budgetSpending(em: EntityManager, budgets: readonly BudgetRecord[], field = 'currency'): Promise<Map<string, number>> {
  if (budgets.length === 0) return new Map();
  const rows: { id: string; currency: string; day: string; amount: string }[] = await em.getConnection().execute(
    `select b.id, l.currency, (l.booked_at at time zone 'UTC')::date::text as day, sum(l.amount)::text as amount
       from budgets b
       join transaction_lines l
         on l.user_id = b.user_id
        and l.category_id = b.category_id
        and l.booked_at >= b.starts_on::timestamp at time zone 'UTC'
        and l.booked_at < (b.starts_on + case b.period when 'MONTHLY' then interval '1 month' else interval '7 days' end) at time zone 'UTC'
      where b.id in (${budgets.map(() => '?').join(', ')})
      group by 1, 2, 3`,
    budgets.map((b) => b.id),
    'all',
    em.getTransactionContext(),
  );
  const byId = new Map(budgets.map((b) => [b.id, b]));
  const foreign = rows.filter((r) => r.currency.trim() !== byId.get(r.id)!.currency);
  const days = rows.map((r) => r.day).sort();
  const rates = foreign.length ? await loadRateTable(em, [...rows.map((r) => r.currency.trim()), ...budgets.map((b) => b.currency)], days[0]!, days.at(-1)!) : undefined;
  const spent = new Map(budgets.map((b) => [b.id, 0]));
  for (const row of rows) {
    const budget = byId.get(row.id)!;
    const what = `The spending of budget ${budget.id} in its period from ${budget.startsOn}`;
    const fix = 'keep the amounts of one category and period within that range.';
    const amount = sumFromSql(row.amount, field, what, fix);
    const converted = rates ? rates.convert(amount, row.currency.trim(), budget.currency, row.day, field) : amount;
    spent.set(row.id, addExact(spent.get(row.id)!, -converted, field, what, fix));
  }
  return spent;
}

export interface SpendingChange {
  categoryId: string;
  bookedAt: Date;
}

/**
 * Re-checks the budgets whose period and category a write touched, inside that write's database
 * transaction. The budget rows are locked (in id order, so concurrent writers cannot deadlock) and
 * spending is summed after the lock, so concurrent writers are serialised per budget and each
 * crossing from "at or under" to "over" is seen by exactly one of them: it records one
 * budget.overspent.v1 in the outbox. Going back under resets the state, so a later rise is a new
 * crossing. The caller must have flushed its changes.
 */
export async function reviewBudgets(tx: EntityManager, userId: string, changes: readonly SpendingChange[], field?: string): Promise<void> {
  const keys = new Map<string, { categoryId: string; period: BudgetPeriod; startsOn: string }>();
  for (const change of changes) {
    for (const period of BUDGET_PERIODS) {
      const startsOn = periodStart(change.bookedAt, period);
      keys.set(`${change.categoryId}/${period}/${startsOn}`, { categoryId: change.categoryId, period, startsOn });
    }
  }
  if (keys.size === 0) return;
  await queueOnRowLocks(tx);
  const budgets = await tx.find(BudgetRecord, { userId, $or: [...keys.values()] }, { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' }, refresh: true });
  await settleOverspending(tx, budgets, field);
}

async function settleOverspending(tx: EntityManager, budgets: readonly BudgetRecord[], field?: string) {
  if (budgets.length === 0) return;
  const spent = await budgetSpending(tx, budgets, field);
  const crossedAt = new Date().toISOString();
  for (const budget of budgets) {
    const amountSpent = spent.get(budget.id) ?? 0;
    const over = amountSpent > budget.amount;
    if (over && !budget.overspent) {
      recordEvent(tx, 'budget.overspent.v1', budget.userId, {
        userId: budget.userId,
        budgetId: budget.id,
        categoryId: budget.categoryId,
        period: budget.period,
        startsOn: budget.startsOn,
        limitMinor: String(budget.amount),
        spentMinor: String(amountSpent),
        currency: budget.currency,
        crossedAt,
      });
    }
    budget.overspent = over;
  }
  await tx.flush();
}

/** Earlier budgets of the same category and period kind, from which rollover is carried. One statement. */
export async function earlierBudgets(em: EntityManager, budgets: readonly BudgetRecord[]): Promise<BudgetRecord[]> {
  if (budgets.length === 0) return [];
  const rows: Record<string, unknown>[] = await em.getConnection().execute(
    `select distinct p.* from budgets b
       join budgets p on p.user_id = b.user_id and p.category_id = b.category_id and p.period = b.period and p.starts_on < b.starts_on
      where b.id in (${budgets.map(() => '?').join(', ')})`,
    budgets.map((b) => b.id),
    'all',
    em.getTransactionContext(),
  );
  return rows.map((row) => em.map(BudgetRecord, row));
}

/**
 * What each budget receives from the period before: that period's available amount (its own
 * amount plus what it received) minus its spending, when the earlier budget rolls it over; a
 * shortfall moves only with LEFTOVER_AND_OVERSPENDING. The chain stops at a period without a
 * budget, or where the currency changes.
 */
export function carriedIn(budgets: readonly BudgetRecord[], earlier: readonly BudgetRecord[], spent: ReadonlyMap<string, number>): Map<string, number> {
  const byKey = new Map([...earlier, ...budgets].map((b) => [`${b.categoryId}/${b.period}/${b.startsOn}`, b]));
  const memo = new Map<string, number>();
  const carry = (budget: BudgetRecord): number => {
    const cached = memo.get(budget.id);
    if (cached !== undefined) return cached;
    const before = periodStart(new Date(new Date(`${budget.startsOn}T00:00:00Z`).getTime() - DAY_MS), budget.period);
    const previous = byKey.get(`${budget.categoryId}/${budget.period}/${before}`);
    let value = 0;
    if (previous && previous.rollover !== 'NONE' && previous.currency === budget.currency) {
      const left = previous.amount + carry(previous) - (spent.get(previous.id) ?? 0);
      value = left >= 0 || previous.rollover === 'LEFTOVER_AND_OVERSPENDING' ? left : 0;
    }
    memo.set(budget.id, value);
    return value;
  };
  return new Map(budgets.map((b) => [b.id, carry(b)]));
}
