import { badInput } from '@analytica/errors';

/**
 * ISO 4217 currencies and their minor-unit digits. Amounts are always integers of minor units
 * (cents, pence, yen), never floats: 12.34 EUR is 1234, 500 JPY is 500.
 */
export const CURRENCY_DIGITS: Readonly<Record<string, number>> = {
  AED: 2,
  ARS: 2,
  AUD: 2,
  BGN: 2,
  BHD: 3,
  BRL: 2,
  CAD: 2,
  CHF: 2,
  CLP: 0,
  CNY: 2,
  COP: 2,
  CZK: 2,
  DKK: 2,
  EGP: 2,
  EUR: 2,
  GBP: 2,
  HKD: 2,
  HUF: 2,
  IDR: 2,
  ILS: 2,
  INR: 2,
  ISK: 0,
  JOD: 3,
  JPY: 0,
  KRW: 0,
  KWD: 3,
  MAD: 2,
  MXN: 2,
  MYR: 2,
  NGN: 2,
  NOK: 2,
  NZD: 2,
  OMR: 3,
  PEN: 2,
  PHP: 2,
  PKR: 2,
  PLN: 2,
  QAR: 2,
  RON: 2,
  RSD: 2,
  SAR: 2,
  SEK: 2,
  SGD: 2,
  THB: 2,
  TND: 3,
  TRY: 2,
  TWD: 2,
  UAH: 2,
  USD: 2,
  VND: 0,
  ZAR: 2,
};

export function isCurrency(code: string): boolean {
  return Object.hasOwn(CURRENCY_DIGITS, code);
}

/** Returns the code if it is a supported ISO 4217 currency, else a BAD_USER_INPUT naming `field`. */
export function assertCurrency(code: string, field: string): string {
  if (!isCurrency(code)) throw badInput(field, `"${code}" is not a supported ISO 4217 currency code (for example EUR, USD, JPY).`);
  return code;
}

export function assertMinorUnits(amount: number, field: string, options: { positive?: boolean } = {}): number {
  if (!Number.isSafeInteger(amount)) throw badInput(field, 'Give the amount as a whole number of minor units (cents), e.g. 1234 for 12.34.');
  if (options.positive && amount <= 0) throw badInput(field, 'The amount must be greater than zero.');
  return amount;
}

/**
 * Parses a decimal text such as "-1,234.50" into minor units of `currency`, refusing more
 * decimals than the currency has. Used for imports and human input, never for arithmetic.
 */
export function parseDecimal(text: string, currency: string, field: string): number {
  const digits = CURRENCY_DIGITS[assertCurrency(currency, field)] ?? 2;
  const cleaned = text.trim().replace(/[\s,']/g, '');
  const match = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(cleaned);
  if (!match) throw badInput(field, `"${text}" is not an amount; write it like 1234.56.`);
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > digits) throw badInput(field, `${currency} has ${digits} decimal places; "${text}" has ${fraction.length}.`);
  const minor = Number(`${whole}${fraction.padEnd(digits, '0')}`);
  if (!Number.isSafeInteger(minor)) throw badInput(field, `"${text}" is too large.`);
  return sign === '-' ? -minor : minor;
}

/** "12.34" for (1234, EUR); for display and exports only. */
export function formatMinorUnits(amount: number, currency: string): string {
  const digits = CURRENCY_DIGITS[currency] ?? 2;
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(amount)
    .toString()
    .padStart(digits + 1, '0');
  return digits === 0 ? `${sign}${abs}` : `${sign}${abs.slice(0, -digits)}.${abs.slice(-digits)}`;
}
