import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBankEnv, startBankSimulator } from '@analytica/bank-simulator';
import { createKafkaBus, deadLetterTopic, encodeEvent, HEADER, type EventBus, type ReceivedMessage } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { parsePaymentEnv, startPaymentService } from '@analytica/payment-subgraph';
import { createRedis } from '@analytica/redis';
import { createTestAuth, dropSchema, eventually, gql, services, uniqueName, type TestAuth } from '@analytica/testing';
import { parsePaymentsWorkerEnv, processPayment, startPaymentsWorker } from './index.js';

const schema = uniqueName('payments_worker_test');
const prefix = `${uniqueName('t')}.`;
const redisPrefix = `${uniqueName('pw')}:`;
const logger = createLogger('test', 'silent');
let auth: TestAuth;
let bank: Awaited<ReturnType<typeof startBankSimulator>>;
let service: Awaited<ReturnType<typeof startPaymentService>>;
let worker: Awaited<ReturnType<typeof startPaymentsWorker>>;
let bus: EventBus;
let url: string;
const deadLetters: ReceivedMessage[] = [];
let dlqConsumer: { stop(): Promise<void> };

beforeAll(async () => {
  auth = await createTestAuth();
  bank = await startBankSimulator(parseBankEnv({ PORT: '0', LOG_LEVEL: 'silent', BANK_LATENCY_MEDIAN_MS: '2', BANK_LATENCY_P99_MS: '10', BANK_HANG_MS: '1500' }));
  const shared = {
    LOG_LEVEL: 'silent',
    PORT: '0',
    DATABASE_URL: services.databaseUrl,
    DATABASE_SCHEMA: schema,
    KAFKA_BROKERS: services.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: prefix,
    REDIS_URL: services.redisUrl,
    REDIS_KEY_PREFIX: redisPrefix,
    BANK_API_URL: bank.url,
    BANK_TIMEOUT_MS: '400',
  };
  service = await startPaymentService(
    parsePaymentEnv({ ...auth.env, ...shared, BANK_FINGERPRINT_SECRET: 'test-fingerprint-secret-0123456789abcdef', PAYMENT_VELOCITY_MAX: '100' }),
  );
  url = `${service.url}/graphql`;
  worker = await startPaymentsWorker(parsePaymentsWorkerEnv({ ...shared, PAYMENT_RETRY_DELAYS_MS: '50,100,200', RECONCILE_INTERVAL_MS: '200', RECONCILE_AFTER_MS: '2500' }));
  bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'payments-worker-test', prefix, logger });
  dlqConsumer = await bus.consume({ groupId: 'dlq-watch', topics: [deadLetterTopic('payments.requested.v1')], handle: async (m) => void deadLetters.push(m) });
});

afterAll(async () => {
  await dlqConsumer?.stop();
  await bus?.close();
  await worker?.stop();
  await service?.stop();
  await bank?.stop();
  await auth?.close();
  await dropSchema(schema);
});

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return service.db.orm.em.getConnection().execute(query, params, 'all');
}

