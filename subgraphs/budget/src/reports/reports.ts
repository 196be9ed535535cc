import { badInput } from '@analytica/errors';
import { isCurrency } from '@analytica/money';
import type { EntityManager } from '@analytica/postgres';
import { addExact, sumFromSql } from '../access.js';
import { BudgetRecord, type BudgetPeriod } from '../budgets/budget.entity.js';
import { periodEnd, periodStart } from '../budgets/budgets.js';
import { CategoryRecord } from '../categories/category.entity.js';
import { parseDay } from '../days.js';
import { loadRateTable } from '../exchange-rates/exchange-rates.js';
import { dailyTotals, NARROW_THE_FILTER, type Selection } from '../transactions/transactions.js';

/**
 * Reports in the user's home currency. Every transaction counts at the rate of its own UTC day
 * (see RateTable for days without a published rate); a budget's amount counts at the rate of its
 * period's first day. Each (currency, day) sum is converted and rounded once, so a report never
 * drifts by rounding each of many small transactions.
 */
export function checkHomeCurrency(code: string | undefined): string {
  if (!code || !isCurrency(code)) {
    throw badInput('homeCurrency', `The home currency "${code ?? ''}" is not a supported ISO 4217 code; set it on your profile.`);
  }
  return code;
}

export interface BudgetReportLine {
  category: CategoryRecord;
  budget: BudgetRecord | null;
  /** Net of the category in the period: negative for spending, positive for income. */
  actual: number;
  budgeted: number | null;
}

export interface BudgetReport {
  period: BudgetPeriod;
  startsOn: string;
  endsOn: string;
  currency: string;
  lines: BudgetReportLine[];
  /** Net of lines without a category (transfers excluded). */
  uncategorized: number;
}

/** Budget against actual for one period, per category, in `currency`. Four statements. */
export async function budgetReport(em: EntityManager, userId: string, currency: string, period: BudgetPeriod, day: string): Promise<BudgetReport> {
  const startsOn = periodStart(parseDay(day, 'on'), period);
  const end = periodEnd(startsOn, period);
  const [budgets, categories, rows] = await Promise.all([
    em.find(BudgetRecord, { userId, period, startsOn }),
    em.find(CategoryRecord, { userId }, { orderBy: [{ group: 'asc' }, { name: 'asc' }] }),
    em.getConnection().execute<{ category_id: string | null; currency: string; day: string; amount: string }[]>(
      `select l.category_id, l.currency, (l.booked_at at time zone 'UTC')::date::text as day, sum(l.amount)::text as amount
         from transaction_lines l
        where l.user_id = ? and l.transfer_id is null
          and l.booked_at >= ?::timestamp at time zone 'UTC' and l.booked_at < ?::timestamp at time zone 'UTC'
        group by 1, 2, 3`,
      [userId, startsOn, end],
      'all',
      em.getTransactionContext(),
    ),
  ]);
  const rates = await loadRateTable(em, [currency, ...rows.map((r) => r.currency.trim()), ...budgets.map((b) => b.currency)], startsOn, end);
  const actual = new Map<string | null, number>();
  const what = `A category's net for the ${period.toLowerCase()} period from ${startsOn}`;
  const fix = 'split the spending over more categories or accounts to report it.';
  for (const row of rows) {
    const amount = sumFromSql(row.amount, 'on', what, fix);
    const converted = rates.convert(amount, row.currency.trim(), currency, row.day, 'homeCurrency');
    actual.set(row.category_id, addExact(actual.get(row.category_id) ?? 0, converted, 'on', what, fix));
  }
  const budgetOf = new Map(budgets.map((b) => [b.categoryId, b]));
  const lines = categories
    .filter((c) => budgetOf.has(c.id) || actual.has(c.id))
    .map((category) => {
      const budget = budgetOf.get(category.id) ?? null;
      return {
        category,
        budget,
        actual: actual.get(category.id) ?? 0,
        budgeted: budget ? rates.convert(budget.amount, budget.currency, currency, startsOn, 'homeCurrency') : null,
      };
    });
  return { period, startsOn, endsOn: end, currency, lines, uncategorized: actual.get(null) ?? 0 };
}

export interface ConvertedTotals {
  currency: string;
  count: number;
  inflow: number;
  outflow: number;
  net: number;
}

/** Totals of a filtered set of transactions in `currency`, each (currency, day) at that day's rate. Two statements. */
export async function convertedTotals(em: EntityManager, selection: Selection, currency: string): Promise<ConvertedTotals> {
  const days = await dailyTotals(em, selection);
  const sorted = days.map((d) => d.day).sort();
  const rates = days.some((d) => d.currency !== currency) ? await loadRateTable(em, [currency, ...days.map((d) => d.currency)], sorted[0]!, sorted.at(-1)!) : undefined;
  const convert = (amount: number, from: string, day: string) => (rates ? rates.convert(amount, from, currency, day, 'homeCurrency') : amount);
  const totals = { currency, count: 0, inflow: 0, outflow: 0, net: 0 };
  const add = (sum: number, amount: number, what: string) => addExact(sum, amount, 'filter', `The ${what} of these transactions in ${currency}`, NARROW_THE_FILTER);
  for (const d of days) {
    totals.count += d.count;
    totals.inflow = add(totals.inflow, convert(d.inflow, d.currency, d.day), 'inflow');
    totals.outflow = add(totals.outflow, convert(d.outflow, d.currency, d.day), 'outflow');
  }
  // Inflow is positive and outflow negative, each within the range: their sum is too.
  totals.net = totals.inflow + totals.outflow;
  return totals;
}
