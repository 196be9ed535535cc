import { badInput } from '@analytica/errors';
import { formatMinorUnits } from '@analytica/money';
import { describePeriod, formatDay, type ReportPeriod } from '../periods.js';

export type CashFlow = 'INCOME' | 'SPENDING';
/**
 * ANOMALY comes from the inference worker's transactions.anomalous.v1, BUDGET_FORECAST from the
 * budgets and daily totals as transactions arrive (forecasts/), the others from a report.
 */
export type InsightKind = 'SPENDING_SPIKE' | 'SAVING_SUGGESTION' | 'RISK_WARNING' | 'ANOMALY' | 'BUDGET_FORECAST' | 'INVESTMENT_SUGGESTION';

/** One amount an insight rests on: what it is (a stable name, e.g. "spent", "limit"), in minor units and currency. */
export interface InsightAmount {
  name: string;
  amountMinor: number;
  currency: string;
}

/** What a BUDGET_FORECAST rests on (money in minor units of `currency`). */
export interface ForecastFigures {
  budgetId: string;
  period: ReportPeriod;
  startsOn: string;
  endsOn: string;
  currency: string;
  spentMinor: number;
  limitMinor: number;
  projectedMinor: number;
  overByMinor: number;
  dailyRateMinor: number;
  recurringDueMinor: number;
  crossingOn: string | null;
  exceeded: boolean;
}

/** The figures an insight rests on, kept beside its text (insights.figures). */
export interface InsightFigures {
  amounts: InsightAmount[];
  forecast?: ForecastFigures;
}

/** One aggregate of a period: money in or out, per category and currency, in positive minor units. */
export interface FlowLine {
  flow: CashFlow;
  categoryId: string | null;
  currency: string;
  totalMinor: number;
  count: number;
}

export interface CurrencyTotals {
  currency: string;
  incomeMinor: number;
  spendingMinor: number;
}

export interface DerivedInsight {
  kind: InsightKind;
  /** Names what the insight is about, so regenerating a report updates it rather than adding another. */
  subject: string;
  categoryId: string | null;
  title: string;
  body: string;
  figures?: InsightFigures;
}

/** A category's spending must rise by more than this share over the previous period to be a spike. */
const SPIKE_PERCENT = 30;
/** Income left over, as a share of income, from which a saving suggestion is made. */
const SURPLUS_PERCENT = 10;

export function totalsByCurrency(lines: FlowLine[]): CurrencyTotals[] {
  const totals = new Map<string, CurrencyTotals>();
  for (const line of lines) {
    const total = totals.get(line.currency) ?? { currency: line.currency, incomeMinor: 0, spendingMinor: 0 };
    if (line.flow === 'INCOME') total.incomeMinor += line.totalMinor;
    else total.spendingMinor += line.totalMinor;
    // Each line is exact; a sum beyond the safe range would be rounded, so it is refused instead.
    if (!Number.isSafeInteger(total.incomeMinor) || !Number.isSafeInteger(total.spendingMinor)) {
      throw badInput(
        'startsOn',
        `The ${line.flow.toLowerCase()} in ${line.currency} in this period is beyond ${Number.MAX_SAFE_INTEGER} minor units, more than can be reported exactly; report a shorter period.`,
      );
    }
    totals.set(line.currency, total);
  }
  return [...totals.values()].sort((a, b) => a.currency.localeCompare(b.currency));
}

const money = (minor: number, currency: string) => `${formatMinorUnits(minor, currency)} ${currency}`;
/** The figures of an insight: named amounts in one currency. */
const amounts = (currency: string, named: Record<string, number>): InsightFigures => ({
  amounts: Object.entries(named).map(([name, amountMinor]) => ({ name, amountMinor, currency })),
});
/**
 * A category as a person reads it: its name (as the budget's events last gave it), never its id;
 * one whose name insight never saw is "a category without a known name" rather than a raw id.
 */
const categoryLabel = (categoryId: string | null, names: ReadonlyMap<string, string>) =>
  categoryId === null ? 'uncategorised spending' : (names.get(categoryId) ?? 'a category without a known name');
/** The label at the start of a title: a user's own name as they wrote it ("eBay" stays "eBay"), a generic label capitalised. */
const titleLabel = (categoryId: string | null, names: ReadonlyMap<string, string>) => {
  const label = categoryLabel(categoryId, names);
  return categoryId !== null && names.has(categoryId) ? label : `${label[0]!.toUpperCase()}${label.slice(1)}`;
};
/** Whole percent, rounded half up, computed on integers so that large amounts stay exact. */
const percentOf = (part: number, whole: number) => Number((BigInt(part) * 200n + BigInt(whole)) / (BigInt(whole) * 2n));

