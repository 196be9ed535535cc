import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { AppError, ErrorCode, badInput } from '@analytica/errors';
import { CURRENCY_DIGITS, isCurrency } from '@analytica/money';
import type { EntityManager } from '@analytica/postgres';
import { parseDay } from '../days.js';

/**
 * Exchange rates are reference data shared by every user: one row per day and currency pair,
 * "1 base = rate quote" (as the ECB publishes them: base EUR). Conversions are exact: a rate is a
 * decimal read into a fraction of integers, and an amount is rounded once, half away from zero.
 */
export interface ExchangeRate {
  day: string;
  base: string;
  quote: string;
  /** Decimal text, e.g. "1.0842". */
  rate: string;
}

interface Fraction {
  num: bigint;
  den: bigint;
}

const RATE_TEXT = /^(\d{1,12})(?:\.(\d{1,12}))?$/;

export function rateFraction(text: string): Fraction | null {
  const match = RATE_TEXT.exec(text.trim());
  if (!match) return null;
  const [, whole, fraction = ''] = match;
  const num = BigInt(`${whole}${fraction}`);
  if (num === 0n) return null;
  return { num, den: 10n ** BigInt(fraction.length) };
}

/** Thrown when no rate at all connects two currencies; callers decide which input to name. */
export class MissingRateError extends AppError {
  constructor(
    readonly from: string,
    readonly to: string,
    field: string,
  ) {
    super(ErrorCode.BAD_USER_INPUT, `No exchange rate between ${from} and ${to} is loaded, so ${from} amounts cannot be counted in ${to}; load rates with loadExchangeRates.`, {
      field,
    });
  }
}

/**
 * The rates a conversion needs, in memory. The rate of a day is the one published that day or,
 * on days without one (weekends, holidays, after the last load), the latest before it; a day
 * before the first published rate takes the first one.
 */
export class RateTable {
  private readonly pairs = new Map<string, { day: string; rate: Fraction }[]>();

  constructor(rates: Iterable<ExchangeRate>) {
    for (const r of rates) {
      const rate = rateFraction(r.rate);
      if (!rate) continue;
      const key = `${r.base}/${r.quote}`;
      const list = this.pairs.get(key) ?? [];
      list.push({ day: r.day, rate });
      this.pairs.set(key, list);
    }
    for (const list of this.pairs.values()) list.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  }

  private direct(base: string, quote: string, day: string): Fraction | undefined {
    const list = this.pairs.get(`${base}/${quote}`);
    if (!list?.length) return undefined;
    let lo = 0;
    let hi = list.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.day <= day) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return list[found === -1 ? 0 : found]!.rate;
  }

  /** How many `to` one `from` buys on `day`: directly, inverted, or through one common currency. */
  private ratio(from: string, to: string, day: string): Fraction | undefined {
    const one = (a: string, b: string): Fraction | undefined => {
      const d = this.direct(a, b, day);
      if (d) return d;
      const inverse = this.direct(b, a, day);
      return inverse && { num: inverse.den, den: inverse.num };
    };
    const straight = one(from, to);
    if (straight) return straight;
    const currencies = new Set([...this.pairs.keys()].flatMap((k) => k.split('/')));
    for (const pivot of currencies) {
      if (pivot === from || pivot === to) continue;
      const a = one(from, pivot);
      const b = a && one(pivot, to);
      if (a && b) return { num: a.num * b.num, den: a.den * b.den };
    }
    return undefined;
  }

  /** `amount` minor units of `from`, booked on `day` (YYYY-MM-DD), in minor units of `to`. */
  convert(amount: number, from: string, to: string, day: string, field = 'currency'): number {
    if (from === to || amount === 0) return amount;
    const ratio = this.ratio(from, to, day);
    if (!ratio) throw new MissingRateError(from, to, field);
    const shift = (CURRENCY_DIGITS[to] ?? 2) - (CURRENCY_DIGITS[from] ?? 2);
    const num = BigInt(amount) * ratio.num * 10n ** BigInt(Math.max(0, shift));
    const den = ratio.den * 10n ** BigInt(Math.max(0, -shift));
    return toSafeNumber(divideRounded(num, den), from, to, field);
  }

  canConvert(from: string, to: string): boolean {
    return from === to || this.ratio(from, to, '9999-12-31') !== undefined;
  }
}

/** num / den rounded half away from zero (den > 0). */
export function divideRounded(num: bigint, den: bigint): bigint {
  const quotient = num / den;
  const remainder = num % den;
  const twice = (remainder < 0n ? -remainder : remainder) * 2n;
  if (twice >= den) return quotient + (num < 0n ? -1n : 1n);
  return quotient;
}

