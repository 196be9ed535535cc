import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBankEnv, startBankSimulator } from './index.js';

let simulator: Awaited<ReturnType<typeof startBankSimulator>>;
let api: string;

beforeAll(async () => {
  simulator = await startBankSimulator(
    parseBankEnv({ PORT: '0', LOG_LEVEL: 'silent', BANK_LATENCY_MEDIAN_MS: '5', BANK_LATENCY_P99_MS: '20', BANK_HANG_MS: '60000', BANK_RANDOM_SEED: '1' }),
  );
  api = `${simulator.url}/v1`;
});

afterAll(async () => {
  await simulator?.stop();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${path.startsWith('/sandbox') ? simulator.url : api}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

async function linkedCustomer() {
  const customerId = randomUUID();
  const consent = await call('POST', '/consents', { customerId, bankName: 'Sandbox Bank' });
  const current = consent.body.accounts.find((a: { name: string }) => a.name === 'Current account');
  return { customerId, consentId: consent.body.consentId as string, accountId: current.accountId as string, consent };
}

const pay = (consentId: string, key: string, debtorAccountId: string, amountMinor: number) =>
  call(
    'POST',
    '/payments',
    { debtorAccountId, amount: { amountMinor, currency: 'EUR' }, creditorName: 'Landlord Ltd', reference: 'Rent' },
    { 'idempotency-key': key, 'consent-id': consentId },
  );

describe('the bank simulator over HTTP', () => {
  it("links by consent, answering the customer's accounts, and serves their balances under the consent", async () => {
    const { consentId, accountId, consent } = await linkedCustomer();
    expect(consent.status).toBe(201);
    expect(consent.body).toMatchObject({ status: 'AUTHORISED', bankName: 'Sandbox Bank' });
    expect(consent.body.accounts[0]).toEqual({
      accountId,
      iban: expect.stringMatching(/^DE\d{20}$/),
      name: 'Current account',
      holderName: 'Sandbox Customer',
      currency: 'EUR',
      status: 'OPEN',
    });
    const listed = await call('GET', `/consents/${consentId}/accounts`);
    expect(listed.body.accounts).toEqual(consent.body.accounts);
    const balance = await call('GET', `/accounts/${accountId}/balances`, undefined, { 'consent-id': consentId });
    expect(balance.body.balances).toEqual([{ type: 'available', amount: { amountMinor: 1_000_000, currency: 'EUR' } }]);
    expect((await call('GET', `/accounts/${accountId}/balances`, undefined, { 'consent-id': randomUUID() })).status).toBe(403);
  });

  it('executes a payment once per key: a repeat answers 200 with the same payment and books nothing more', async () => {
    const { consentId, accountId, customerId } = await linkedCustomer();
    const key = randomUUID();
    const first = await pay(consentId, key, accountId, 12_345);
    const again = await pay(consentId, key, accountId, 12_345);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.paymentId).toBe(first.body.paymentId);
    expect((await call('GET', `/payments/by-idempotency-key/${key}`)).body).toEqual(first.body);
    const { body } = await call('GET', `/sandbox/bookings?customerId=${customerId}`);
    expect(body.bookings).toEqual([expect.objectContaining({ idempotencyKey: key, amountMinor: -12_345, currency: 'EUR' })]);
    expect((await pay(consentId, key, accountId, 99)).status).toBe(409);
  });

  it('declines with 422 and a code: insufficient funds, closed account; an unknown key is 404', async () => {
    const customerId = randomUUID();
    const { body: set } = await call('PUT', `/sandbox/customers/${customerId}`, {
      name: 'Ada',
      accounts: [
        { name: 'Thin', currency: 'EUR', balanceMinor: 100 },
        { name: 'Shut', currency: 'EUR', balanceMinor: 100, status: 'CLOSED' },
      ],
    });
    const { body: consent } = await call('POST', '/consents', { customerId });
    const [thin, shut] = set.accounts;
    expect((await pay(consent.consentId, randomUUID(), thin.accountId, 101)).body).toMatchObject({ status: 'REJECTED', code: 'INSUFFICIENT_FUNDS' });
    const closed = await pay(consent.consentId, randomUUID(), shut.accountId, 1);
    expect(closed.status).toBe(422);
    expect(closed.body).toMatchObject({ status: 'REJECTED', code: 'ACCOUNT_CLOSED' });
    expect((await call('GET', `/payments/by-idempotency-key/${randomUUID()}`)).status).toBe(404);
  });

  it('injects the configured transient failures: 503 without booking, 500 after booking, and a held answer', async () => {
    const { consentId, accountId, customerId } = await linkedCustomer();
    try {
      await call('PUT', '/sandbox/behaviour', { failureRate: 1, failureKinds: ['unavailable'] });
      const unavailable = await pay(consentId, randomUUID(), accountId, 1);
      expect(unavailable.status).toBe(503);

      await call('PUT', '/sandbox/behaviour', { failureKinds: ['error-after-apply'] });
      const key = randomUUID();
      expect((await pay(consentId, key, accountId, 2)).status).toBe(500);

      await call('PUT', '/sandbox/behaviour', { failureKinds: ['timeout'] });
      const held = await fetch(`${api}/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID(), 'consent-id': consentId },
        body: JSON.stringify({ debtorAccountId: accountId, amount: { amountMinor: 3, currency: 'EUR' }, creditorName: 'X', reference: '' }),
        signal: AbortSignal.timeout(300),
      }).then(
        () => 'answered',
        (error: Error) => error.name,
      );
      expect(held).toBe('TimeoutError');

      await call('PUT', '/sandbox/behaviour', { failureRate: 0 });
      // The 500 came after the booking: asking again with the key gives the executed payment.
      expect((await pay(consentId, key, accountId, 2)).status).toBe(200);
      const { body } = await call('GET', `/sandbox/bookings?customerId=${customerId}`);
      expect(body.bookings.map((b: { amountMinor: number }) => b.amountMinor).sort((x: number, y: number) => x - y)).toEqual([-3, -2]);
      const stats = await call('GET', '/sandbox/stats');
      expect(stats.body.injectedFailures).toMatchObject({ unavailable: 1, 'error-after-apply': 1, timeout: 1 });
    } finally {
      await call('PUT', '/sandbox/behaviour', { failureRate: 0, failureKinds: ['unavailable', 'error-after-apply', 'timeout'] });
    }
  });

  it('answers /health, /ready and /metrics', async () => {
    expect((await fetch(`${simulator.url}/health`)).status).toBe(200);
    expect((await fetch(`${simulator.url}/ready`)).status).toBe(200);
    expect(await (await fetch(`${simulator.metricsUrl}/metrics`)).text()).toContain('service="bank-simulator"');
  });
});

describe('bank simulator configuration', () => {
  it('names a bad failure kind or rate', () => {
    expect(() => parseBankEnv({ BANK_FAILURE_KINDS: 'unavailable,meteor' })).toThrow(/BANK_FAILURE_KINDS/);
    expect(() => parseBankEnv({ BANK_FAILURE_RATE: '1.5' })).toThrow(/BANK_FAILURE_RATE/);
    expect(parseBankEnv({ BANK_FAILURE_KINDS: 'timeout' }).BANK_FAILURE_KINDS).toEqual(['timeout']);
  });
});

describe('bank simulator with a state file', () => {
  it('answers a repeated payment after a restart as it did before', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bank-state-'));
    const env = parseBankEnv({ PORT: '0', LOG_LEVEL: 'silent', BANK_LATENCY_MEDIAN_MS: '0', BANK_STATE_FILE: path.join(dir, 'bank.json') });
    try {
      const before = await startBankSimulator(env);
      const consent = (await (
        await fetch(`${before.url}/v1/consents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customerId: 'ada' }) })
      ).json()) as {
        consentId: string;
        accounts: { accountId: string }[];
      };
      const order = { debtorAccountId: consent.accounts[0]!.accountId, amount: { amountMinor: 700, currency: 'EUR' }, creditorName: 'X', reference: '' };
      const send = (url: string) =>
        fetch(`${url}/v1/payments`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': 'restart-key-1', 'consent-id': consent.consentId },
          body: JSON.stringify(order),
        });
      const first = await send(before.url);
      expect(first.status).toBe(201);
      await before.stop();
      const after = await startBankSimulator(env);
      try {
        const again = await send(after.url);
        expect(again.status).toBe(200);
        const [a, b] = (await Promise.all([again.json(), first.json()])) as { paymentId: string }[];
        expect(a!.paymentId).toBe(b!.paymentId);
      } finally {
        await after.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
