import { seededRandom } from '@analytica/random';
import type { SpendingDay } from '../../../subgraphs/insight/src/forecasts/forecast.js';
import { formatDay } from '../../../subgraphs/insight/src/periods.js';

/**
 * A seeded synthetic ledger for evaluating budget forecasts: per person and category, the spending
 * of each day of a year, in EUR minor units. It follows the ML corpus (ml/pipeline/corpus.py: the
 * same categories, daily rates, medians, spreads, monthly fixed payments, weekend shifts and rare
 * large purchases), ported to TypeScript so that the evaluation needs no Python, and adds what a
 * forecast meets across months and the corpus (one stationary year per person) leaves out:
 * busier and quieter months, holidays, rent rises, subscriptions that start and stop, refunds.
 * Payees, times of day and anomalies are left out: a budget forecast reads day totals only.
 */

export const YEAR = 2025;
const DAY_MS = 86_400_000;

/** Seeded (@analytica/random): the same seed gives the same ledger on every machine. */
export class Rng {
  readonly random: () => number;
  constructor(seed: number) {
    this.random = seededRandom(seed);
  }
  uniform(a: number, b: number): number {
    return a + (b - a) * this.random();
  }
  integer(a: number, bExclusive: number): number {
    return a + Math.floor(this.random() * (bExclusive - a));
  }
  /** Box-Muller; one of the pair is thrown away so that every call draws the same number of values. */
  normal(mean: number, sd: number): number {
    const u = 1 - this.random();
    const v = this.random();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** Knuth's method: fine for the small daily rates used here. */
  poisson(lambda: number): number {
    const limit = Math.exp(-lambda);
    let k = 0;
    for (let p = this.random(); p > limit; p *= this.random()) k++;
    return k;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.integer(0, items.length)]!;
  }
}

/** Everyday spending as in the corpus: purchases per day, median EUR, log-normal spread. */
const VARIABLE = {
  Groceries: { rate: 0.33, median: 28, sigma: 0.6 },
  Restaurants: { rate: 0.28, median: 14, sigma: 0.55 },
  Transport: { rate: 0.25, median: 4.5, sigma: 0.7 },
  Fuel: { rate: 0.07, median: 62, sigma: 0.25 },
  Shopping: { rate: 0.11, median: 35, sigma: 0.9 },
  Health: { rate: 0.05, median: 18, sigma: 0.7 },
  Entertainment: { rate: 0.055, median: 22, sigma: 0.6 },
  Travel: { rate: 0.015, median: 140, sigma: 0.8 },
} as const;
type VariableCategory = keyof typeof VARIABLE;
export const CATEGORIES = [...(Object.keys(VARIABLE) as VariableCategory[]), 'Rent', 'Utilities', 'Subscriptions'] as const;
export type Category = (typeof CATEGORIES)[number];

/** The corpus's subscription prices, EUR. */
const SUBSCRIPTION_PRICES = [4.99, 7.99, 9.99, 12.99, 13.99, 17.99, 4.99];
/** Month-to-month spread of each category's pace (log-normal sigma): the corpus has none. */
const MONTH_SIGMA = 0.2;
const HOLIDAY_MONTH_CHANCE = 0.12;
const RENT_RISE_CHANCE = 0.25;
const SUBSCRIPTION_STOP_CHANCE = 0.03;
const SUBSCRIPTION_START_CHANCE = 0.05;
const REFUND_CHANCE = 0.05;

export interface Person {
  id: string;
  /** Per category, the net spending of each day with any, in date order. */
  days: Map<Category, SpendingDay[]>;
}

const money = (eur: number) => Math.max(1, Math.round(eur * 100));
const dayText = (n: number) => formatDay(new Date(n * DAY_MS));