/**
 * Rule-based insights for one period, compared with the period before it:
 * - SPENDING_SPIKE: a category (per currency) on which spending rose by more than 30%.
 * - RISK_WARNING: a currency in which spending exceeded income.
 * - SAVING_SUGGESTION: a currency in which at least 10% of income was left over.
 * Currencies are never mixed: there is no exchange rate here, and a total of EUR and USD means nothing.
 * `names` are the category names to write into titles and texts (a snapshot: a later rename shows
 * when the report is generated again).
 */
export function deriveInsights(period: ReportPeriod, start: Date, current: FlowLine[], previous: FlowLine[], names: ReadonlyMap<string, string> = new Map()): DerivedInsight[] {
  const insights: DerivedInsight[] = [];
  const when = describePeriod(period, start);
  const before = period === 'MONTHLY' ? 'the month before' : 'the week before';
  const key = (line: FlowLine) => `${line.currency}:${line.categoryId ?? ''}`;
  const previousSpending = new Map(previous.filter((l) => l.flow === 'SPENDING').map((l) => [key(l), l.totalMinor]));

  for (const line of current.filter((l) => l.flow === 'SPENDING')) {
    const earlier = previousSpending.get(key(line)) ?? 0;
    if (earlier <= 0) continue;
    if (BigInt(line.totalMinor) * 100n <= BigInt(earlier) * BigInt(100 + SPIKE_PERCENT)) continue;
    const rise = percentOf(line.totalMinor - earlier, earlier);
    const label = categoryLabel(line.categoryId, names);
    insights.push({
      kind: 'SPENDING_SPIKE',
      subject: `SPENDING_SPIKE:${period}:${formatDay(start)}:${line.currency}:${line.categoryId ?? '-'}`,
      categoryId: line.categoryId,
      title: `${titleLabel(line.categoryId, names)} rose ${rise}%`,
      body: `You spent ${money(line.totalMinor, line.currency)} on ${label} in ${when}, ` + `up from ${money(earlier, line.currency)} in ${before} (+${rise}%).`,
      figures: amounts(line.currency, { spending: line.totalMinor, previousSpending: earlier }),
    });
  }

  for (const total of totalsByCurrency(current)) {
    const { currency, incomeMinor, spendingMinor } = total;
    if (incomeMinor <= 0) continue;
    if (spendingMinor > incomeMinor) {
      insights.push({
        kind: 'RISK_WARNING',
        subject: `RISK_WARNING:${period}:${formatDay(start)}:${currency}`,
        categoryId: null,
        title: `You spent more than you earned in ${currency}`,
        body:
          `In ${when} you spent ${money(spendingMinor, currency)} against an income of ${money(incomeMinor, currency)}: ` +
          `${money(spendingMinor - incomeMinor, currency)} more than came in.`,
        figures: amounts(currency, { income: incomeMinor, spending: spendingMinor, shortfall: spendingMinor - incomeMinor }),
      });
      continue;
    }
    const surplus = incomeMinor - spendingMinor;
    if (BigInt(surplus) * 100n >= BigInt(incomeMinor) * BigInt(SURPLUS_PERCENT)) {
      insights.push({
        kind: 'SAVING_SUGGESTION',
        subject: `SAVING_SUGGESTION:${period}:${formatDay(start)}:${currency}`,
        categoryId: null,
        title: `${money(surplus, currency)} left over to save`,
        body:
          `In ${when} your income was ${money(incomeMinor, currency)} and you spent ${money(spendingMinor, currency)}, ` +
          `leaving ${money(surplus, currency)} (${percentOf(surplus, incomeMinor)}% of income). ` +
          'Moving part of it to savings now keeps it from being spent.',
        figures: amounts(currency, { income: incomeMinor, spending: spendingMinor, surplus }),
      });
    }
  }
  return insights;
}

/** One calendar month's totals (months with no transactions at all are left out). */
export interface MonthTotals {
  /** YYYY-MM-01 */
  month: string;
  totals: CurrencyTotals[];
}

/** Months of the trend rules: a surplus or shortfall must hold this many months running. */
const TREND_MONTHS = 3;
/** Months of spending to keep as cash before suggesting to invest the rest. */
export const BUFFER_MONTHS = 3;
/** Months over which idle cash is measured. */
export const IDLE_CASH_MONTHS = 6;

