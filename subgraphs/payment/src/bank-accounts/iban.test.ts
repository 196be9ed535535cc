import { describe, expect, it } from 'vitest';
import { assertIban, ibanChecksumIsValid, ibanProblem, maskAccountNumber, normaliseIban } from './iban.js';

describe('IBAN (ISO 13616)', () => {
  it('accepts valid IBANs from several countries, in groups of four and in lower case', () => {
    for (const iban of [
      'DE89 3704 0044 0532 0130 00',
      'GB82 WEST 1234 5698 7654 32',
      'fr14 2004 1010 0505 0001 3m02 606',
      'NL91ABNA0417164300',
      'BE68-5390-0754-7034',
      'NO93 8601 1117 947',
      'MT84 MALT 0110 0001 2345 MTLC AST0 01S',
    ]) {
      expect(ibanProblem(normaliseIban(iban)), iban).toBeNull();
    }
  });

  it('computes the mod-97 remainder over the rearranged IBAN with letters as 10..35', () => {
    expect(ibanChecksumIsValid('DE89370400440532013000')).toBe(true);
    expect(ibanChecksumIsValid('GB82WEST12345698765432')).toBe(true);
    // One changed digit and two swapped digits both break the check.
    expect(ibanChecksumIsValid('DE89370400440532013001')).toBe(false);
    expect(ibanChecksumIsValid('DE89370400440532010300')).toBe(false);
  });

  it('refuses wrong check digits, including the never-issued 00, 01 and 99', () => {
    expect(ibanProblem('DE88370400440532013000')).toMatch(/check digits/);
    // 00 and 01 are 97 and 98 in disguise, 99 is 02: mod-97 alone would let them pass.
    expect(ibanProblem('GB00WEST12345698765432')).toMatch(/check digits/);
    expect(ibanProblem('GB01WEST12345698765432')).toMatch(/check digits/);
    expect(ibanProblem('GB99WEST12345698765432')).toMatch(/check digits/);
  });

  it('refuses a wrong length for the country, an unknown country and a malformed text', () => {
    expect(ibanProblem('DE8937040044053201300')).toBe('An IBAN from DE has 22 characters; this one has 21.');
    expect(ibanProblem('ZZ89370400440532013000')).toBe('ZZ is not a country that issues IBANs.');
    expect(ibanProblem('1234567890')).toMatch(/two-letter country code/);
    expect(ibanProblem('DE89 3704')).toMatch(/two-letter country code/);
  });

  it('answers a bad IBAN with BAD_USER_INPUT naming the field', () => {
    expect(() => assertIban('DE88 3704 0044 0532 0130 00', 'input.iban')).toThrow(/check digits/);
    try {
      assertIban('nonsense', 'input.iban');
      expect.unreachable();
    } catch (error) {
      expect((error as { extensions: unknown }).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.iban' });
    }
    expect(assertIban(' de89 3704 0044 0532 0130 00 ', 'input.iban')).toBe('DE89370400440532013000');
  });

  it('masks an account number to its last four characters', () => {
    expect(maskAccountNumber('DE89370400440532013000')).toBe('•••• 3000');
  });
});