/** A converted amount beyond the exact range is the caller's to narrow (BAD_USER_INPUT), not an internal error. */
function toSafeNumber(value: bigint, from: string, to: string, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw badInput(field, `An amount in ${from} converts to ${value} minor units of ${to}, beyond the exact range (${Number.MAX_SAFE_INTEGER}); it cannot be counted in ${to}.`);
  }
  return Number(value);
}

/**
 * Reads a rate file: a header `date,base,quote,rate` and one row per day and pair. Any bad row
 * refuses the whole file, naming the row (1 is the first line after the header).
 */
export function parseRatesCsv(text: string, field = 'csv'): ExchangeRate[] {
  let records: string[][];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: true }) as string[][];
  } catch (error) {
    throw badInput(field, `The rate file is not readable CSV: ${(error as Error).message}`);
  }
  const [header, ...rows] = records;
  if (!header || header.map((h) => h.toLowerCase()).join(',') !== 'date,base,quote,rate') {
    throw badInput(field, 'The first line must be the header "date,base,quote,rate".');
  }
  if (rows.length === 0) throw badInput(field, 'The file has no rates.');
  return rows.map((row, i) => {
    const at = (what: string) => new AppError(ErrorCode.BAD_USER_INPUT, `Row ${i + 1}: ${what}`, { field, row: i + 1 });
    if (row.length !== 4) throw at(`expected 4 values (date,base,quote,rate), found ${row.length}.`);
    const [date, base, quote, rate] = row as [string, string, string, string];
    try {
      parseDay(date, field);
    } catch {
      throw at(`"${date}" is not a calendar date (YYYY-MM-DD).`);
    }
    for (const code of [base, quote]) if (!isCurrency(code)) throw at(`"${code}" is not a supported ISO 4217 currency.`);
    if (base === quote) throw at('base and quote must differ.');
    if (!rateFraction(rate)) throw at(`"${rate}" is not a positive decimal rate with at most 12 decimals.`);
    return { day: date, base, quote, rate };
  });
}

/** Adds or replaces rates, all in one statement (one transaction): a file loads entirely or not at all. */
export async function saveExchangeRates(em: EntityManager, rates: ExchangeRate[]): Promise<number> {
  const seen = new Set<string>();
  for (const [i, r] of rates.entries()) {
    const key = `${r.base}/${r.quote}/${r.day}`;
    if (seen.has(key)) throw new AppError(ErrorCode.BAD_USER_INPUT, `Row ${i + 1}: ${r.base}/${r.quote} on ${r.day} appears twice.`, { field: 'csv', row: i + 1 });
    seen.add(key);
  }
  await em.getConnection().execute(
    `insert into exchange_rates (day, base, quote, rate)
     select day, base, quote, rate from json_to_recordset(?::json) as x(day date, base text, quote text, rate numeric)
     on conflict (base, quote, day) do update set rate = excluded.rate`,
    [JSON.stringify(rates)],
    'run',
    em.getTransactionContext(),
  );
  return rates.length;
}

export async function loadExchangeRateFile(em: EntityManager, path: string): Promise<number> {
  const rates = parseRatesCsv(await readFile(path, 'utf8'), path);
  return em.transactional((tx) => saveExchangeRates(tx, rates));
}

/**
 * The rates that converting between `currencies` from `from` to `to` (YYYY-MM-DD) can need: every
 * rate in the window, plus, per pair, the last one before it and the first one ever (in case the
 * window starts before the table). One statement.
 */
export async function loadRateTable(em: EntityManager, currencies: Iterable<string>, from: string, to: string): Promise<RateTable> {
  const codes = [...new Set(currencies)].filter(isCurrency);
  if (codes.length < 2) return new RateTable([]);
  const list = codes.map(() => '?').join(', ');
  const involving = `(base in (${list}) or quote in (${list}))`;
  const rows: ExchangeRate[] = await em.getConnection().execute(
    `(select base, quote, day::text as day, rate::text as rate from exchange_rates where ${involving} and day between ? and ?)
     union
     (select distinct on (base, quote) base, quote, day::text, rate::text from exchange_rates where ${involving} and day < ? order by base, quote, day desc)
     union
     (select distinct on (base, quote) base, quote, day::text, rate::text from exchange_rates where ${involving} order by base, quote, day asc)`,
    [...codes, ...codes, from, to, ...codes, ...codes, from, ...codes, ...codes],
    'all',
    em.getTransactionContext(),
  );
  return new RateTable(rows.map((r) => ({ ...r, base: r.base.trim(), quote: r.quote.trim() })));
}
