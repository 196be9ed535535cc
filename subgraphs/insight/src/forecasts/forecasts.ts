import { randomUUID } from 'node:crypto';
import { claimEvent, type Event } from '@analytica/events';
import { CURRENCY_DIGITS, formatMinorUnits } from '@analytica/money';
import type { Logger } from '@analytica/logger';
import type { Database, EntityManager } from '@analytica/postgres';
import type { ForecastFigures, InsightFigures } from '../insights/insight-rules.js';
import { describePeriod, formatDay, periodEnd, type ReportPeriod } from '../periods.js';
import { categoryNames, rememberCategoryNames } from '../category-names.js';
import { startPasses } from '../passes.js';
import { forecastBudget, historyStart, type BudgetForecast } from './forecast.js';

/**
 * Budget forecasts live here, in the insight service, rather than in the inference worker:
 * - a forecast is arithmetic on exact ledger totals (forecast.ts), not a trained model; the inference
 *   worker serves models from artefacts and keeps no totals;
 * - insight already keeps those totals as the ledger has them (edits, deletes, splits, transfers,
 *   each event once and in version order); the worker would need a second copy of that to project
 *   anything, and it does not even read deletes;
 * - the forecast is refreshed in the same database transaction that moves the totals, so the
 *   insight never disagrees with them, and an event applied twice changes nothing twice.
 * Budgets themselves (limit, currency, period) come from budget's `budget.set.v1`.
 */
export const BUDGETS_CONSUMER = 'insight.budgets';

/** Subject of a budget's forecast: one insight per budget, and a budget is one category and period. */
export const forecastSubject = (budgetId: string) => `BUDGET_FORECAST:${budgetId}`;

/** Keeps the newest setting of a budget (by setAt) and refreshes its forecast; once per event. Answers the ids of insights it created. */
export async function recordBudget(em: EntityManager, event: Event<'budget.set.v1'>, now = new Date()): Promise<string[]> {
  const p = event.payload;
  return em.transactional(async (tx) => {
    if (!(await claimEvent(tx, event.id, BUDGETS_CONSUMER))) return [];
    if (p.categoryName) await rememberCategoryNames(tx, p.userId, [{ categoryId: p.categoryId, name: p.categoryName }], p.setAt);
    await tx.getConnection().execute(
      `insert into budgets (user_id, budget_id, category_id, period, starts_on, limit_minor, currency, set_at) values (?, ?, ?, ?, ?, ?, ?, ?)
       on conflict on constraint budgets_key do update
          set limit_minor = excluded.limit_minor, currency = excluded.currency, set_at = excluded.set_at
        where budgets.set_at <= excluded.set_at`,
      [p.userId, p.budgetId, p.categoryId, p.period, p.startsOn, p.limitMinor, p.currency, p.setAt],
      'run',
      tx.getTransactionContext(),
    );
    return refreshForecasts(tx, p.userId, [p.categoryId], now);
  });
}

interface BudgetRow {
  budget_id: string;
  category_id: string;
  period: ReportPeriod;
  starts_on: string;
  limit_minor: string;
  currency: string;
}

/**
 * Recomputes the forecasts of the user's current budgets in these categories, inside the caller's
 * transaction (after it moved the totals): a budget heading over its limit has one BUDGET_FORECAST
 * insight, updated in place as transactions arrive; one heading within it has none (a forecast that
 * no longer holds is removed). Forecasts of periods that have ended are removed too. Concurrent
 * refreshes of one user queue on an advisory lock, so the last to commit read the others' totals.
 * Answers the ids of the insights it created (new to the user).
 */
