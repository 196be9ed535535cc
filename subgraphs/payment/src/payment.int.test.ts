import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBankEnv, startBankSimulator } from '@analytica/bank-simulator';
import { createKafkaBus, deadLetterTopic, HEADER, PAYMENT_STATUSES, runConsumer, type Event } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { createRedis } from '@analytica/redis';
import { createTestAuth, dropSchema, eventually, gql, services, uniqueName, type TestAuth } from '@analytica/testing';
import { parsePaymentEnv, startPaymentService } from './index.js';

const schema = uniqueName('payment_test');
const prefix = `${uniqueName('t')}.`;
const redisPrefix = `${uniqueName('pay')}:`;
let auth: TestAuth;
let bank: Awaited<ReturnType<typeof startBankSimulator>>;
let service: Awaited<ReturnType<typeof startPaymentService>>;
let url: string;

const ada = { id: randomUUID() };
const bob = { id: randomUUID() };
const admin = { id: randomUUID(), role: 'ADMIN' as const };
let adaToken: string;
let bobToken: string;

beforeAll(async () => {
  auth = await createTestAuth();
  bank = await startBankSimulator(parseBankEnv({ PORT: '0', LOG_LEVEL: 'silent', BANK_LATENCY_MEDIAN_MS: '0' }));
  const env = parsePaymentEnv({
    ...auth.env,
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATABASE_URL: services.databaseUrl,
    DATABASE_SCHEMA: schema,
    KAFKA_BROKERS: services.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: prefix,
    REDIS_URL: services.redisUrl,
    REDIS_KEY_PREFIX: redisPrefix,
    BANK_API_URL: bank.url,
    BANK_FINGERPRINT_SECRET: 'test-fingerprint-secret-0123456789abcdef',
    PAYMENT_VELOCITY_MAX: '25',
    PAYMENT_MAX_AMOUNT_MINOR: '500000',
    PAYMENT_DAILY_LIMIT_MINOR: '800000',
    PAYMENT_REVIEW_THRESHOLD_MINOR: '100000',
  });
  service = await startPaymentService(env);
  url = `${service.url}/graphql`;
  adaToken = auth.tokenFor(ada);
  bobToken = auth.tokenFor(bob);
});

afterAll(async () => {
  await service?.stop();
  await bank?.stop();
  await auth?.close();
  await dropSchema(schema);
});

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return service.db.orm.em.getConnection().execute(query, params, 'all');
}

const CONNECT = `mutation($input: ConnectBankInput!) {
  connectBank(input: $input) { id bankName expiresAt accounts { accountId name holderName accountNumber currency open linkedAccountId } }
}`;
const LINK = `mutation($input: LinkBankAccountInput!) {
  linkBankAccount(input: $input) { id userId bankName holderName accountNumber currency status createdAt verifiedAt }
}`;
const VERIFY = `mutation($id: ID!, $code: String!) { verifyBankAccount(id: $id, code: $code) { id status verifiedAt } }`;
const INITIATE = `mutation($input: InitiatePaymentInput!, $key: String!) {
  initiatePayment(input: $input, idempotencyKey: $key) {
    id status payeeName reference amount { amountMinor currency } history { status reason } bankAccount { id accountNumber }
  }
}`;
const CONFIRM = `mutation($id: ID!, $code: String!) { confirmPayment(id: $id, code: $code) { id status failureReason history { status reason } } }`;
const CANCEL = `mutation($id: ID!) { cancelPayment(id: $id) { id status history { status reason } } }`;
const PAYMENT = `query($id: ID!) { payment(id: $id) { id status failureReason amount { amountMinor currency } bankAccount { id status } } }`;
const ENTITIES = `query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Payment { id status }
    ... on BankAccount { id accountNumber }
    ... on User { id bankAccounts { id } payments { id } payees { name } }
  }
}`;

/** The last one-time code emailed (through the outbox) about a bank account or a payment. */
async function emailedCode(subjectId: string): Promise<string> {
  const rows = await sql<{ value: string }>(`select value from outbox where topic = 'notifications.email.v1' and value like ? order by created_at desc limit 1`, [
    `%${subjectId}%`,
  ]);
  if (!rows[0]) throw new Error(`no code emailed for ${subjectId}`);
  return JSON.parse(rows[0].value).data.code as string;
}

async function connect(token: string) {
  const result = await gql(url, CONNECT, { token, variables: { input: { bankName: 'Sandbox Bank' } } });
  expect(result.errors).toBeUndefined();
  return result.data.connectBank as { id: string; accounts: { accountId: string; name: string; currency: string; open: boolean; linkedAccountId: string | null }[] };
}

