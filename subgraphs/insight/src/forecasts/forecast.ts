import { formatDay, periodEnd, previousPeriodStart, type ReportPeriod } from '../periods.js';

/**
 * Where a budget's spending is heading by the end of its period: a documented statistical method,
 * not a trained model (there is nothing to learn per user that these few figures do not already say,
 * and its inputs are exact ledger totals, so every figure of the result can be checked by hand).
 *
 *   projected = spent so far
 *             + remaining days x daily rate of variable spending
 *             + recurring payments still due in the period, each once, on its day
 *
 * - Recurring payments (rent, subscriptions): a day's total that comes back a month later (27 to 35
 *   days) within 2% of its amount, at least twice. They are taken out of the daily rate (rent on the
 *   1st must not be spread over every day) and counted once on the day they are next due: a month
 *   after the last one. One due in the period but not seen yet is expected the next day.
 * - Once a payment is recurring (seen twice), a day total within 2 days of its due day and within
 *   10% of its last amount is that month's payment: rents rise by a few percent a year and metered
 *   bills vary from month to month, and a payer moves a payment off a weekend by at most 2 days
 *   (Saturday to Monday, Sunday to Friday). Without it, the month rent rose the old amount was still
 *   expected and the new one spread over the days left as everyday spending (900 rising to 927 was
 *   projected at 2 445). The looser match only continues a known payment close to its day, where a
 *   coincidental purchase of that size is unlikely; new ones still need 2%, or everyday purchases of
 *   similar size a month apart would be taken for recurring payments and left out of the rate.
 * - Daily rate: this period's variable spending per day so far, and the median over the previous
 *   periods (3 months, or 6 weeks) of each one's variable spending per day, the median so that one
 *   unusual month does not set the pace. The two are blended by how much of the period has passed
 *   (early on the history speaks, late the current pace), a shrinkage estimate; with no history the
 *   current pace alone. Earlier periods before the first spending seen in the category do not count.
 * - Baseline it improves on: the naive pace (spent / elapsed x period length), which overreacts to
 *   a large purchase on day 1 and multiplies rent by the month's length.
 * Money is integer minor units of the budget's currency throughout; the daily rate is fractional and
 * rounded once, in the projected total.
 */
export interface SpendingDay {
  /** YYYY-MM-DD (UTC). */
  day: string;
  /** Money spent that day in the category and the budget's currency, positive minor units. */
  amountMinor: number;
}

export interface ForecastInput {
  period: ReportPeriod;
  /** First day of the budget's period (UTC midnight). */
  startsOn: Date;
  /** Today (any time of the day, UTC): the last day whose spending is known. */
  today: Date;
  limitMinor: number;
  /** The category's spending per day, from historyStart(period, startsOn) up to today; any order. */
  days: readonly SpendingDay[];
}

export interface RecurringPayment {
  amountMinor: number;
  /** The last time it was seen, YYYY-MM-DD. */
  lastOn: string;
  /** When it is next due within the period (YYYY-MM-DD), or null when not in this period. */
  dueOn: string | null;
}

export interface BudgetForecast {
  spentMinor: number;
  limitMinor: number;
  /** Expected spending at the end of the period. */
  projectedMinor: number;
  /** projected - limit: above zero, by how much the budget will be exceeded. */
  overByMinor: number;
  /** The day spending crossed the limit (already exceeded) or is expected to, YYYY-MM-DD; null when it stays within. */
  crossingOn: string | null;
  exceeded: boolean;
  /** The blended rate of variable spending per day, rounded to minor units. */
  dailyRateMinor: number;
  /** Recurring payments expected before the period ends, counted once each. */
  recurringDueMinor: number;
  recurring: RecurringPayment[];
  daysLeft: number;
  /** The last day of the period, YYYY-MM-DD. */
  endsOn: string;
}

const DAY_MS = 86_400_000;
const HISTORY_PERIODS: Record<ReportPeriod, number> = { MONTHLY: 3, WEEKLY: 6 };
/** How close two amounts must be (share of the larger) to be the same recurring payment. */
const RECURRING_TOLERANCE = 0.02;
/** A known recurring payment's change of amount (share of the larger) still read as that payment, on its day. */
const RECURRING_CHANGE = 0.1;
/** How far (days) from its due day a known recurring payment may fall and still take the looser match. */
const RECURRING_SHIFT_DAYS = 2;

const dayNumber = (date: Date) => Math.floor(date.getTime() / DAY_MS);
const dayOf = (n: number) => formatDay(new Date(n * DAY_MS));
const parse = (day: string) => dayNumber(new Date(`${day}T00:00:00Z`));

/** The first day whose spending the forecast reads: the start of the earliest history period. */
export function historyStart(period: ReportPeriod, startsOn: Date): Date {
  let start = startsOn;
  for (let i = 0; i < HISTORY_PERIODS[period]; i++) start = previousPeriodStart(period, start);
  return start;
}

/** The same day of the next month, or that month's last day when it is shorter (31 Jan -> 28 Feb). */
function aMonthAfter(n: number): number {
  const date = new Date(n * DAY_MS);
  const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 2, 0)).getUTCDate();
  return dayNumber(new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, Math.min(date.getUTCDate(), lastDay))));
}

const similar = (a: number, b: number, tolerance = RECURRING_TOLERANCE) => Math.abs(a - b) <= tolerance * Math.max(a, b);

