import { randomUUID } from 'node:crypto';
import { BigIntType, EntitySchema } from '@mikro-orm/core';
import { badInput } from '@analytica/errors';
import { assertCurrency, assertMinorUnits } from '@analytica/money';
import type { EntityManager } from '@analytica/postgres';
import { isUuid, minorUnitsFromSql, notFoundAt, ownedOrNotFound } from './access.js';
import { CategoryRecord } from './categories.js';

export const BUDGET_PERIODS = ['MONTHLY', 'WEEKLY'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

export class BudgetRecord {
  id!: string;
  userId!: string;
  categoryId!: string;
  period!: BudgetPeriod;
  /** Minor units, always positive: the most the category may spend in the period. */
  amount!: number;
  currency!: string;
  /** YYYY-MM-DD: the first of the month, or the Monday of the week (UTC). */
  startsOn!: string;
  createdAt!: Date;
  updatedAt!: Date;
}
export const BudgetSchema = new EntitySchema<BudgetRecord>({
  class: BudgetRecord,
  tableName: 'budgets',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    categoryId: { type: 'uuid', fieldName: 'category_id' },
    period: { type: 'string' },
    amount: { type: new BigIntType('number') },
    currency: { type: 'string' },
    startsOn: { type: 'string', columnType: 'date', fieldName: 'starts_on' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    updatedAt: { type: 'Date', fieldName: 'updated_at' },
  },
});

const DAY_MS = 86_400_000;
const isoDate = (date: Date) => date.toISOString().slice(0, 10);

/** Reads YYYY-MM-DD as a UTC day, refusing dates that do not exist (2025-02-30). */
export function parseDay(text: string, field: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  const [year, month, day] = (match ?? []).slice(1).map(Number) as [number, number, number];
  const date = match ? new Date(Date.UTC(year, month - 1, day)) : null;
  if (!date || date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || year < 1900) {
    throw badInput(field, `"${text}" is not a calendar date; write it as YYYY-MM-DD, e.g. 2025-03-01.`);
  }
  return date;
}

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
}

/** Creates or replaces the budget of one category for one period. */
export async function setBudget(em: EntityManager, userId: string, input: BudgetSetting, now = new Date()): Promise<BudgetRecord> {
  if (!BUDGET_PERIODS.includes(input.period)) throw badInput('input.period', `Use one of ${BUDGET_PERIODS.join(', ')}.`);
  const amount = assertMinorUnits(input.amount.amountMinor, 'input.amount.amountMinor', { positive: true });
  const currency = assertCurrency(input.amount.currency, 'input.amount.currency');
  const day = input.startsOn == null ? now : parseDay(input.startsOn, 'input.startsOn');
  const startsOn = periodStart(day, input.period);
  if (!isUuid(input.categoryId)) throw notFoundAt('input.categoryId', 'Category', input.categoryId);

  return em.transactional(async (tx) => {
    const category = ownedOrNotFound(userId, await tx.findOne(CategoryRecord, { id: input.categoryId }), 'input.categoryId', 'Category', input.categoryId);
    if (category.kind !== 'EXPENSE') throw badInput('input.categoryId', `"${category.name}" is an income category; budgets limit spending in expense categories.`);
    const stamp = new Date();
    return tx.upsert(
      BudgetRecord,
      { id: randomUUID(), userId, categoryId: category.id, period: input.period, amount, currency, startsOn, createdAt: stamp, updatedAt: stamp },
      {
        onConflictFields: ['userId', 'categoryId', 'period', 'startsOn'],
        onConflictAction: 'merge',
        onConflictMergeFields: ['amount', 'currency', 'updatedAt'],
      },
    );
  });
}

/**
 * What each budget's category spent in its period, in one statement: the money that left
 * (negative amounts) in the budget's currency, booked from the first day 00:00 UTC up to the
 * day after the period. Refunds are not netted against it.
 */
export async function budgetSpending(em: EntityManager, budgetIds: readonly string[]): Promise<Map<string, number>> {
  const rows: { id: string; spent: string }[] = await em.getConnection().execute(
    `select b.id, coalesce(-sum(t.amount), 0)::text as spent
       from budgets b
       left join transactions t
         on t.user_id = b.user_id
        and t.category_id = b.category_id
        and t.currency = b.currency
        and t.amount < 0
        and t.booked_at >= b.starts_on::timestamp at time zone 'UTC'
        and t.booked_at < (b.starts_on + case b.period when 'MONTHLY' then interval '1 month' else interval '7 days' end) at time zone 'UTC'
      where b.id in (${budgetIds.map(() => '?').join(', ')})
      group by b.id`,
    [...budgetIds],
    'all',
    em.getTransactionContext(),
  );
  return new Map(rows.map((r) => [r.id, minorUnitsFromSql(r.spent)]));
}
