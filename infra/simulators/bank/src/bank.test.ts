import { describe, expect, it } from 'vitest';
import { createBank, ibanFor, KEY_RETENTION_MS, type PaymentOrder } from './bank.js';
import { seededRandom } from '@analytica/random';
import { createBehaviour } from './behaviour.js';

/** ISO 13616 check: a valid IBAN leaves 1 when read as a number modulo 97. */
function ibanIsValid(iban: string) {
  const digits = (iban.slice(4) + iban.slice(0, 4)).replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let remainder = 0;
  for (const d of digits) remainder = (remainder * 10 + Number(d)) % 97;
  return remainder === 1;
}

function bankWithCustomer(balanceMinor = 10_000) {
  const bank = createBank({ defaultBalanceMinor: 1_000_000 });
  const [current, closed] = bank.setCustomer('ada', 'Ada Lovelace', [
    { name: 'Current', currency: 'EUR', balanceMinor },
    { name: 'Closed', currency: 'EUR', balanceMinor: 50_000, status: 'CLOSED' },
  ]);
  const { consent } = bank.createConsent('ada', 'Sandbox Bank');
  const order = (amountMinor: number, accountId = current!.accountId): PaymentOrder => ({
    debtorAccountId: accountId,
    amount: { amountMinor, currency: 'EUR' },
    creditorName: 'Landlord Ltd',
    reference: 'Rent',
  });
  return { bank, consentId: consent.consentId, current: current!, closed: closed!, order };
}

describe('the simulated bank', () => {
  it('makes valid IBANs (the documented example DE89 3704 0044 0532 0130 00 included)', () => {
    expect(ibanFor('DE', '370400440532013000')).toBe('DE89370400440532013000');
    const { consent, accounts } = createBank({ defaultBalanceMinor: 100 }).createConsent('someone', 'Sandbox Bank');
    expect(consent.status).toBe('AUTHORISED');
    expect(accounts.length).toBeGreaterThanOrEqual(4);
    for (const account of accounts) expect(ibanIsValid(account.iban), account.iban).toBe(true);
  });

  it('gives a new customer the standard accounts once, and the same ones under a second consent', () => {
    const bank = createBank({ defaultBalanceMinor: 1_000_000 });
    const first = bank.createConsent('bob', 'Sandbox Bank');
    const second = bank.createConsent('bob', 'Sandbox Bank');
    expect(second.accounts.map((a) => a.accountId)).toEqual(first.accounts.map((a) => a.accountId));
    expect(first.accounts.map((a) => [a.name, a.currency, a.status])).toContainEqual(['Old current account', 'EUR', 'CLOSED']);
    expect(bank.balance(first.consent.consentId, first.accounts[0]!.accountId)).toEqual({ amountMinor: 1_000_000, currency: 'EUR' });
  });

  it('applies a payment once per idempotency key and answers a repeat with the first result', () => {
    const { bank, consentId, current, order } = bankWithCustomer();
    const first = bank.submitPayment('key-00000001', consentId, order(2_500));
    const again = bank.submitPayment('key-00000001', consentId, order(2_500));
    expect(first.result.status).toBe('EXECUTED');
    expect(first.replayed).toBe(false);
    expect(again).toEqual({ result: first.result, replayed: true });
    expect(bank.balance(consentId, current.accountId).amountMinor).toBe(7_500);
    expect(bank.bookings()).toHaveLength(1);
  });

  it('refuses the same key with a different order, and a missing key', () => {
    const { bank, consentId, order } = bankWithCustomer();
    bank.submitPayment('key-00000002', consentId, order(100));
    expect(() => bank.submitPayment('key-00000002', consentId, order(101))).toThrow(expect.objectContaining({ status: 409, code: 'IDEMPOTENCY_KEY_REUSED' }));
    expect(() => bank.submitPayment('', consentId, order(100))).toThrow(expect.objectContaining({ status: 400, code: 'IDEMPOTENCY_KEY_REQUIRED' }));
  });

  it('declines for insufficient funds and a closed account, keeps the decline under the key, and books nothing', () => {
    const { bank, consentId, closed, order } = bankWithCustomer(1_000);
    const poor = bank.submitPayment('key-poor-001', consentId, order(1_001));
    expect(poor.result).toMatchObject({ status: 'REJECTED', code: 'INSUFFICIENT_FUNDS' });
    const shut = bank.submitPayment('key-shut-001', consentId, order(10, closed.accountId));
    expect(shut.result).toMatchObject({ status: 'REJECTED', code: 'ACCOUNT_CLOSED' });
    expect(bank.submitPayment('key-poor-001', consentId, order(1_001))).toEqual({ result: poor.result, replayed: true });
    expect(bank.bookings()).toEqual([]);
    expect(bank.paymentByKey('key-shut-001')).toMatchObject({ status: 'REJECTED', code: 'ACCOUNT_CLOSED' });
    expect(bank.paymentByKey('key-never-sent')).toBeUndefined();
  });

  it('refuses payments and balances without a live consent covering the account', () => {
    const { bank, consentId, current, order } = bankWithCustomer();
    const other = bank.createConsent('eve', 'Sandbox Bank');
    expect(() => bank.submitPayment('key-eve-0001', other.consent.consentId, order(10))).toThrow(expect.objectContaining({ code: 'ACCOUNT_NOT_COVERED' }));
    bank.revokeConsent(consentId);
    expect(() => bank.balance(consentId, current.accountId)).toThrow(expect.objectContaining({ status: 403, code: 'CONSENT_INVALID' }));
    expect(bank.bookings()).toEqual([]);
  });

  it('forgets idempotency keys after 24 hours', () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const bank = createBank({ defaultBalanceMinor: 100_000, now: () => new Date(clock) });
    const { consent, accounts } = bank.createConsent('ada', 'Sandbox Bank');
    const order = { debtorAccountId: accounts[0]!.accountId, amount: { amountMinor: 10, currency: 'EUR' }, creditorName: 'X', reference: '' };
    bank.submitPayment('key-old-0001', consent.consentId, order);
    clock += KEY_RETENTION_MS + 1;
    expect(bank.submitPayment('key-new-0001', consent.consentId, order).replayed).toBe(false);
    expect(bank.paymentByKey('key-old-0001')).toBeUndefined();
  });
});

