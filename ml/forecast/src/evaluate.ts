/**
 * `npm run ml:forecast-eval`: the shipped budget forecast (insight's forecastBudget, imported, not
 * copied) against the naive pace (spent so far / days gone x days in the month) on a seeded
 * synthetic ledger (ledger.ts). For every budget, evaluated month and forecast day, both project the
 * month-end spending; each is scored against what was actually spent by the month's end (scoring.ts).
 * Prints tables to stdout; nothing random is left unseeded, so two runs print the same.
 */
import { forecastBudget, historyStart } from '../../../subgraphs/insight/src/forecasts/forecast.js';
import { formatDay as dayText } from '../../../subgraphs/insight/src/periods.js';
import { CATEGORIES, generateLedger, Rng, YEAR, type Category } from './ledger.js';
import { errorPercentOfActual, exceedScores, meanAbsoluteError, type ScoredCase } from './scoring.js';

const SEED = 13;
const PEOPLE = 300;
/** April to December: each evaluated month has the 3 months of history the method reads. */
const FIRST_MONTH = 3;
const FORECAST_DAYS = [5, 10, 15, 20, 25];
/** Limits are set once, at the start of April, from January to March: their mean, times this. */
const LIMIT_FACTOR = [0.9, 1.2] as const;

interface Case {
  category: Category;
  forecastDay: number;
  /** Over the limit already on the forecast day: both methods then say "exceeds", and rightly. */
  alreadyOver: boolean;
  method: ScoredCase;
  naive: ScoredCase;
}

const DAY_MS = 86_400_000;

function collect() {
  const people = generateLedger(SEED, PEOPLE);
  // Limits from their own generator: changing how they are drawn does not change the ledger.
  const limits = new Rng(SEED + 1);
  const cases: Case[] = [];
  let budgets = 0;
  for (const person of people) {
    for (const category of CATEGORIES) {
      const days = person.days.get(category)!;
      const total = (from: string, to: string) => days.filter((d) => d.day >= from && d.day < to).reduce((a, d) => a + d.amountMinor, 0);
      const history = total(`${YEAR}-01-01`, `${YEAR}-04-01`);
      const factor = limits.uniform(LIMIT_FACTOR[0], LIMIT_FACTOR[1]);
      // Nobody budgets a category they have not spent in (no car, no trip since January).
      if (history <= 0) continue;
      budgets++;
      // Whole euros, rounded up to tens, as people set them.
      const limitMinor = Math.ceil(((history / 3) * factor) / 1000) * 1000;
      for (let month = FIRST_MONTH; month < 12; month++) {
        const startsOn = new Date(Date.UTC(YEAR, month, 1));
        const endsOn = new Date(Date.UTC(YEAR, month + 1, 1));
        const length = (endsOn.getTime() - startsOn.getTime()) / DAY_MS;
        const actualMinor = total(dayText(startsOn), dayText(endsOn));
        const from = dayText(historyStart('MONTHLY', startsOn));
        for (const forecastDay of FORECAST_DAYS) {
          const today = new Date(Date.UTC(YEAR, month, forecastDay));
          const upTo = dayText(today);
          const known = days.filter((d) => d.day >= from && d.day <= upTo);
          const forecast = forecastBudget({ period: 'MONTHLY', startsOn, today, limitMinor, days: known });
          if (!forecast) throw new Error(`no forecast for ${person.id} ${category} ${upTo}`);
          const naiveMinor = Math.round((forecast.spentMinor / forecastDay) * length);
          cases.push({
            category,
            forecastDay,
            alreadyOver: forecast.spentMinor > limitMinor,
            method: { actualMinor, projectedMinor: forecast.projectedMinor, limitMinor },
            naive: { actualMinor, projectedMinor: naiveMinor, limitMinor },
          });
        }
      }
    }
  }
  return { people: people.length, budgets, cases };
}

/** Thousands with commas, without the runtime's locale data. */
const count = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const fixed = (value: number, digits: number) => (Number.isNaN(value) ? 'n/a' : value.toFixed(digits));

function row(label: string, cases: readonly Case[]): string[] {
  const method = cases.map((c) => c.method);
  const naive = cases.map((c) => c.naive);
  const m = exceedScores(method);
  const n = exceedScores(naive);
  let closer = 0;
  let further = 0;
  for (const c of cases) {
    const a = Math.abs(c.method.projectedMinor - c.method.actualMinor);
    const b = Math.abs(c.naive.projectedMinor - c.naive.actualMinor);
    if (a < b) closer++;
    else if (a > b) further++;
  }
  const exceeded = cases.filter((c) => c.method.actualMinor > c.method.limitMinor).length;
  return [
    label,
    String(cases.length),
    fixed((100 * exceeded) / cases.length, 1),
    fixed(meanAbsoluteError(method), 0),
    fixed(meanAbsoluteError(naive), 0),
    fixed(errorPercentOfActual(method), 1),
    fixed(errorPercentOfActual(naive), 1),
    `${fixed((100 * closer) / cases.length, 1)} / ${fixed((100 * further) / cases.length, 1)}`,
    `${fixed(m.precision, 3)} / ${fixed(m.recall, 3)}`,
    `${fixed(n.precision, 3)} / ${fixed(n.recall, 3)}`,
    `${fixed(m.f1, 3)} / ${fixed(n.f1, 3)}`,
  ];
}

const HEADER = [
  'forecast day',
  'cases',
  'exceeded %',
  'MAE method',
  'MAE naive',
  'error % method',
  'error % naive',
  'method closer / naive closer %',
  'P / R method',
  'P / R naive',
  'F1 method / naive',
];

function table(title: string, rows: string[][]): string {
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [`${title}\n`, line(HEADER), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line), ''].join('\n');
}

function byDay(cases: readonly Case[]): string[][] {
  return [
    ...FORECAST_DAYS.map((d) =>
      row(
        `${d}th`,
        cases.filter((c) => c.forecastDay === d),
      ),
    ),
    row('all', cases),
  ];
}

const { people, budgets, cases } = collect();
const open = cases.filter((c) => !c.alreadyOver);
// Without the three categories of fixed monthly payments, where the naive pace multiplies one payment
// by the month's length: what is left tests the blended daily rate alone.
const FIXED: readonly Category[] = ['Rent', 'Utilities', 'Subscriptions'];
const everyday = cases.filter((c) => !FIXED.includes(c.category));
const out = [
  `Budget forecast against the naive pace: seed ${SEED}, ${people} people, ${budgets} monthly budgets (person x category), ` +
    `months ${YEAR}-04 to ${YEAR}-12 (${count(budgets * (12 - FIRST_MONTH))} budget-months), forecast on the ${FORECAST_DAYS.join(', ')}th: ` +
    `${count(cases.length)} cases.`,
  'MAE in EUR cents; error % = total absolute error / total actual month-end spending; P / R: precision / recall of "will exceed the limit".',
  '',
  table('All cases', byDay(cases)),
  table(`Not yet over the limit on the forecast day (${count(open.length)} cases: the ones where the forecast decides)`, byDay(open)),
  table(`Everyday spending only, without ${FIXED.join(', ')} (${count(everyday.length)} cases)`, byDay(everyday)),
  table(
    'By category (all forecast days)',
    CATEGORIES.map((category) =>
      row(
        category,
        cases.filter((c) => c.category === category),
      ),
    ),
  ).replace('| forecast day', '| category    '),
];
process.stdout.write(`${out.join('\n')}\n`);