async function sandbox(method: string, path: string, body?: unknown) {
  const response = await fetch(`${bank.url}/sandbox${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return response.json() as Promise<any>;
}

async function behave(settings: Record<string, unknown>) {
  await sandbox('PUT', '/behaviour', settings);
}

/** A user with a verified bank account (the bank's "Current account" unless another is named). */
async function payer(accountName = 'Current account') {
  const user = { id: randomUUID() };
  const token = auth.tokenFor(user);
  const connected = await gql(url, `mutation { connectBank(input: { bankName: "Sandbox Bank" }) { id accounts { accountId name } } }`, { token });
  const offer = connected.data.connectBank.accounts.find((a: { name: string }) => a.name === accountName);
  const linked = await gql(url, `mutation($input: LinkBankAccountInput!) { linkBankAccount(input: $input) { id } }`, {
    token,
    variables: { input: { connectionId: connected.data.connectBank.id, accountId: offer.accountId } },
  });
  const id = linked.data.linkBankAccount.id as string;
  const [email] = await sql<{ value: string }>(`select value from outbox where topic = 'notifications.email.v1' and value like ?`, [`%${id}%`]);
  await gql(url, `mutation($id: ID!, $code: String!) { verifyBankAccount(id: $id, code: $code) { status } }`, {
    token,
    variables: { id, code: JSON.parse(email!.value).data.code },
  });
  return { user, token, accountId: id, providerAccountId: offer.accountId as string };
}

async function pay(who: { token: string; accountId: string }, amountMinor: number, payeeName = 'Corner Shop') {
  const result = await gql(url, `mutation($input: InitiatePaymentInput!, $key: String!) { initiatePayment(input: $input, idempotencyKey: $key) { id status } }`, {
    token: who.token,
    variables: { input: { bankAccountId: who.accountId, amount: { amountMinor, currency: 'EUR' }, payeeName, reference: 'Test' }, key: randomUUID() },
  });
  expect(result.errors).toBeUndefined();
  return result.data.initiatePayment.id as string;
}

async function finalStatus(id: string, timeoutMs = 20_000) {
  return eventually(async () => {
    const [row] = await sql<{ status: string; failure_reason: string | null; provider_reference: string | null }>(
      'select status, failure_reason, provider_reference from payments where id = ?',
      [id],
    );
    return row && ['SUCCEEDED', 'FAILED', 'CANCELED'].includes(row.status) ? row : undefined;
  }, timeoutMs);
}

async function history(id: string) {
  return (await sql<{ status: string }>('select status from payment_status_history where payment_id = ? order by id', [id])).map((r) => r.status);
}

async function bookingsOf(key: string) {
  const { bookings } = await sandbox('GET', '/bookings');
  return (bookings as { idempotencyKey: string; amountMinor: number }[]).filter((b) => b.idempotencyKey === key);
}

describe('the payments worker', () => {
  it('takes a queued payment through PROCESSING to SUCCEEDED with one bank booking, a ledger debit, events and live updates', async () => {
    const ada = await payer();
    const subscriber = createRedis(services.redisUrl);
    const live: { status: string }[] = [];
    await subscriber.psubscribe(`${redisPrefix}Payment.*`);
    subscriber.on('pmessage', (_p: string, _c: string, m: string) => void live.push(JSON.parse(m)));
    try {
      const id = await pay(ada, 12_345);
      const done = await finalStatus(id);
      expect(done.status).toBe('SUCCEEDED');
      expect(done.provider_reference).toMatch(/^[0-9a-f-]{36}$/);
      expect(await history(id)).toEqual(['QUEUED', 'PROCESSING', 'SUCCEEDED']);
      expect(await bookingsOf(id)).toEqual([expect.objectContaining({ amountMinor: -12_345 })]);
      const ledger = await sql<{ amount_minor: string; bank_reference: string }>('select amount_minor, bank_reference from ledger_entries where payment_id = ?', [id]);
      expect(ledger).toEqual([{ amount_minor: '-12345', bank_reference: done.provider_reference }]);
      const events = await sql<{ value: string }>(`select value from outbox where topic = 'payments.status-changed.v1' and value like ? order by created_at`, [`%${id}%`]);
      expect(events.map((e) => JSON.parse(e.value).status)).toEqual(['QUEUED', 'PROCESSING', 'SUCCEEDED']);
      await eventually(async () => (live.filter((m) => (m as { id?: string }).id === id).length >= 2 ? true : undefined));
      expect(live.filter((m) => (m as { id?: string }).id === id).map((m) => m.status)).toEqual(['PROCESSING', 'SUCCEEDED']);
    } finally {
      await subscriber.quit();
    }
  });

  it("ends a declined payment FAILED with the bank's reason: insufficient funds, then a closed account", async () => {
    const bob = await payer('Pocket money');
    const poor = await pay(bob, 5_001);
    const failed = await finalStatus(poor);
    expect(failed.status).toBe('FAILED');
    expect(failed.failure_reason).toMatch(/INSUFFICIENT_FUNDS/);
    expect(await bookingsOf(poor)).toEqual([]);
    expect(await sql('select * from ledger_entries where payment_id = ?', [poor])).toEqual([]);

    await sandbox('PATCH', `/accounts/${bob.providerAccountId}`, { status: 'CLOSED' });
    const shut = await finalStatus(await pay(bob, 10));
    expect(shut).toMatchObject({ status: 'FAILED', failure_reason: expect.stringMatching(/ACCOUNT_CLOSED/) });
  });

  it('retries passing bank failures (503, 500 after booking, no answer) and books each payment once', async () => {
    const carol = await payer();
    for (const kind of ['unavailable', 'error-after-apply', 'timeout']) {
      await behave({ failureRate: 1, failureKinds: [kind] });
      const id = await pay(carol, 100);
      // Let the first attempt meet the failure, then let the bank recover.
      await eventually(async () => ((await sandbox('GET', '/stats')).injectedFailures[kind] > 0 ? true : undefined));
      await behave({ failureRate: 0 });
      expect((await finalStatus(id)).status, kind).toBe('SUCCEEDED');
      expect(await bookingsOf(id), kind).toHaveLength(1);
      expect(await history(id), kind).toEqual(['QUEUED', 'PROCESSING', 'SUCCEEDED']);
    }
  });

  it('dead-letters a payment after the last retry with the reason, and the reconciler settles it once the bank is back', async () => {
    const dan = await payer();
    await behave({ failureRate: 1, failureKinds: ['unavailable'] });
    let id: string;
    try {
      id = await pay(dan, 4_200);
      const letter = await eventually(async () => deadLetters.find((m) => m.value.includes(id)), 20_000);
      expect(letter.headers[HEADER.reason]).toMatch(/answered 503/);
      expect(letter.headers[HEADER.attempt]).toBe('3');
      const [row] = await sql<{ status: string }>('select status from payments where id = ?', [id]);
      expect(row?.status).toBe('PROCESSING');
    } finally {
      await behave({ failureRate: 0 });
    }
    expect((await finalStatus(id, 20_000)).status).toBe('SUCCEEDED');
    expect(await bookingsOf(id)).toHaveLength(1);
    // The admin's view of the dead letter, and a replay that finds the payment settled: no second booking.
    const admin = auth.tokenFor({ id: randomUUID(), role: 'ADMIN' });
    const listed = await eventually(async () => {
      const result = await gql(url, '{ paymentDeadLetters { id payload reason } }', { token: admin });
      return result.data?.paymentDeadLetters?.find((l: { payload: string }) => l.payload.includes(id));
    });
    await gql(url, 'mutation($id: ID!) { replayPaymentDeadLetter(id: $id) { replayedAt } }', { token: admin, variables: { id: listed.id } });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await bookingsOf(id)).toHaveLength(1);
    expect(await history(id)).toEqual(['QUEUED', 'PROCESSING', 'SUCCEEDED']);
  });

  it('sends a poison message to the dead-letter topic and keeps processing the payments after it', async () => {
    const erin = await payer();
    await bus.publish('payments.requested.v1', [{ key: erin.user.id, value: '{"this is": "not a payment"', headers: { [HEADER.id]: 'poison-1' } }]);
    const wellFormedButUnknown = encodeEvent('payments.requested.v1', erin.user.id, {
      userId: erin.user.id,
      paymentId: randomUUID(),
      bankAccountId: erin.accountId,
      amountMinor: '1',
      currency: 'EUR',
      payeeName: 'Nobody',
      requestedAt: new Date().toISOString(),
    });
    await bus.publish('payments.requested.v1', [wellFormedButUnknown]);
    const after = await pay(erin, 77);
    expect((await finalStatus(after)).status).toBe('SUCCEEDED');
    const poison = await eventually(async () => deadLetters.find((m) => m.headers[HEADER.id] === 'poison-1'), 20_000);
    expect(poison.headers[HEADER.reason]).toMatch(/^malformed message/);
    const unknown = await eventually(async () => deadLetters.find((m) => m.headers[HEADER.id] === wellFormedButUnknown.headers[HEADER.id]), 20_000);
    expect(unknown.headers[HEADER.reason]).toMatch(/does not exist/);
  });

  it('never calls the bank for a payment canceled before the worker took it', async () => {
    const [row] = await sql<{ id: string }>(`select id from payments where status = 'SUCCEEDED' limit 1`);
    const canceled = randomUUID();
    await sql(
      `insert into payments (id, user_id, bank_account_id, amount_minor, currency, payee_name, reference, status, idempotency_key, request_fingerprint, created_at, updated_at)
       select ?, user_id, bank_account_id, 1, currency, 'X', '', 'CANCELED', ?, 'f', now(), now() from payments where id = ?`,
      [canceled, `k-${canceled}`, row!.id],
    );
    const before = (await sandbox('GET', '/stats')).submissions;
    expect(
      await processPayment({ db: worker.db, bank: { submitPayment: () => Promise.reject(new Error('must not be called')) } as never, logger, onChange: async () => {} }, canceled),
    ).toBe('skipped');
    expect((await sandbox('GET', '/stats')).submissions).toBe(before);
  });

  it('cancels a payment left in REQUIRES_ACTION once its code has expired, and says so live', async () => {
    const fay = await payer();
    const result = await gql(url, `mutation($input: InitiatePaymentInput!, $key: String!) { initiatePayment(input: $input, idempotencyKey: $key) { id status } }`, {
      token: fay.token,
      variables: { input: { bankAccountId: fay.accountId, amount: { amountMinor: 200_000, currency: 'EUR' }, payeeName: 'Someone New', reference: 'Big' }, key: randomUUID() },
    });
    const id = result.data.initiatePayment.id as string;
    expect(result.data.initiatePayment.status).toBe('REQUIRES_ACTION');
    const subscriber = createRedis(services.redisUrl);
    const live: { status: string }[] = [];
    subscriber.on('message', (_c: string, m: string) => void live.push(JSON.parse(m)));
    await subscriber.subscribe(`${redisPrefix}Payment.${id}`);
    try {
      await sql(`update payments set confirmation_expires_at = now() - interval '1 second' where id = ?`, [id]);
      expect((await finalStatus(id)).status).toBe('CANCELED');
      expect(await history(id)).toEqual(['REQUIRES_ACTION', 'CANCELED']);
      await eventually(async () => (live.some((m) => m.status === 'CANCELED') ? true : undefined));
    } finally {
      await subscriber.quit();
    }
  });

  it('answers /health, /ready (PostgreSQL, Kafka, Redis) and /metrics with the settled payments', async () => {
    expect((await fetch(`${worker.url}/health`)).status).toBe(200);
    const ready = await fetch(`${worker.url}/ready`);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { postgres: 'ok', kafka: 'ok', redis: 'ok' } });
    const metrics = await (await fetch(`${worker.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/payments_settled_total\{status="SUCCEEDED",path="consumer",service="payments-worker"\} \d+/);
  });
});
