import { describe, expect, it } from 'vitest';
import { accountFingerprint } from './bank-accounts.js';
import { normaliseIban } from './iban.js';
import { assertIdempotencyKey, NEXT_STATUSES, PAYMENT_STATUSES, requestFingerprint, type PaymentRequest } from './payments.js';

const request: PaymentRequest = {
  bankAccountId: '5b1f3a52-8f4e-4a77-9a55-5d7f2c7b9b0e',
  amountMinor: 1250,
  currency: 'EUR',
  payeeName: 'Landlord Ltd',
  reference: 'Rent March',
};

describe('payment requests', () => {
  it('gives the same request the same fingerprint and any changed parameter another one', () => {
    expect(requestFingerprint({ ...request })).toBe(requestFingerprint(request));
    expect(requestFingerprint(request)).toMatch(/^[0-9a-f]{64}$/);
    for (const change of [{ amountMinor: 1251 }, { currency: 'USD' }, { payeeName: 'Landlord' }, { reference: 'Rent April' }, { bankAccountId: 'x' }]) {
      expect(requestFingerprint({ ...request, ...change }), JSON.stringify(change)).not.toBe(requestFingerprint(request));
    }
    // Field boundaries count: moving text from one field to the next is another request.
    expect(requestFingerprint({ ...request, payeeName: 'A', reference: 'BC' })).not.toBe(requestFingerprint({ ...request, payeeName: 'AB', reference: 'C' }));
  });

  it('accepts idempotency keys of 8 to 100 letters, digits, "-" and "_", and names the argument otherwise', () => {
    expect(assertIdempotencyKey('abcd-EF_12')).toBe('abcd-EF_12');
    expect(assertIdempotencyKey('a'.repeat(100))).toHaveLength(100);
    for (const bad of ['short', 'a'.repeat(101), 'has space1', 'semi;colon', 'ümlaut123']) {
      try {
        assertIdempotencyKey(bad);
        expect.unreachable(bad);
      } catch (error) {
        expect((error as { extensions: unknown }).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
      }
    }
  });

  it('lets a payment leave only the non-final states, and CANCELED be reached only before the bank has it', () => {
    expect(NEXT_STATUSES.SUCCEEDED).toEqual([]);
    expect(NEXT_STATUSES.FAILED).toEqual([]);
    expect(NEXT_STATUSES.CANCELED).toEqual([]);
    expect(NEXT_STATUSES.PROCESSING).not.toContain('CANCELED');
    expect(NEXT_STATUSES.QUEUED).toContain('CANCELED');
    for (const targets of Object.values(NEXT_STATUSES)) for (const target of targets) expect(PAYMENT_STATUSES).toContain(target);
  });
});

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
