import { describe, expect, it } from 'vitest';
import { accountFingerprint } from './bank-accounts.js';
import { normaliseIban } from './iban.js';

describe('bank account fingerprints', () => {
  const secret = 'a-test-secret-that-is-at-least-32-characters';

  it('fingerprints one account the same however its IBAN is typed', () => {
    const typed = ['DE89 3704 0044 0532 0130 00', 'de89370400440532013000', ' DE89-3704-0044-0532-0130-00 '];
    const prints = new Set(typed.map((iban) => accountFingerprint(secret, normaliseIban(iban))));
    expect(prints.size).toBe(1);
  });

  it('depends on the secret, so a leaked table cannot be matched against IBANs without it', () => {
    const iban = 'DE89370400440532013000';
    expect(accountFingerprint(secret, iban)).not.toBe(accountFingerprint(`${secret}-other`, iban));
    expect(accountFingerprint(secret, iban)).not.toContain('3000');
  });
});
