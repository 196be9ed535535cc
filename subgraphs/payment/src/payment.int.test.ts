import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, runConsumer, type Event } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { createTestAuth, dropSchema, eventually, gql, services, uniqueName, type TestAuth } from '@analytica/testing';
import { parsePaymentEnv, startPaymentService } from './index.js';

const schema = uniqueName('payment_test');
const prefix = `${uniqueName('t')}.`;
let auth: TestAuth;
let service: Awaited<ReturnType<typeof startPaymentService>>;
let url: string;

const ada = { id: randomUUID() };
const bob = { id: randomUUID() };
const admin = { id: randomUUID(), role: 'ADMIN' as const };
let adaToken: string;
let bobToken: string;

beforeAll(async () => {
  auth = await createTestAuth();
  const env = parsePaymentEnv({
    ...auth.env,
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATABASE_URL: services.databaseUrl,
    DATABASE_SCHEMA: schema,
    KAFKA_BROKERS: services.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: prefix,
    BANK_FINGERPRINT_SECRET: 'test-fingerprint-secret-0123456789abcdef',
  });
  service = await startPaymentService(env);
  url = `${service.url}/graphql`;
  adaToken = auth.tokenFor(ada);
  bobToken = auth.tokenFor(bob);
});

afterAll(async () => {
  await service?.stop();
  await auth?.close();
  await dropSchema(schema);
});

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return service.db.orm.em.getConnection().execute(query, params, 'all');
}

const LINK = `mutation($input: LinkBankAccountInput!) {
  linkBankAccount(input: $input) { id userId bankName holderName accountNumber currency status createdAt }
}`;
const INITIATE = `mutation($input: InitiatePaymentInput!, $key: String!) {
  initiatePayment(input: $input, idempotencyKey: $key) {
    id status payeeName reference amount { amountMinor currency } history { status reason } bankAccount { id accountNumber }
  }
}`;
const CANCEL = `mutation($id: ID!) { cancelPayment(id: $id) { id status history { status reason } } }`;
const PAYMENT = `query($id: ID!) { payment(id: $id) { id status amount { amountMinor currency } bankAccount { id status } } }`;
const ENTITIES = `query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Payment { id status }
    ... on BankAccount { id accountNumber }
    ... on User { id bankAccounts { id } payments { id } }
  }
}`;

async function link(token: string, input: Record<string, string>) {
  return gql(url, LINK, { token, variables: { input: { bankName: 'Test Bank', holderName: 'Ada Lovelace', currency: 'EUR', ...input } } });
}

async function initiate(token: string, input: Record<string, unknown>, key: string = randomUUID()) {
  return gql(url, INITIATE, {
    token,
    variables: { input: { payeeName: 'Landlord Ltd', reference: 'Rent', amount: { amountMinor: 95_000, currency: 'EUR' }, ...input }, key },
  });
}

async function counts(userId: string) {
  const [row] = await sql<{ payments: string; history: string; outbox: string }>(
    `select (select count(*) from payments where user_id = ?) as payments,
            (select count(*) from payment_status_history h join payments p on p.id = h.payment_id where p.user_id = ?) as history,
            (select count(*) from outbox where topic = 'payments.requested.v1' and key = ?) as outbox`,
    [userId, userId, userId],
  );
  return { payments: Number(row?.payments), history: Number(row?.history), outbox: Number(row?.outbox) };
}

let adaAccount: string;

