import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';

export interface Money {
  amountMinor: number;
  currency: string;
}

/** How many minor units a currency has (EUR 2, JPY 0, BHD 3), as the browser's ICU data knows. */
const minorDigits = (currency: string) => new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;

/** Money for people: the API's integer of minor units shown in the reader's locale. */
export function formatMoney(money: Money): string {
  return new Intl.NumberFormat(undefined, { style: 'currency', currency: money.currency }).format(money.amountMinor / 10 ** minorDigits(money.currency));
}

/**
 * "12.5" or "12,50" typed into an amount field, as minor units of the currency. Integer arithmetic on
 * the digits, never a float: 0.1 + 0.2 must not become 30.000000000000004 cents. Null when the text is
 * not an amount with at most the currency's digits after the separator.
 */
export function parseAmount(text: string, currency: string): number | null {
  const digits = minorDigits(currency);
  const match = /^\s*(\d{1,12})(?:[.,](\d*))?\s*$/.exec(text);
  if (!match || (match[2]?.length ?? 0) > digits) return null;
  return Number(match[1]) * 10 ** digits + Number((match[2] ?? '').padEnd(digits, '0') || 0);
}

export const formatPrice = (price: number, currency: string) => new Intl.NumberFormat(undefined, { style: 'currency', currency, maximumFractionDigits: 4 }).format(price);
export const formatTime = (iso: string) => new Date(iso).toLocaleTimeString();
export const formatDate = (iso: string) => new Date(iso).toLocaleDateString();

/**
 * What to tell the person when a request failed: the API's own message (written for them) and its
 * extensions.code, which the README's error table explains.
 */
export function describeError(error: unknown): string {
  if (!error) return '';
  let errors: readonly { message: string; extensions?: Record<string, unknown> }[] = [];
  if (CombinedGraphQLErrors.is(error)) errors = error.errors;
  else if (ServerError.is(error)) {
    try {
      errors = (JSON.parse(error.bodyText) as { errors?: typeof errors }).errors ?? [];
    } catch {
      errors = [];
    }
    if (errors.length === 0) return `The API answered ${error.statusCode}.`;
  } else if (error instanceof TypeError)
    return 'The API cannot be reached. Check your connection and try again.'; // fetch's "Failed to fetch"
  else return error instanceof Error ? error.message : String(error);
  return errors.map((e) => (e.extensions?.code ? `${e.message} (${String(e.extensions.code)})` : e.message)).join(' ');
}