export async function refreshForecasts(tx: EntityManager, userId: string, categoryIds: readonly (string | null)[], now: Date): Promise<string[]> {
  const ids = [...new Set(categoryIds.filter((c): c is string => c !== null))];
  if (!ids.length) return [];
  const connection = tx.getConnection();
  const trx = tx.getTransactionContext();
  const today = formatDay(now);
  await connection.execute(`select pg_advisory_xact_lock(hashtext('insight.forecast:' || ?))`, [userId], 'all', trx);
  await connection.execute(`delete from insights where user_id = ? and kind = 'BUDGET_FORECAST' and figures->'forecast'->>'endsOn' < ?`, [userId, today], 'run', trx);
  // A month is at most 31 days, so a budget starting earlier than that is over.
  const budgets: BudgetRow[] = await connection.execute(
    `select budget_id, category_id, period, starts_on::text as starts_on, limit_minor::text as limit_minor, currency
       from budgets
      where user_id = ? and category_id in (${ids.map(() => '?').join(', ')}) and starts_on <= ?::date and starts_on > ?::date - 31
      order by budget_id`,
    [userId, ...ids, today, today],
    'all',
    trx,
  );
  const names = await categoryNames(tx, userId, ids);
  const created: string[] = [];
  for (const budget of budgets) {
    const startsOn = new Date(`${budget.starts_on}T00:00:00Z`);
    if (formatDay(periodEnd(budget.period, startsOn)) <= today) continue;
    const days: { day: string; amount_minor: string }[] = await connection.execute(
      // Net of refunds, as budget counts spending: money back in the category lowers it.
      `select day::text as day, (sum(case flow when 'SPENDING' then total_minor else -total_minor end))::text as amount_minor
         from spending
        where user_id = ? and category_id = ? and currency = ? and day >= ? and day <= ?
        group by day`,
      [userId, budget.category_id, budget.currency, formatDay(historyStart(budget.period, startsOn)), today],
      'all',
      trx,
    );
    const forecast = forecastBudget({
      period: budget.period,
      startsOn,
      today: now,
      limitMinor: Number(budget.limit_minor),
      days: days.map((d) => ({ day: d.day, amountMinor: Number(d.amount_minor) })),
    });
    const subject = forecastSubject(budget.budget_id);
    if (!forecast || forecast.overByMinor <= 0) {
      await connection.execute('delete from insights where user_id = ? and subject = ?', [userId, subject], 'run', trx);
      continue;
    }
    const text = describeForecast(budget, forecast, names.get(budget.category_id) ?? null);
    const [row]: { id: string; inserted: boolean }[] = await connection.execute(
      `insert into insights (id, user_id, report_id, kind, subject, category_id, title, body, created_at, figures)
       values (?, ?, null, 'BUDGET_FORECAST', ?, ?, ?, ?, ?, ?::jsonb)
       on conflict on constraint insights_subject
       do update set title = excluded.title, body = excluded.body, figures = excluded.figures
       returning id, (xmax = 0) as inserted`,
      [randomUUID(), userId, subject, budget.category_id, text.title, text.body, now, JSON.stringify(text.figures)],
      'all',
      trx,
    );
    if (row?.inserted) created.push(row.id);
  }
  return created;
}

/**
 * Forecasts as days pass. A projection rests on the days left in the period, so it changes each day
 * even when no transaction arrives: a week without groceries brings "around the 24th" later, or
 * under the limit, and a period that ended takes its forecast with it. Once per UTC day (and at
 * start, see startForecastDays) every user's current budgets are recomputed, each user in a
 * transaction of their own (refreshForecasts, under the same per-user lock as the events). Answers
 * the ids of the insights it created.
 */
export async function refreshForecastsForDay(em: EntityManager, now: Date): Promise<string[]> {
  const today = formatDay(now);
  const connection = em.getConnection();
  await connection.execute(`delete from insights where kind = 'BUDGET_FORECAST' and figures->'forecast'->>'endsOn' < ?`, [today], 'run');
  const users: { user_id: string; category_ids: string[] }[] = await connection.execute(
    `select user_id, array_agg(distinct category_id) as category_ids
       from budgets
      where starts_on <= ?::date and starts_on > ?::date - 31
      group by user_id`,
    [today, today],
    'all',
  );
  const created: string[] = [];
  for (const { user_id: userId, category_ids: categoryIds } of users) {
    created.push(...(await em.fork().transactional((tx) => refreshForecasts(tx, userId, categoryIds, now))));
  }
  return created;
}