/**
 * Rules over the months up to a monthly report's month (`months`: that month first, then the ones
 * before it, at most IDLE_CASH_MONTHS), per currency:
 * - RISK_WARNING: spending exceeded income in each of the last 3 months (a habit, not a bad month);
 * - SAVING_SUGGESTION: at least 10% of income was left over in each of the last 3 months: a
 *   standing transfer of the smallest of those surpluses would have been covered every month;
 * - INVESTMENT_SUGGESTION: over the last 6 months (at least 3 with transactions) more was kept than
 *   a buffer of 3 months of average spending; the rest sits idle and could be invested.
 * Insight sees flows, not account balances: the cash is what the user kept of their income in those
 * months (transfers between their own accounts left out), which is what built any balance up.
 */
export function deriveTrendInsights(months: MonthTotals[]): DerivedInsight[] {
  const [current] = months;
  if (!current) return [];
  const insights: DerivedInsight[] = [];
  const currencies = new Set(current.totals.map((t) => t.currency));
  for (const currency of [...currencies].sort()) {
    const series = months.map((m) => ({ month: m.month, ...(m.totals.find((t) => t.currency === currency) ?? { incomeMinor: 0, spendingMinor: 0 }) }));
    const recent = series.slice(0, TREND_MONTHS);
    const running = recent.length === TREND_MONTHS && months.slice(0, TREND_MONTHS).every((m, i) => i === 0 || isMonthBefore(m.month, months[i - 1]!.month));
    const since = recent.at(-1)!.month;
    if (running && recent.every((m) => m.spendingMinor > m.incomeMinor)) {
      const income = sum(recent.map((m) => m.incomeMinor));
      const spending = sum(recent.map((m) => m.spendingMinor));
      insights.push({
        kind: 'RISK_WARNING',
        subject: `RISK_WARNING:TREND:${current.month}:${currency}`,
        categoryId: null,
        title: `You have spent more than you earned in ${currency} for ${TREND_MONTHS} months running`,
        body:
          `In the ${TREND_MONTHS} months from ${since} you spent ${money(spending, currency)} against an income of ${money(income, currency)}: ` +
          `${money(spending - income, currency)} more than came in, more in each month. Unless it is planned, it is drawing down your savings or adding to debt.`,
        figures: amounts(currency, { income, spending, shortfall: spending - income }),
      });
    }
    if (running && recent.every((m) => m.incomeMinor > 0 && BigInt(m.incomeMinor - m.spendingMinor) * 100n >= BigInt(m.incomeMinor) * BigInt(SURPLUS_PERCENT))) {
      const smallest = Math.min(...recent.map((m) => m.incomeMinor - m.spendingMinor));
      const average = Math.round(sum(recent.map((m) => m.incomeMinor - m.spendingMinor)) / TREND_MONTHS);
      insights.push({
        kind: 'SAVING_SUGGESTION',
        subject: `SAVING_SUGGESTION:TREND:${current.month}:${currency}`,
        categoryId: null,
        title: `Set aside ${money(smallest, currency)} a month`,
        body:
          `In each of the ${TREND_MONTHS} months from ${since} at least ${SURPLUS_PERCENT}% of your income in ${currency} was left over ` +
          `(${money(average, currency)} a month on average, never less than ${money(smallest, currency)}). ` +
          `A standing transfer of ${money(smallest, currency)} to savings on payday would have been covered every month.`,
        figures: amounts(currency, { smallestSurplus: smallest, averageSurplus: average }),
      });
    }
    const active = series.filter((m) => m.incomeMinor > 0 || m.spendingMinor > 0);
    if (active.length >= TREND_MONTHS) {
      const kept = sum(active.map((m) => m.incomeMinor - m.spendingMinor));
      const monthlySpending = Math.round(sum(active.map((m) => m.spendingMinor)) / active.length);
      const buffer = monthlySpending * BUFFER_MONTHS;
      if (kept > buffer) {
        insights.push({
          kind: 'INVESTMENT_SUGGESTION',
          subject: `INVESTMENT_SUGGESTION:${current.month}:${currency}`,
          categoryId: null,
          title: `${money(kept - buffer, currency)} could be invested`,
          body:
            `Over the ${active.length} months from ${active.at(-1)!.month} you kept ${money(kept, currency)} of your income in ${currency}. ` +
            `You spend about ${money(monthlySpending, currency)} a month, so ${BUFFER_MONTHS} months of it, ${money(buffer, currency)}, is a sound cash buffer; ` +
            `the ${money(kept - buffer, currency)} above it is sitting idle and could be invested for the longer term.`,
          figures: amounts(currency, { kept, monthlySpending, buffer, investable: kept - buffer }),
        });
      }
    }
  }
  return insights;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
/** Whether `earlier` (YYYY-MM-01) is the month right before `later`. */
function isMonthBefore(earlier: string, later: string): boolean {
  const d = new Date(`${later}T00:00:00Z`);
  return formatDay(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1))) === earlier;
}