describe('bank accounts', () => {
  it('links a bank account by IBAN, keeping only the last four characters and a keyed fingerprint', async () => {
    const linked = await link(adaToken, { iban: 'de89 3704 0044 0532 0130 00' });
    expect(linked.errors).toBeUndefined();
    expect(linked.data.linkBankAccount).toMatchObject({
      userId: ada.id,
      bankName: 'Test Bank',
      accountNumber: '•••• 3000',
      currency: 'EUR',
      status: 'VERIFIED',
    });
    adaAccount = linked.data.linkBankAccount.id;
    const [row] = await sql<Record<string, string>>('select * from bank_accounts where id = ?', [adaAccount]);
    expect(JSON.stringify(row)).not.toContain('370400440532013000');
    expect(row?.account_fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a bad IBAN and an unknown currency with BAD_USER_INPUT naming the field', async () => {
    const badIban = await link(adaToken, { iban: 'DE88 3704 0044 0532 0130 00' });
    expect(badIban.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.iban' });
    expect(badIban.errors?.[0]?.message).toMatch(/check digits/);
    const badCurrency = await link(adaToken, { iban: 'GB82 WEST 1234 5698 7654 32', currency: 'EURO' });
    expect(badCurrency.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.currency' });
    const blankName = await link(adaToken, { iban: 'GB82 WEST 1234 5698 7654 32', bankName: '  ' });
    expect(blankName.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.bankName' });
  });

  it('refuses linking the same account twice, however the IBAN is typed', async () => {
    const again = await link(adaToken, { iban: 'DE89370400440532013000' });
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.iban' });
    expect(again.errors?.[0]?.message).toMatch(/already linked/);
  });

  it('lists the user\'s linked accounts on User.bankAccounts', async () => {
    const result = await gql(url, ENTITIES, { token: adaToken, variables: { representations: [{ __typename: 'User', id: ada.id }] } });
    expect(result.errors).toBeUndefined();
    expect(result.data._entities[0].bankAccounts).toEqual([{ id: adaAccount }]);
  });
});

describe('payments', () => {
  it('queues a payment with its first history row, and answers it by id', async () => {
    const created = await initiate(adaToken, { bankAccountId: adaAccount, reference: '  Rent March  ' });
    expect(created.errors).toBeUndefined();
    expect(created.data.initiatePayment).toMatchObject({
      status: 'QUEUED',
      reference: 'Rent March',
      amount: { amountMinor: 95_000, currency: 'EUR' },
      history: [{ status: 'QUEUED', reason: null }],
      bankAccount: { id: adaAccount, accountNumber: '•••• 3000' },
    });
    const { id } = created.data.initiatePayment;
    const read = await gql(url, PAYMENT, { token: adaToken, variables: { id } });
    expect(read.data.payment).toMatchObject({ id, status: 'QUEUED', bankAccount: { id: adaAccount, status: 'VERIFIED' } });
  });

  it('lists the user\'s payments newest first', async () => {
    const first = await initiate(adaToken, { bankAccountId: adaAccount, payeeName: 'Older' });
    const second = await initiate(adaToken, { bankAccountId: adaAccount, payeeName: 'Newer' });
    const result = await gql(url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { payments(first: 2) { id payeeName } } } }`, {
      token: adaToken,
      variables: { r: [{ __typename: 'User', id: ada.id }] },
    });
    expect(result.data._entities[0].payments).toEqual([
      { id: second.data.initiatePayment.id, payeeName: 'Newer' },
      { id: first.data.initiatePayment.id, payeeName: 'Older' },
    ]);
  });

  it('answers the same idempotency key and request with the same payment, writing one row and one event', async () => {
    const key = `rent-${randomUUID()}`;
    const before = await counts(ada.id);
    const once = await initiate(adaToken, { bankAccountId: adaAccount, amount: { amountMinor: 1234, currency: 'EUR' } }, key);
    const twice = await initiate(adaToken, { bankAccountId: adaAccount, amount: { amountMinor: 1234, currency: 'EUR' } }, key);
    expect(twice.errors).toBeUndefined();
    expect(twice.data.initiatePayment.id).toBe(once.data.initiatePayment.id);
    expect(await counts(ada.id)).toEqual({ payments: before.payments + 1, history: before.history + 1, outbox: before.outbox + 1 });
  });

  it('answers the same idempotency key with a different amount with CONFLICT and writes nothing', async () => {
    const key = `rent-${randomUUID()}`;
    await initiate(adaToken, { bankAccountId: adaAccount, amount: { amountMinor: 1000, currency: 'EUR' } }, key);
    const before = await counts(ada.id);
    const other = await initiate(adaToken, { bankAccountId: adaAccount, amount: { amountMinor: 1001, currency: 'EUR' } }, key);
    expect(other.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(other.errors?.[0]?.message).toContain(key);
    expect(await counts(ada.id)).toEqual(before);
  });

  it('turns 10 concurrent identical requests with one key into exactly one payment and one outbox event', async () => {
    const key = `burst-${randomUUID()}`;
    const before = await counts(ada.id);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => initiate(adaToken, { bankAccountId: adaAccount, amount: { amountMinor: 777, currency: 'EUR' } }, key)),
    );
    expect(results.map((r) => r.errors)).toEqual(Array(10).fill(undefined));
    expect(new Set(results.map((r) => r.data.initiatePayment.id)).size).toBe(1);
    expect(await counts(ada.id)).toEqual({ payments: before.payments + 1, history: before.history + 1, outbox: before.outbox + 1 });
    const rows = await sql('select id from payments where user_id = ? and idempotency_key = ?', [ada.id, key]);
    expect(rows).toHaveLength(1);
  });

  it('refuses a malformed idempotency key with BAD_USER_INPUT naming idempotencyKey', async () => {
    for (const key of ['short', 'has spaces in it', 'x'.repeat(101)]) {
      const result = await initiate(adaToken, { bankAccountId: adaAccount }, key);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
    }
  });

  it('refuses zero and negative amounts, a currency the account does not hold and an unknown account, writing nothing', async () => {
    const before = await counts(ada.id);
    const zero = await initiate(adaToken, { bankAccountId: adaAccount, amount: { amountMinor: 0, currency: 'EUR' } });
    expect(zero.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.amount.amountMinor' });
    const negative = await initiate(adaToken, { bankAccountId: adaAccount, amount: { amountMinor: -5, currency: 'EUR' } });
    expect(negative.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.amount.amountMinor' });
    const usd = await initiate(adaToken, { bankAccountId: adaAccount, amount: { amountMinor: 500, currency: 'USD' } });
    expect(usd.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.amount.currency' });
    expect(usd.errors?.[0]?.message).toMatch(/holds EUR/);
    const unknown = await initiate(adaToken, { bankAccountId: randomUUID() });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const blankPayee = await initiate(adaToken, { bankAccountId: adaAccount, payeeName: ' ' });
    expect(blankPayee.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.payeeName' });
    expect(await counts(ada.id)).toEqual(before);
  });

  it('cancels a QUEUED payment and refuses to cancel it again, naming its status', async () => {
    const created = await initiate(adaToken, { bankAccountId: adaAccount });
    const { id } = created.data.initiatePayment;
    const canceled = await gql(url, CANCEL, { token: adaToken, variables: { id } });
    expect(canceled.errors).toBeUndefined();
    expect(canceled.data.cancelPayment).toMatchObject({
      status: 'CANCELED',
      history: [
        { status: 'QUEUED', reason: null },
        { status: 'CANCELED', reason: 'Canceled by the payer.' },
      ],
    });
    const again = await gql(url, CANCEL, { token: adaToken, variables: { id } });
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(again.errors?.[0]?.message).toMatch(/is CANCELED/);
  });

  it('publishes payments.requested.v1 through the outbox to Kafka once', async () => {
    const logger = createLogger('test', 'silent');
    const bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'payment-test', prefix, logger });
    const seen: Event<'payments.requested.v1'>[] = [];
    const consumer = await runConsumer({ bus, logger, groupId: 'payment-test', topic: 'payments.requested.v1', handle: async (e) => void seen.push(e) });
    try {
      const created = await initiate(adaToken, { bankAccountId: adaAccount, amount: { amountMinor: 4242, currency: 'EUR' }, payeeName: 'Kafka Cafe' });
      const id = created.data.initiatePayment.id;
      const event = await eventually(async () => seen.find((e) => e.payload.paymentId === id), 20_000);
      expect(event.key).toBe(ada.id);
      expect(event.payload).toMatchObject({ userId: ada.id, bankAccountId: adaAccount, amountMinor: '4242', currency: 'EUR', payeeName: 'Kafka Cafe' });
      // The relay marks the row only after Kafka acknowledged it, so the event can arrive first.
      const published = await eventually(async () => {
        const [row] = await sql<{ published_at: string | null }>('select published_at::text from outbox where value like ?', [`%${id}%`]);
        return row?.published_at ?? undefined;
      });
      expect(published).toMatch(/^\d{4}-\d{2}-\d{2} /);
      // A relay that failed to mark the row would send it again on its next pass (every 200 ms).
      await new Promise((r) => setTimeout(r, 1500));
      expect(seen.filter((e) => e.payload.paymentId === id)).toHaveLength(1);
    } finally {
      await consumer.stop();
      await bus.close();
    }
  });

  it('refuses to unlink an account with queued payments, and keeps an unlinked account on its old payments', async () => {
    const linked = await link(adaToken, { iban: 'GB82 WEST 1234 5698 7654 32', currency: 'GBP' });
    const account = linked.data.linkBankAccount.id;
    const created = await initiate(adaToken, { bankAccountId: account, amount: { amountMinor: 100, currency: 'GBP' } });
    const paymentId = created.data.initiatePayment.id;

    const refused = await gql(url, `mutation($id: ID!) { unlinkBankAccount(id: $id) { status } }`, { token: adaToken, variables: { id: account } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(refused.errors?.[0]?.message).toMatch(/1 payment\(s\) in progress/);

    await gql(url, CANCEL, { token: adaToken, variables: { id: paymentId } });
    const unlinked = await gql(url, `mutation($id: ID!) { unlinkBankAccount(id: $id) { status } }`, { token: adaToken, variables: { id: account } });
    expect(unlinked.data.unlinkBankAccount.status).toBe('UNLINKED');

    const payment = await gql(url, PAYMENT, { token: adaToken, variables: { id: paymentId } });
    expect(payment.data.payment.bankAccount).toEqual({ id: account, status: 'UNLINKED' });
    const listed = await gql(url, ENTITIES, { token: adaToken, variables: { representations: [{ __typename: 'User', id: ada.id }] } });
    expect(listed.data._entities[0].bankAccounts.map((a: { id: string }) => a.id)).not.toContain(account);

    const fromUnlinked = await initiate(adaToken, { bankAccountId: account, amount: { amountMinor: 100, currency: 'GBP' } });
    expect(fromUnlinked.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.bankAccountId' });

    // Unlinking frees the fingerprint: the same account can be linked again.
    const relinked = await link(adaToken, { iban: 'GB82WEST12345698765432', currency: 'GBP' });
    expect(relinked.errors).toBeUndefined();
  });
});

describe('isolation between users', () => {
  let adaPayment: string;

  beforeAll(async () => {
    const created = await initiate(adaToken, { bankAccountId: adaAccount, payeeName: 'Private' });
    adaPayment = created.data.initiatePayment.id;
  });

  it('answers another user\'s payment with NOT_FOUND, and does not let them cancel it', async () => {
    const read = await gql(url, PAYMENT, { token: bobToken, variables: { id: adaPayment } });
    expect(read.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(read.data?.payment).toBeNull();
    const cancel = await gql(url, CANCEL, { token: bobToken, variables: { id: adaPayment } });
    expect(cancel.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const after = await gql(url, PAYMENT, { token: adaToken, variables: { id: adaPayment } });
    expect(after.data.payment.status).toBe('QUEUED');
  });

  it('does not let another user pay from, or unlink, the first user\'s bank account', async () => {
    const before = await counts(bob.id);
    const pay = await initiate(bobToken, { bankAccountId: adaAccount });
    expect(pay.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await counts(bob.id)).toEqual(before);
    const unlink = await gql(url, `mutation($id: ID!) { unlinkBankAccount(id: $id) { status } }`, { token: bobToken, variables: { id: adaAccount } });
    expect(unlink.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const [row] = await sql<{ status: string }>('select status from bank_accounts where id = ?', [adaAccount]);
    expect(row?.status).toBe('VERIFIED');
  });

  it('lets a second user link the same IBAN without learning that someone else has it', async () => {
    const linked = await link(bobToken, { iban: 'DE89 3704 0044 0532 0130 00', holderName: 'Bob' });
    expect(linked.errors).toBeUndefined();
    expect(linked.data.linkBankAccount.id).not.toBe(adaAccount);
  });

  it('refuses another user\'s objects through _entities: payments and accounts NOT_FOUND, the user FORBIDDEN', async () => {
    const payment = await gql(url, ENTITIES, { token: bobToken, variables: { representations: [{ __typename: 'Payment', id: adaPayment }] } });
    expect(payment.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(payment.data?._entities?.[0] ?? null).toBeNull();
    const account = await gql(url, ENTITIES, { token: bobToken, variables: { representations: [{ __typename: 'BankAccount', id: adaAccount }] } });
    expect(account.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(account.data?._entities?.[0] ?? null).toBeNull();
    const user = await gql(url, ENTITIES, { token: bobToken, variables: { representations: [{ __typename: 'User', id: ada.id }] } });
    expect(user.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(user.data)).not.toContain(adaAccount);
    const garbage = await gql(url, ENTITIES, { token: bobToken, variables: { representations: [{ __typename: 'Payment', id: 'not-a-uuid' }] } });
    expect(garbage.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('gives the owner their objects through _entities, and an admin anyone\'s', async () => {
    const representations = [
      { __typename: 'Payment', id: adaPayment },
      { __typename: 'BankAccount', id: adaAccount },
    ];
    const own = await gql(url, ENTITIES, { token: adaToken, variables: { representations } });
    expect(own.errors).toBeUndefined();
    expect(own.data._entities).toEqual([
      { id: adaPayment, status: 'QUEUED' },
      { id: adaAccount, accountNumber: '•••• 3000' },
    ]);
    const asAdmin = await gql(url, ENTITIES, { token: auth.tokenFor(admin), variables: { representations } });
    expect(asAdmin.errors).toBeUndefined();
    expect(asAdmin.data._entities.map((e: { id: string }) => e.id)).toEqual([adaPayment, adaAccount]);
  });

  it('refuses requests without a token, _entities included', async () => {
    const query = await gql(url, PAYMENT, { variables: { id: adaPayment } });
    expect(query.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const mutation = await initiate('', { bankAccountId: adaAccount });
    expect(mutation.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const entities = await gql(url, ENTITIES, { variables: { representations: [{ __typename: 'Payment', id: adaPayment }] } });
    expect(entities.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(JSON.stringify(entities.data)).not.toContain('QUEUED');
  });
});

describe('operations', () => {
  it('reports ready while PostgreSQL answers', async () => {
    const ready = await fetch(`${service.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { postgres: 'ok' } });
  });
});