async function linkAndVerify(token: string, accountName = 'Current account'): Promise<string> {
  const connection = await connect(token);
  const offer = connection.accounts.find((a) => a.name === accountName)!;
  const linked = await gql(url, LINK, { token, variables: { input: { connectionId: connection.id, accountId: offer.accountId } } });
  expect(linked.errors).toBeUndefined();
  const id = linked.data.linkBankAccount.id as string;
  const verified = await gql(url, VERIFY, { token, variables: { id, code: await emailedCode(id) } });
  expect(verified.errors).toBeUndefined();
  return id;
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

/** Collects what is published for one payment on its Redis channel. */
async function watchPayment(id: string) {
  const subscriber = createRedis(services.redisUrl);
  const seen: { status: string }[] = [];
  subscriber.on('message', (_channel: string, message: string) => void seen.push(JSON.parse(message)));
  await subscriber.subscribe(`${redisPrefix}Payment.${id}`);
  return { seen, close: () => subscriber.quit() };
}

let adaAccount: string;

describe('bank accounts', () => {
  let connectionId: string;
  let currentOffer: string;

  it("connects a bank by consent and lists the user's accounts there, masked", async () => {
    const connection = await connect(adaToken);
    connectionId = connection.id;
    expect(connection.accounts.map((a) => [a.name, a.currency, a.open])).toEqual([
      ['Current account', 'EUR', true],
      ['Savings account', 'EUR', true],
      ['Pocket money', 'EUR', true],
      ['Travel account', 'GBP', true],
      ['Old current account', 'EUR', false],
    ]);
    expect(connection.accounts.every((a) => /^•••• \d{4}$/.test((a as unknown as { accountNumber: string }).accountNumber))).toBe(true);
    expect(connection.accounts.every((a) => a.linkedAccountId === null)).toBe(true);
    currentOffer = connection.accounts[0]!.accountId;
  });

  it('links an account as PENDING_VERIFICATION and emails a code, storing only a masked number and a fingerprint', async () => {
    const linked = await gql(url, LINK, { token: adaToken, variables: { input: { connectionId, accountId: currentOffer } } });
    expect(linked.errors).toBeUndefined();
    expect(linked.data.linkBankAccount).toMatchObject({ userId: ada.id, bankName: 'Sandbox Bank', currency: 'EUR', status: 'PENDING_VERIFICATION', verifiedAt: null });
    adaAccount = linked.data.linkBankAccount.id;
    const [row] = await sql<Record<string, string>>('select * from bank_accounts where id = ?', [adaAccount]);
    expect(row?.account_fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.verification_code_hash).toMatch(/^[0-9a-f]{64}$/);
    const [email] = await sql<{ key: string; value: string }>(`select key, value from outbox where topic = 'notifications.email.v1' and value like ?`, [`%${adaAccount}%`]);
    const message = JSON.parse(email!.value);
    expect(email!.key).toBe(ada.id);
    expect(message).toMatchObject({
      userId: ada.id,
      template: 'one-time-code',
      data: { purpose: 'bank-account', code: expect.stringMatching(/^\d{6}$/), accountNumber: row?.account_number },
    });
    expect(message.to).toBeUndefined();
    expect(row?.verification_code_hash).not.toContain(message.data.code);
  });

  it('refuses payments from an account that is not verified yet', async () => {
    const result = await initiate(adaToken, { bankAccountId: adaAccount });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.bankAccountId' });
    expect(result.errors?.[0]?.message).toMatch(/not verified/);
  });

  it('refuses a wrong code with the tries left, and verifies the account with the emailed code', async () => {
    const code = await emailedCode(adaAccount);
    const wrong = await gql(url, VERIFY, { token: adaToken, variables: { id: adaAccount, code: code === '000000' ? '111111' : '000000' } });
    expect(wrong.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'code' });
    expect(wrong.errors?.[0]?.message).toMatch(/4 tries left/);
    const right = await gql(url, VERIFY, { token: adaToken, variables: { id: adaAccount, code } });
    expect(right.errors).toBeUndefined();
    expect(right.data.verifyBankAccount).toMatchObject({ id: adaAccount, status: 'VERIFIED', verifiedAt: expect.any(String) });
  });

  it('kills a code after five wrong tries, and a new code then works', async () => {
    const connection = await connect(adaToken);
    const savings = connection.accounts.find((a) => a.name === 'Savings account')!;
    const { data } = await gql(url, LINK, { token: adaToken, variables: { input: { connectionId: connection.id, accountId: savings.accountId } } });
    const id = data.linkBankAccount.id as string;
    const code = await emailedCode(id);
    const wrong = code === '123456' ? '654321' : '123456';
    for (let i = 0; i < 5; i++) await gql(url, VERIFY, { token: adaToken, variables: { id, code: wrong } });
    const dead = await gql(url, VERIFY, { token: adaToken, variables: { id, code } });
    expect(dead.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'code' });
    expect(dead.errors?.[0]?.message).toMatch(/Too many wrong codes/);
    const resent = await gql(url, `mutation($id: ID!) { resendBankAccountCode(id: $id) { status } }`, { token: adaToken, variables: { id } });
    expect(resent.data.resendBankAccountCode.status).toBe('PENDING_VERIFICATION');
    const fresh = await emailedCode(id);
    expect((await gql(url, VERIFY, { token: adaToken, variables: { id, code: fresh } })).data.verifyBankAccount.status).toBe('VERIFIED');
  });

  it('refuses linking the same account twice, a closed account and an account outside the connection', async () => {
    const connection = await connect(adaToken);
    expect(connection.accounts.find((a) => a.accountId === currentOffer)?.linkedAccountId).toBe(adaAccount);
    const twice = await gql(url, LINK, { token: adaToken, variables: { input: { connectionId: connection.id, accountId: currentOffer } } });
    expect(twice.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.accountId' });
    expect(twice.errors?.[0]?.message).toMatch(/already linked/);
    const closed = connection.accounts.find((a) => !a.open)!;
    const shut = await gql(url, LINK, { token: adaToken, variables: { input: { connectionId: connection.id, accountId: closed.accountId } } });
    expect(shut.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.accountId' });
    expect(shut.errors?.[0]?.message).toMatch(/closed/);
    const foreign = await gql(url, LINK, { token: adaToken, variables: { input: { connectionId: connection.id, accountId: randomUUID() } } });
    expect(foreign.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.accountId' });
  });

  it('reads the available balance from the bank', async () => {
    const result = await gql(url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on BankAccount { availableBalance { amountMinor currency } } } }`, {
      token: adaToken,
      variables: { r: [{ __typename: 'BankAccount', id: adaAccount }] },
    });
    expect(result.errors).toBeUndefined();
    expect(result.data._entities[0].availableBalance).toEqual({ amountMinor: 1_000_000, currency: 'EUR' });
  });

  it("lists the user's linked accounts on User.bankAccounts", async () => {
    const result = await gql(url, ENTITIES, { token: adaToken, variables: { representations: [{ __typename: 'User', id: ada.id }] } });
    expect(result.errors).toBeUndefined();
    expect(result.data._entities[0].bankAccounts[0]).toEqual({ id: adaAccount });
  });
});

describe('payments', () => {
  it('queues a payment with its first history row and a status event, and answers it by id', async () => {
    const created = await initiate(adaToken, { bankAccountId: adaAccount, reference: '  Rent March  ' });
    expect(created.errors).toBeUndefined();
    expect(created.data.initiatePayment).toMatchObject({
      status: 'QUEUED',
      reference: 'Rent March',
      amount: { amountMinor: 95_000, currency: 'EUR' },
      history: [{ status: 'QUEUED', reason: null }],
      bankAccount: { id: adaAccount },
    });
    const { id } = created.data.initiatePayment;
    const read = await gql(url, PAYMENT, { token: adaToken, variables: { id } });
    expect(read.data.payment).toMatchObject({ id, status: 'QUEUED', failureReason: null, bankAccount: { id: adaAccount, status: 'VERIFIED' } });
    const [event] = await sql<{ value: string }>(`select value from outbox where topic = 'payments.status-changed.v1' and value like ?`, [`%${id}%`]);
    expect(JSON.parse(event!.value)).toMatchObject({ paymentId: id, status: 'QUEUED', previousStatus: null, amountMinor: '95000', reference: 'Rent March' });
  });

  it("lists the user's payments newest first", async () => {
    const first = await initiate(adaToken, { bankAccountId: adaAccount, payeeName: 'Older', amount: { amountMinor: 500, currency: 'EUR' } });
    const second = await initiate(adaToken, { bankAccountId: adaAccount, payeeName: 'Newer', amount: { amountMinor: 500, currency: 'EUR' } });
    const result = await gql(url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { payments(first: 2) { id payeeName } } } }`, {
      token: adaToken,
      variables: { r: [{ __typename: 'User', id: ada.id }] },
    });
    expect(result.data._entities[0].payments).toEqual([
      { id: second.data.initiatePayment.id, payeeName: 'Newer' },
      { id: first.data.initiatePayment.id, payeeName: 'Older' },
    ]);
  });

  describe('paymentsConnection', () => {
    const carol = { id: randomUUID() };
    const PAGE = `query($r: [_Any!]!, $first: Int!, $after: String, $filter: PaymentFilter) {
      _entities(representations: $r) { ... on User { paymentsConnection(first: $first, after: $after, filter: $filter) {
        totalCount edges { cursor node { id status } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      } } }
    }`;
    const page = (token: string, variables: Record<string, unknown>) =>
      gql(url, PAGE, { token, variables: { r: [{ __typename: 'User', id: carol.id }], first: 40, ...variables } });
    // 105 payments, written as the service writes them (millisecond times); payments 10k and 10k+1 share their millisecond, so the id orders them.
    const expected: { id: string; status: string }[] = [];

    beforeAll(async () => {
      const account = randomUUID();
      await sql(
        `insert into bank_accounts (id, user_id, bank_name, holder_name, account_number, account_fingerprint, currency, status, created_at)
         values (?, ?, 'Page Bank', 'Carol', '•••• 0105', ?, 'EUR', 'VERIFIED', now())`,
        [account, carol.id, `fp-${account}`],
      );
      const rows = Array.from({ length: 105 }, (_, n) => ({
        id: randomUUID(),
        status: n % 3 === 0 ? 'SUCCEEDED' : n % 3 === 1 ? 'FAILED' : 'QUEUED',
        at: new Date(Date.UTC(2026, 0, 1) + (n % 10 === 1 ? n - 1 : n) * 60_000),
      }));
      for (const row of rows) {
        await sql(
          `insert into payments (id, user_id, bank_account_id, amount_minor, currency, payee_name, reference, status, idempotency_key, request_fingerprint, created_at, updated_at)
           values (?, ?, ?, 100, 'EUR', 'Page test', 'ref', ?, ?, 'fp', ?, ?)`,
          [row.id, carol.id, account, row.status, `page-${row.id}`, row.at, row.at],
        );
      }
      rows.sort((a, b) => b.at.getTime() - a.at.getTime() || (a.id < b.id ? 1 : -1));
      expected.push(...rows.map(({ id, status }) => ({ id, status })));
    });

    it('reads every payment past the 100th, newest first, each once, with the total', async () => {
      const carolToken = auth.tokenFor(carol);
      const seen: { id: string; status: string }[] = [];
      let after: string | null = null;
      for (let n = 0; n < 3; n++) {
        const result = await page(carolToken, { after });
        expect(result.errors).toBeUndefined();
        const connection = result.data._entities[0].paymentsConnection;
        expect(connection.totalCount).toBe(105);
        seen.push(...connection.edges.map((edge: { node: { id: string; status: string } }) => edge.node));
        expect(connection.pageInfo).toMatchObject({ hasNextPage: n < 2, hasPreviousPage: false, endCursor: connection.edges.at(-1).cursor });
        after = connection.pageInfo.endCursor;
      }
      expect(seen).toEqual(expected);
    });

    it('filters by status, counting only the matches', async () => {
      const result = await page(auth.tokenFor(carol), { first: 100, filter: { statuses: ['QUEUED', 'FAILED'] } });
      const connection = result.data._entities[0].paymentsConnection;
      expect(connection.totalCount).toBe(70);
      expect(connection.edges.map((edge: { node: unknown }) => edge.node)).toEqual(expected.filter((p) => p.status !== 'SUCCEEDED'));
    });

    it('refuses a forged cursor and a page size out of range with BAD_USER_INPUT, and another user with FORBIDDEN', async () => {
      const carolToken = auth.tokenFor(carol);
      const forged = await page(carolToken, { after: Buffer.from('["yesterday","x"]').toString('base64url') });
      expect(forged.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } });
      const tooMany = await page(carolToken, { first: 101 });
      expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(tooMany.errors?.[0]?.message).toContain('1 to 100 payments');
      const bobs = await page(bobToken, {});
      expect(bobs.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(bobs.data?._entities?.[0]?.paymentsConnection ?? null).toBeNull();
    });
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
    const results = await Promise.all(Array.from({ length: 10 }, () => initiate(adaToken, { bankAccountId: adaAccount, amount: { amountMinor: 777, currency: 'EUR' } }, key)));
    expect(results.map((r) => r.errors)).toEqual(Array(10).fill(undefined));
    expect(new Set(results.map((r) => r.data.initiatePayment.id)).size).toBe(1);
    expect(await counts(ada.id)).toEqual({ payments: before.payments + 1, history: before.history + 1, outbox: before.outbox + 1 });
  });

  it('refuses a missing or malformed idempotency key with BAD_USER_INPUT naming idempotencyKey', async () => {
    for (const key of ['', 'short', 'has spaces in it', 'x'.repeat(101)]) {
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

  it('cancels a QUEUED payment, publishes it live, and refuses to cancel it again, naming its status', async () => {
    const created = await initiate(adaToken, { bankAccountId: adaAccount, amount: { amountMinor: 100, currency: 'EUR' } });
    const { id } = created.data.initiatePayment;
    const live = await watchPayment(id);
    try {
      const canceled = await gql(url, CANCEL, { token: adaToken, variables: { id } });
      expect(canceled.errors).toBeUndefined();
      expect(canceled.data.cancelPayment).toMatchObject({
        status: 'CANCELED',
        history: [
          { status: 'QUEUED', reason: null },
          { status: 'CANCELED', reason: 'Canceled by the payer.' },
        ],
      });
      await eventually(async () => (live.seen.length ? true : undefined));
      expect(live.seen[0]).toMatchObject({ __typename: 'Payment', id, status: 'CANCELED', amount: { amountMinor: 100, currency: 'EUR' }, payeeName: 'Landlord Ltd' });
    } finally {
      await live.close();
    }
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
        const [row] = await sql<{ published_at: string | null }>(`select published_at::text from outbox where topic = 'payments.requested.v1' and value like ?`, [`%${id}%`]);
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
    const account = await linkAndVerify(adaToken, 'Travel account');
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
  });
});

describe('risk checks', () => {
  const carol = { id: randomUUID() };
  let carolToken: string;
  let carolAccount: string;

  beforeAll(async () => {
    carolToken = auth.tokenFor(carol);
    carolAccount = await linkAndVerify(carolToken);
  });

  it('refuses a payment above the single-payment limit and one that would pass the 24-hour limit', async () => {
    const big = await initiate(carolToken, { bankAccountId: carolAccount, amount: { amountMinor: 500_001, currency: 'EUR' } });
    expect(big.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.amount.amountMinor' });
    expect(big.errors?.[0]?.message).toMatch(/at most 5000\.00 EUR/);
    await initiate(carolToken, { bankAccountId: carolAccount, payeeName: 'Landlord Ltd', amount: { amountMinor: 90_000, currency: 'EUR' } });
    for (let i = 0; i < 7; i++) await initiate(carolToken, { bankAccountId: carolAccount, payeeName: 'Landlord Ltd', amount: { amountMinor: 99_000, currency: 'EUR' } });
    const over = await initiate(carolToken, { bankAccountId: carolAccount, payeeName: 'Landlord Ltd', amount: { amountMinor: 20_000, currency: 'EUR' } });
    expect(over.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.amount.amountMinor' });
    expect(over.errors?.[0]?.message).toMatch(/limit of 8000\.00 EUR in 24 hours; 170\.00 EUR is left/);
  });

  it('refuses more payments than the velocity limit allows with RATE_LIMITED', async () => {
    const dave = { id: randomUUID() };
    const token = auth.tokenFor(dave);
    const account = await linkAndVerify(token);
    for (let i = 0; i < 25; i++) {
      const ok = await initiate(token, { bankAccountId: account, payeeName: 'Coffee', amount: { amountMinor: 1, currency: 'EUR' } });
      expect(ok.errors).toBeUndefined();
    }
    const before = await counts(dave.id);
    const refused = await initiate(token, { bankAccountId: account, payeeName: 'Coffee', amount: { amountMinor: 1, currency: 'EUR' } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(await counts(dave.id)).toEqual(before);
  });

  it('holds a large first payment to a new payee in REQUIRES_ACTION until the emailed code confirms it', async () => {
    const before = await counts(ada.id);
    const created = await initiate(adaToken, { bankAccountId: adaAccount, payeeName: 'New Garage', amount: { amountMinor: 150_000, currency: 'EUR' } });
    expect(created.errors).toBeUndefined();
    const payment = created.data.initiatePayment;
    expect(payment.status).toBe('REQUIRES_ACTION');
    expect(payment.history[0].reason).toMatch(/confirm it with the code/);
    // Nothing is queued for the bank yet.
    expect((await counts(ada.id)).outbox).toBe(before.outbox);
    const code = await emailedCode(payment.id);
    const live = await watchPayment(payment.id);
    try {
      const wrong = await gql(url, CONFIRM, { token: adaToken, variables: { id: payment.id, code: code === '000000' ? '000001' : '000000' } });
      expect(wrong.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'code' });
      const confirmed = await gql(url, CONFIRM, { token: adaToken, variables: { id: payment.id, code } });
      expect(confirmed.errors).toBeUndefined();
      expect(confirmed.data.confirmPayment.history.map((h: { status: string }) => h.status)).toEqual(['REQUIRES_ACTION', 'QUEUED']);
      await eventually(async () => (live.seen.some((m) => m.status === 'QUEUED') ? true : undefined));
    } finally {
      await live.close();
    }
    expect((await counts(ada.id)).outbox).toBe(before.outbox + 1);
    // The payee is known now: the next large payment to it goes straight to the queue.
    const next = await initiate(adaToken, { bankAccountId: adaAccount, payeeName: 'new garage', amount: { amountMinor: 150_000, currency: 'EUR' } });
    expect(next.data.initiatePayment.status).toBe('QUEUED');
    const payees = await gql(url, ENTITIES, { token: adaToken, variables: { representations: [{ __typename: 'User', id: ada.id }] } });
    expect(payees.data._entities[0].payees.map((p: { name: string }) => p.name.toLowerCase())).toContain('new garage');
  });

  it('fails a payment after five wrong codes, and cancels one whose code expired', async () => {
    const created = await initiate(adaToken, { bankAccountId: adaAccount, payeeName: 'Stranger One', amount: { amountMinor: 120_000, currency: 'EUR' } });
    const id = created.data.initiatePayment.id;
    const code = await emailedCode(id);
    const wrong = code === '999999' ? '999998' : '999999';
    for (let i = 0; i < 4; i++) await gql(url, CONFIRM, { token: adaToken, variables: { id, code: wrong } });
    const last = await gql(url, CONFIRM, { token: adaToken, variables: { id, code: wrong } });
    expect(last.errors?.[0]?.message).toMatch(/last try/);
    const failed = await gql(url, PAYMENT, { token: adaToken, variables: { id } });
    expect(failed.data.payment).toMatchObject({ status: 'FAILED', failureReason: 'Too many wrong confirmation codes.' });

    const expiring = await initiate(adaToken, { bankAccountId: adaAccount, payeeName: 'Stranger Two', amount: { amountMinor: 120_000, currency: 'EUR' } });
    const late = expiring.data.initiatePayment.id;
    await sql(`update payments set confirmation_expires_at = now() - interval '1 second' where id = ?`, [late]);
    const tooLate = await gql(url, CONFIRM, { token: adaToken, variables: { id: late, code: await emailedCode(late) } });
    expect(tooLate.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'code' });
    expect((await gql(url, PAYMENT, { token: adaToken, variables: { id: late } })).data.payment.status).toBe('CANCELED');
  });

  it('lets the payer cancel a payment that REQUIRES_ACTION', async () => {
    const created = await initiate(adaToken, { bankAccountId: adaAccount, payeeName: 'Stranger Three', amount: { amountMinor: 110_000, currency: 'EUR' } });
    const canceled = await gql(url, CANCEL, { token: adaToken, variables: { id: created.data.initiatePayment.id } });
    expect(canceled.data.cancelPayment.status).toBe('CANCELED');
  });
});

describe('dead letters', () => {
  const LIST = `{ paymentDeadLetters(first: 10) { id sourceTopic reason payload key eventId attempts replayedAt } }`;
  let bus: ReturnType<typeof createKafkaBus>;

  beforeAll(() => {
    bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'payment-dlq-test', prefix, logger: createLogger('test', 'silent') });
  });
  afterAll(async () => {
    await bus.close();
  });

  it('lists payment dead letters with reason and payload for an admin, and replays one once, keeping its event id', async () => {
    const eventId = randomUUID();
    await bus.publish(deadLetterTopic('payments.requested.v1'), [
      {
        key: ada.id,
        value: '{"paymentId": 42}',
        headers: { [HEADER.id]: eventId, [HEADER.reason]: 'malformed message: paymentId expected string', [HEADER.attempt]: '0', [HEADER.sourceTopic]: 'payments.requested.v1' },
      },
    ]);
    const adminToken = auth.tokenFor(admin);
    const listed = await eventually(async () => {
      const result = await gql(url, LIST, { token: adminToken });
      return result.data?.paymentDeadLetters?.find((l: { eventId: string }) => l.eventId === eventId);
    }, 20_000);
    expect(listed).toMatchObject({
      sourceTopic: 'payments.requested.v1',
      reason: 'malformed message: paymentId expected string',
      payload: '{"paymentId": 42}',
      key: ada.id,
      replayedAt: null,
    });
    // Recorded at the database's time cut to the millisecond, which the pages' cursors carry.
    const [recorded] = await sql<{ whole: boolean }>(`select dead_at = date_trunc('milliseconds', dead_at) as whole from dead_letters where id = ?`, [listed.id]);
    expect(recorded!.whole).toBe(true);

    const REPLAY = `mutation($id: ID!) { replayPaymentDeadLetter(id: $id) { id replayedAt } }`;
    const replayed = await gql(url, REPLAY, { token: adminToken, variables: { id: listed.id } });
    expect(replayed.data.replayPaymentDeadLetter.replayedAt).toEqual(expect.any(String));
    await gql(url, REPLAY, { token: adminToken, variables: { id: listed.id } });
    const rows = await sql<{ topic: string; headers: Record<string, string> }>(`select topic, headers from outbox where value = '{"paymentId": 42}'`);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.topic).toBe('payments.requested.v1');
    expect(rows[0]!.headers[HEADER.id]).toBe(eventId);
    expect(rows[0]!.headers[HEADER.reason]).toBeUndefined();
    const after = await gql(url, LIST, { token: adminToken });
    expect(after.data.paymentDeadLetters.map((l: { id: string }) => l.id)).not.toContain(listed.id);
    expect((await gql(url, `mutation { replayAllPaymentDeadLetters }`, { token: adminToken })).data.replayAllPaymentDeadLetters).toBe(0);
  });

  describe('paymentDeadLettersConnection', () => {
    const PAGE = `query($first: Int!, $after: String, $includeReplayed: Boolean!) {
      paymentDeadLettersConnection(first: $first, after: $after, includeReplayed: $includeReplayed) {
        totalCount edges { cursor node { id key replayedAt } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }`;
    const page = (token: string, variables: Record<string, unknown>) => gql(url, PAGE, { token, variables: { first: 50, includeReplayed: false, ...variables } });
    // Seven dead letters (the second and third, and the fifth and sixth, in one millisecond each; the last replayed).
    const at = (ms: number) => new Date(Date.UTC(2026, 2, 1, 10, 0, 0) + ms);
    const letters = [at(40), at(30), at(30), at(20), at(10), at(10), at(5)].map((deadAt, n) => ({ id: randomUUID(), deadAt, replayed: n === 6 }));

    beforeAll(async () => {
      for (const [n, letter] of letters.entries()) {
        await sql(
          `insert into dead_letters (id, topic, source_topic, partition, "offset", key, value, headers, reason, event_id, dead_at, replayed_at)
           values (?, 'payments.requested.v1.dlq', 'payments.requested.v1', 0, ?, ?, 'x', '{}'::jsonb, 'paging test', null, ?, ?)`,
          [letter.id, `page-test-${n}-${letter.id}`, `page-test-${n}`, letter.deadAt, letter.replayed ? letter.deadAt : null],
        );
      }
    });

    /** Every page, `first` at a time: the ids in order, the page sizes and the totals the pages gave. */
    async function readAll(first: number, includeReplayed: boolean) {
      const token = auth.tokenFor(admin);
      const ids: string[] = [];
      const sizes: number[] = [];
      const totals = new Set<number>();
      let after: string | null = null;
      for (let n = 0; n < 100; n++) {
        const result = await page(token, { first, after, includeReplayed });
        expect(result.errors).toBeUndefined();
        const connection = result.data.paymentDeadLettersConnection;
        ids.push(...connection.edges.map((edge: { node: { id: string } }) => edge.node.id));
        sizes.push(connection.edges.length);
        totals.add(connection.totalCount);
        expect(connection.pageInfo).toMatchObject({ hasPreviousPage: false, endCursor: connection.edges.at(-1)?.cursor ?? null });
        if (!connection.pageInfo.hasNextPage) return { ids, sizes, totals: [...totals] };
        after = connection.pageInfo.endCursor;
      }
      throw new Error('the cursor does not move on');
    }
    const expected = async (includeReplayed: boolean) =>
      (await sql<{ id: string }>(`select id from dead_letters ${includeReplayed ? '' : 'where replayed_at is null'} order by dead_at desc, id desc`)).map((row) => row.id);

    it('reads every dead letter newest first, each once, a page boundary falling between two of one millisecond, with the total', async () => {
      const open = await expected(false);
      expect(open).toEqual(expect.arrayContaining(letters.filter((l) => !l.replayed).map((l) => l.id)));
      for (const first of [1, 2, 3]) {
        const { ids, sizes, totals } = await readAll(first, false);
        expect(ids, `first ${first}`).toEqual(open);
        expect(sizes.slice(0, -1).every((size) => size === first)).toBe(true);
        expect(totals).toEqual([open.length]);
      }
      // Pages of one: the two of each millisecond are on pages of their own, and both are read.
      const [higher, lower] = [letters[1]!.id, letters[2]!.id].sort().reverse();
      const { ids } = await readAll(1, false);
      expect(ids.indexOf(lower!)).toBe(ids.indexOf(higher!) + 1);
    });

    it('lists the replayed ones too with includeReplayed, counting them', async () => {
      const all = await expected(true);
      const { ids, totals } = await readAll(2, true);
      expect(ids).toEqual(all);
      expect(ids).toContain(letters[6]!.id);
      expect(totals).toEqual([all.length]);
      expect((await readAll(50, false)).ids).not.toContain(letters[6]!.id);
    });

    it('keeps dead_at to whole milliseconds: the database refuses a time with microseconds', async () => {
      await expect(
        sql(
          `insert into dead_letters (id, topic, partition, "offset", key, value, headers, reason, dead_at)
           values (?, 'payments.requested.v1.dlq', 0, ?, 'k', 'x', '{}'::jsonb, 'r', '2026-03-01T10:00:00.030500Z')`,
          [randomUUID(), `micro-${randomUUID()}`],
        ),
      ).rejects.toThrow(/dead_letters_dead_at_milliseconds/);
    });

    it('refuses a page size out of range and a cursor it did not give out with BAD_USER_INPUT, and anyone but an admin', async () => {
      const token = auth.tokenFor(admin);
      for (const first of [0, 101]) {
        const refused = await page(token, { first });
        expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'first' } });
        expect(refused.errors?.[0]?.message).toContain('1 to 100 dead letters');
      }
      for (const after of ['bm90IGEgY3Vyc29y', Buffer.from('["yesterday","x"]').toString('base64url'), Buffer.from(JSON.stringify({ f: 'FLAGS', s: 'x' })).toString('base64url')]) {
        expect((await page(token, { after })).errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } });
      }
      const reader = await page(adaToken, {});
      expect(reader.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(reader.data ?? null).toBeNull();
      expect((await gql(url, PAGE, { variables: { first: 1, includeReplayed: false } })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });
  });

  it('refuses the dead-letter query and replays to anyone but an admin', async () => {
    const list = await gql(url, LIST, { token: adaToken });
    expect(list.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const replay = await gql(url, `mutation { replayAllPaymentDeadLetters }`, { token: adaToken });
    expect(replay.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(url, LIST)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('isolation between users', () => {
  let adaPayment: string;

  beforeAll(async () => {
    const created = await initiate(adaToken, { bankAccountId: adaAccount, payeeName: 'Private', amount: { amountMinor: 300, currency: 'EUR' } });
    adaPayment = created.data.initiatePayment.id;
  });

  it("answers another user's payment with NOT_FOUND, and does not let them cancel or confirm it", async () => {
    const read = await gql(url, PAYMENT, { token: bobToken, variables: { id: adaPayment } });
    expect(read.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(read.data?.payment).toBeNull();
    const cancel = await gql(url, CANCEL, { token: bobToken, variables: { id: adaPayment } });
    expect(cancel.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const confirm = await gql(url, CONFIRM, { token: bobToken, variables: { id: adaPayment, code: '123456' } });
    expect(confirm.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const after = await gql(url, PAYMENT, { token: adaToken, variables: { id: adaPayment } });
    expect(after.data.payment.status).toBe('QUEUED');
  });

  it("does not let another user pay from, verify, unlink or link through the first user's accounts and connections", async () => {
    const before = await counts(bob.id);
    const pay = await initiate(bobToken, { bankAccountId: adaAccount });
    expect(pay.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await counts(bob.id)).toEqual(before);
    const unlink = await gql(url, `mutation($id: ID!) { unlinkBankAccount(id: $id) { status } }`, { token: bobToken, variables: { id: adaAccount } });
    expect(unlink.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const verify = await gql(url, VERIFY, { token: bobToken, variables: { id: adaAccount, code: '123456' } });
    expect(verify.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const [connection] = await sql<{ id: string }>('select id from bank_connections where user_id = ? limit 1', [ada.id]);
    const link = await gql(url, LINK, { token: bobToken, variables: { input: { connectionId: connection!.id, accountId: randomUUID() } } });
    expect(link.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const [row] = await sql<{ status: string }>('select status from bank_accounts where id = ?', [adaAccount]);
    expect(row?.status).toBe('VERIFIED');
  });

  it("refuses another user's objects through _entities: payments and accounts NOT_FOUND, the user FORBIDDEN", async () => {
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

  it("gives the owner their objects through _entities, and an admin anyone's", async () => {
    const representations = [
      { __typename: 'Payment', id: adaPayment },
      { __typename: 'BankAccount', id: adaAccount },
    ];
    const own = await gql(url, ENTITIES, { token: adaToken, variables: { representations } });
    expect(own.errors).toBeUndefined();
    expect(own.data._entities).toEqual([
      { id: adaPayment, status: 'QUEUED' },
      { id: adaAccount, accountNumber: expect.stringMatching(/^•••• \d{4}$/) },
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
    const connect = await gql(url, CONNECT, { variables: { input: { bankName: 'Sandbox Bank' } } });
    expect(connect.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
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

  it('lets the payments table hold exactly the statuses of the event contract', async () => {
    // The migration spells the list out (a migration is history and must not move with the code);
    // this ties it to the one list: a new status needs a migration that widens the check.
    const rows = await sql<{ def: string }>(
      `select pg_get_constraintdef(c.oid) as def from pg_constraint c
         join pg_class t on t.oid = c.conrelid join pg_namespace n on n.oid = t.relnamespace
        where n.nspname = ? and t.relname = 'payments' and c.contype = 'c' and pg_get_constraintdef(c.oid) like '%status%'`,
      [schema],
    );
    expect(rows).toHaveLength(1);
    expect([...rows[0]!.def.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1])).toEqual([...PAYMENT_STATUSES]);
  });
});