function person(rng: Rng, index: number): Person {
  const income = Math.exp(rng.normal(0, 0.35));
  const car = rng.random() < 0.55;
  const median = (eur: number) => eur * income * Math.exp(rng.normal(0, 0.3));
  const medians = Object.fromEntries(Object.entries(VARIABLE).map(([name, c]) => [name, median(c.median)])) as Record<VariableCategory, number>;
  let rent = money(median(900));
  const rentDay = rng.integer(1, 4);
  // A rise of 2-6 % once in the year, for a quarter of the people: too large to be the same payment.
  const rentRiseMonth = rng.random() < RENT_RISE_CHANCE ? rng.integer(1, 12) : -1;
  const rentRise = rng.uniform(1.02, 1.06);
  // Telephone and internet contracts bill a fixed amount; metered energy moves (the corpus's 8 %).
  const utilities = Array.from({ length: rng.integer(1, 4) }, () => ({ day: rng.integer(1, 29), base: median(55), fixed: rng.random() < 0.5 }));
  const newSubscription = () => ({ day: rng.integer(1, 29), amount: money(rng.pick(SUBSCRIPTION_PRICES)), active: true });
  const subscriptions = Array.from({ length: rng.integer(1, 5) }, newSubscription);

  const totals = new Map<Category, Map<number, number>>(CATEGORIES.map((c) => [c, new Map()]));
  const add = (category: Category, n: number, minor: number) => {
    const days = totals.get(category)!;
    days.set(n, (days.get(n) ?? 0) + minor);
  };
  const first = Date.UTC(YEAR, 0, 1) / DAY_MS;
  const last = Date.UTC(YEAR + 1, 0, 1) / DAY_MS;
  for (let month = 0; month < 12; month++) {
    const pace = Object.fromEntries(Object.keys(VARIABLE).map((name) => [name, Math.exp(rng.normal(0, MONTH_SIGMA))])) as Record<VariableCategory, number>;
    if (rng.random() < HOLIDAY_MONTH_CHANCE) {
      pace.Travel *= 12;
      pace.Restaurants *= 1.4;
    }
    if (month === rentRiseMonth) rent = money((rent / 100) * rentRise);
    for (const s of subscriptions) if (s.active && rng.random() < SUBSCRIPTION_STOP_CHANCE) s.active = false;
    if (rng.random() < SUBSCRIPTION_START_CHANCE) subscriptions.push(newSubscription());
    const monthStart = Date.UTC(YEAR, month, 1) / DAY_MS;
    const monthEnd = Date.UTC(YEAR, month + 1, 1) / DAY_MS;
    for (let n = monthStart; n < monthEnd; n++) {
      const date = new Date(n * DAY_MS);
      const dayOfMonth = date.getUTCDate();
      const weekend = date.getUTCDay() === 0 || date.getUTCDay() === 6;
      if (dayOfMonth === rentDay) add('Rent', n, rent);
      for (const u of utilities) if (dayOfMonth === u.day) add('Utilities', n, money(u.fixed ? u.base : u.base * Math.exp(rng.normal(0, 0.08))));
      for (const s of subscriptions) if (s.active && dayOfMonth === s.day) add('Subscriptions', n, s.amount);
      for (const name of Object.keys(VARIABLE) as VariableCategory[]) {
        if (name === 'Fuel' && !car) continue;
        const shift = weekend ? (['Restaurants', 'Entertainment', 'Shopping'].includes(name) ? 1.4 : name === 'Transport' ? 0.6 : 1) : 1;
        const count = rng.poisson(VARIABLE[name].rate * pace[name] * shift);
        for (let i = 0; i < count; i++) {
          let eur = medians[name] * Math.exp(rng.normal(0, VARIABLE[name].sigma));
          if (name === 'Shopping' && rng.random() < 0.012) eur *= rng.uniform(5, 20); // a sofa, a laptop
          if (name === 'Fuel' && rng.random() < 0.2) eur = rng.uniform(2, 12); // a snack at the station
          add(name, n, money(eur));
          // Some purchases go back, refunded 3-20 days later: spending is net of refunds.
          if (name === 'Shopping' && rng.random() < REFUND_CHANCE) {
            const back = n + rng.integer(3, 21);
            if (back < last) add(name, back, -money(eur));
          }
        }
      }
    }
  }
  const days = new Map<Category, SpendingDay[]>();
  for (const [category, byDay] of totals) {
    const list = [...byDay.entries()]
      .filter(([n, minor]) => n >= first && minor !== 0)
      .sort((a, b) => a[0] - b[0])
      .map(([n, amountMinor]) => ({ day: dayText(n), amountMinor }));
    days.set(category, list);
  }
  return { id: `u${String(index).padStart(4, '0')}`, days };
}

/** `count` people's spending over the year, from one seed. */
export function generateLedger(seed: number, count: number): Person[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, i) => person(rng, i));
}