/**
 * Chains of day totals that come back a month later at (nearly) the same amount; those seen twice or
 * more. A chain seen twice also takes a changed amount close to its due day (see RECURRING_CHANGE).
 */
function recurringChains(days: readonly { n: number; amountMinor: number }[]): { n: number; amountMinor: number }[][] {
  const chains: { n: number; amountMinor: number }[][] = [];
  for (const day of days) {
    if (day.amountMinor <= 0) continue;
    const same = (c: { n: number; amountMinor: number }[]) => {
      const last = c.at(-1)!;
      const gap = day.n - last.n;
      return gap >= 27 && gap <= 35 && similar(last.amountMinor, day.amountMinor);
    };
    const changed = (c: { n: number; amountMinor: number }[]) => {
      const last = c.at(-1)!;
      return c.length >= 2 && Math.abs(day.n - aMonthAfter(last.n)) <= RECURRING_SHIFT_DAYS && similar(last.amountMinor, day.amountMinor, RECURRING_CHANGE);
    };
    // The same amount first: a changed one must not take the occurrence of another payment that matches exactly.
    const chain = chains.find(same) ?? chains.find(changed);
    if (chain) chain.push(day);
    else chains.push([day]);
  }
  return chains.filter((c) => c.length >= 2);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The projection of one budget for the period containing `today`; null when today is outside the period. */
export function forecastBudget(input: ForecastInput): BudgetForecast | null {
  const start = dayNumber(input.startsOn);
  const end = dayNumber(periodEnd(input.period, input.startsOn));
  const today = dayNumber(input.today);
  if (today < start || today >= end) return null;
  const days = input.days
    .map((d) => ({ n: parse(d.day), amountMinor: d.amountMinor }))
    .filter((d) => d.n <= today)
    .sort((a, b) => a.n - b.n);

  // Recurring payments, and what is left of each day once they are taken out.
  const variable = new Map(days.map((d) => [d.n, d.amountMinor]));
  const recurring: RecurringPayment[] = [];
  const due = new Map<number, number>();
  for (const chain of recurringChains(days)) {
    for (const occurrence of chain) variable.set(occurrence.n, variable.get(occurrence.n)! - occurrence.amountMinor);
    const last = chain.at(-1)!;
    let next = aMonthAfter(last.n);
    // Due in this period but not seen by today: late rather than cancelled, so expected tomorrow.
    if (next >= start && next <= today) next = today + 1;
    const inPeriod = next > today && next < end;
    if (inPeriod) due.set(next, (due.get(next) ?? 0) + last.amountMinor);
    recurring.push({ amountMinor: last.amountMinor, lastOn: dayOf(last.n), dueOn: inPeriod ? dayOf(next) : null });
  }

  let spentMinor = 0;
  let currentVariable = 0;
  for (const d of days) {
    if (d.n < start) continue;
    spentMinor += d.amountMinor;
    currentVariable += variable.get(d.n)!;
  }
  const length = end - start;
  const elapsed = today - start + 1;
  const daysLeft = end - today - 1;
  const currentRate = currentVariable / elapsed;

  // Each earlier period's variable spending per day, from the first period with spending in the category.
  const firstSeen = days[0]?.n;
  const rates: number[] = [];
  for (let s = input.startsOn, i = 0; i < HISTORY_PERIODS[input.period]; i++) {
    const from = previousPeriodStart(input.period, s);
    const [a, b] = [dayNumber(from), dayNumber(s)];
    s = from;
    if (firstSeen === undefined || b <= firstSeen) continue;
    let total = 0;
    for (const d of days) if (d.n >= a && d.n < b) total += variable.get(d.n)!;
    rates.push(total / (b - a));
  }
  const historicalRate = rates.length ? median(rates) : null;
  const weight = elapsed / length;
  const rate = historicalRate === null ? currentRate : weight * currentRate + (1 - weight) * historicalRate;

  const recurringDueMinor = [...due.values()].reduce((a, b) => a + b, 0);
  const projectedMinor = spentMinor + Math.round(rate * daysLeft) + recurringDueMinor;

  // The crossing: the day the running total went over the limit, or is expected to.
  let crossing: number | null = null;
  let running = 0;
  for (const d of days) {
    if (d.n < start) continue;
    running += d.amountMinor;
    if (running > input.limitMinor) {
      crossing = d.n;
      break;
    }
  }
  const exceeded = crossing !== null;
  if (!exceeded) {
    let expected = spentMinor;
    for (let n = today + 1; n < end; n++) {
      expected += rate + (due.get(n) ?? 0);
      if (Math.round(expected) > input.limitMinor) {
        crossing = n;
        break;
      }
    }
    // Rounding apart, the walk ends at the projected total; a total above the limit crosses by the last day.
    if (crossing === null && projectedMinor > input.limitMinor) crossing = end - 1;
  }
  return {
    spentMinor,
    limitMinor: input.limitMinor,
    projectedMinor,
    overByMinor: projectedMinor - input.limitMinor,
    crossingOn: crossing === null ? null : dayOf(crossing),
    exceeded,
    dailyRateMinor: Math.round(rate),
    recurringDueMinor,
    recurring,
    daysLeft,
    endsOn: dayOf(end - 1),
  };
}