/**
 * Refreshes every forecast when the UTC day has changed since the last refresh, looking every
 * `intervalMs`; one replica or several give the same forecasts (each write is the same upsert).
 */
export function startForecastDays(options: { db: Database; logger: Logger; intervalMs: number; clock: () => Date; onCreated: (ids: string[]) => Promise<void> }) {
  let refreshedOn: string | undefined;
  return startPasses({
    logger: options.logger,
    intervalMs: options.intervalMs,
    what: 'forecast refresh',
    pass: async () => {
      const now = options.clock();
      if (formatDay(now) === refreshedOn) return;
      const created = await refreshForecastsForDay(options.db.fork(), now);
      refreshedOn = formatDay(now);
      await options.onCreated(created);
    },
  });
}

const money = (minor: number, currency: string) => `${formatMinorUnits(minor, currency)} ${currency}`;
/** To the nearest whole unit of the currency: a projection is "about" so much, not to the cent. */
const about = (minor: number, currency: string) => {
  const unit = 10 ** (CURRENCY_DIGITS[currency] ?? 2);
  return money(Math.max(unit, Math.round(minor / unit) * unit), currency);
};
/** "the 1st", "the 22nd", "the 13th": the day of the month of a YYYY-MM-DD. */
export function dayOfMonth(day: string): string {
  const n = Number(day.slice(8, 10));
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `the ${n}${suffix}`;
}

/** Title, text and figures of a budget's forecast, naming the category (never its id). */
export function describeForecast(
  budget: { budget_id: string; period: ReportPeriod; starts_on: string; currency: string },
  forecast: BudgetForecast,
  categoryName: string | null,
): { title: string; body: string; figures: InsightFigures } {
  const c = budget.currency;
  const label = categoryName ?? 'A category without a known name';
  const when = describePeriod(budget.period, new Date(`${budget.starts_on}T00:00:00Z`));
  const title = forecast.exceeded
    ? `${label} went over its budget on ${dayOfMonth(forecast.crossingOn!)} and is heading for about ${about(forecast.overByMinor, c)} over`
    : `${label} will exceed its budget by about ${about(forecast.overByMinor, c)} around ${dayOfMonth(forecast.crossingOn!)}`;
  const recurring = forecast.recurringDueMinor > 0 ? `, with ${money(forecast.recurringDueMinor, c)} of recurring payments still due` : '';
  const body =
    `You have spent ${money(forecast.spentMinor, c)} of the ${money(forecast.limitMinor, c)} budget for ${categoryName ?? 'a category without a known name'} in ${when} ` +
    `(to ${forecast.endsOn}). At about ${money(forecast.dailyRateMinor, c)} a day${recurring}, spending is heading for ${money(forecast.projectedMinor, c)} ` +
    `by ${forecast.endsOn}: ${money(forecast.overByMinor, c)} over, ` +
    (forecast.exceeded ? `the limit having been passed on ${forecast.crossingOn}.` : `passing the limit around ${forecast.crossingOn}.`);
  const figures: ForecastFigures = {
    budgetId: budget.budget_id,
    period: budget.period,
    startsOn: budget.starts_on,
    endsOn: forecast.endsOn,
    currency: c,
    spentMinor: forecast.spentMinor,
    limitMinor: forecast.limitMinor,
    projectedMinor: forecast.projectedMinor,
    overByMinor: forecast.overByMinor,
    dailyRateMinor: forecast.dailyRateMinor,
    recurringDueMinor: forecast.recurringDueMinor,
    crossingOn: forecast.crossingOn,
    exceeded: forecast.exceeded,
  };
  const amounts = (['spent', 'limit', 'projected', 'overBy', 'dailyRate', 'recurringDue'] as const).map((name) => ({
    name,
    amountMinor: figures[`${name}Minor`],
    currency: c,
  }));
  return { title, body, figures: { amounts, forecast: figures } };
}