describe('the simulated behaviour', () => {
  const settings = { latencyMedianMs: 40, latencyP99Ms: 400, failureRate: 0.3, failureKinds: ['unavailable', 'error-after-apply', 'timeout'] as const, hangMs: 1000 };

  it('draws latencies with the configured median and 99th percentile', () => {
    const behaviour = createBehaviour({ ...settings, failureKinds: [...settings.failureKinds] }, seededRandom(42));
    const samples = Array.from({ length: 20_000 }, () => behaviour.latencyMs()).sort((a, b) => a - b);
    const median = samples[samples.length / 2]!;
    const p99 = samples[Math.floor(samples.length * 0.99)]!;
    expect(median).toBeGreaterThan(36);
    expect(median).toBeLessThan(44);
    expect(p99).toBeGreaterThan(340);
    expect(p99).toBeLessThan(470);
    expect(samples.at(-1)!).toBeLessThanOrEqual(4000);
  });

  it('fails the configured share of calls, spread over the configured kinds, and repeats from a seed', () => {
    const run = () => {
      const behaviour = createBehaviour({ ...settings, failureKinds: [...settings.failureKinds] }, seededRandom(7));
      return Array.from({ length: 10_000 }, () => behaviour.failure());
    };
    const failures = run();
    expect(run()).toEqual(failures);
    const failed = failures.filter((f) => f !== null);
    expect(failed.length / failures.length).toBeGreaterThan(0.28);
    expect(failed.length / failures.length).toBeLessThan(0.32);
    for (const kind of settings.failureKinds) expect(failed.filter((f) => f === kind).length).toBeGreaterThan(failed.length / 4);
  });

  it('never fails at rate 0, and keeps the 99th percentile at least the median', () => {
    const behaviour = createBehaviour({ ...settings, failureKinds: [...settings.failureKinds], failureRate: 0, latencyP99Ms: 1 });
    expect(behaviour.settings.latencyP99Ms).toBe(40);
    expect(Array.from({ length: 1000 }, () => behaviour.failure()).every((f) => f === null)).toBe(true);
  });
});

describe("the bank's books across a restart", () => {
  it('keeps customers, consents, idempotency keys and bookings in a snapshot', () => {
    const { bank, consentId, order } = bankWithCustomer();
    const first = bank.submitPayment('key-keep-0001', consentId, order(100));
    const restarted = createBank({ defaultBalanceMinor: 1, snapshot: JSON.parse(JSON.stringify(bank.snapshot())) });
    expect(restarted.submitPayment('key-keep-0001', consentId, order(100))).toEqual({ result: first.result, replayed: true });
    expect(restarted.consentAccounts(consentId)[0]?.balanceMinor).toBe(9_900);
    expect(restarted.bookings()).toHaveLength(1);
  });
});
