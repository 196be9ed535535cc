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
      });
    }
  }
  return insights;
}
