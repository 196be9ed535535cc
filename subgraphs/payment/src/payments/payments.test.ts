import { describe, expect, it } from 'vitest';
import { PAYMENT_STATUSES } from '@analytica/events';
import { IN_FLIGHT_STATUSES, NEXT_STATUSES } from './payment.entity.js';
import { assertIdempotencyKey, requestFingerprint, type PaymentRequest } from './risk.js';

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

  it('counts a payment in flight, holding on to its bank account, until it reaches a final state', () => {
    expect(IN_FLIGHT_STATUSES).toEqual(['REQUIRES_ACTION', 'QUEUED', 'PROCESSING']);
  });
});
