import { badInput } from '@analytica/errors';

/**
 * IBAN length per country, from the SWIFT IBAN registry (ISO 13616). The mod-97 check catches
 * most typos on its own; the length catches a dropped or doubled digit before the bank does.
 */
// prettier-ignore
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28,
  IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20,
  LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28,
  NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24,
  SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26,
  UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

/** People type IBANs in groups of four, sometimes in lower case: compare and store them without that. */
export function normaliseIban(raw: string): string {
  return raw.replace(/[\s-]/g, '').toUpperCase();
}

/**
 * ISO 13616 / ISO 7064 MOD 97-10: move the country code and check digits to the end, read letters
 * as 10..35, and the whole number must leave 1 when divided by 97. Computed in chunks because
 * the number has up to 70 digits.
 */
export function ibanChecksumIsValid(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const value = Number.parseInt(char, 36);
    if (Number.isNaN(value)) return false;
    remainder = (remainder * (value > 9 ? 100 : 10) + value) % 97;
  }
  return remainder === 1;
}

/** What is wrong with a normalised IBAN, in words a person can act on; null when it is valid. */
export function ibanProblem(iban: string): string | null {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban)) {
    return 'An IBAN starts with a two-letter country code and two check digits, followed by letters and digits (e.g. DE89 3704 0044 0532 0130 00).';
  }
  const country = iban.slice(0, 2);
  const length = IBAN_LENGTHS[country];
  if (length === undefined) return `${country} is not a country that issues IBANs.`;
  if (iban.length !== length) return `An IBAN from ${country} has ${length} characters; this one has ${iban.length}.`;
  // 00, 01 and 99 pass mod-97 (they are 97, 98 and 2 in disguise) but are never issued.
  const check = iban.slice(2, 4);
  if (check === '00' || check === '01' || check === '99' || !ibanChecksumIsValid(iban)) {
    return 'The IBAN check digits do not match; check it for a typo.';
  }
  return null;
}

/** Returns the normalised IBAN, or a BAD_USER_INPUT naming `field`. */
export function assertIban(raw: string, field: string): string {
  const iban = normaliseIban(raw);
  const problem = ibanProblem(iban);
  if (problem) throw badInput(field, problem);
  return iban;
}

/** The only form of the account number that is stored in clear: enough to recognise it, not to use it. */
export function maskAccountNumber(normalised: string): string {
  return `•••• ${normalised.slice(-4)}`;
}
