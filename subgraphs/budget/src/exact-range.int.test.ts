// Amounts stay exact end to end (issue 21): every path that writes transactions refuses a write
// that would take a balance beyond 2^53 - 1 minor units, naming the field and writing nothing, and
// every sum the service answers is exact or refused as BAD_USER_INPUT, never rounded and never an
// internal error. Also: a statement the database cancels for its timeouts answers
// SERVICE_UNAVAILABLE (try again), not an internal error.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentFailure, type Event } from '@analytica/events';
import { createTestAuth, dropSchema, gql, services, uniqueName, type GraphQLResponse, type TestAuth } from '@analytica/testing';
import { parseBudgetEnv, startBudgetService } from './index.js';
import { ofxSgml } from './imports/statement-samples.js';
import { bookSucceededPayment } from './payment-consumer/payment-consumer.js';
import { postDueSchedules } from './schedules/schedules.js';

const MAX = Number.MAX_SAFE_INTEGER;
const schema = uniqueName('budget_exact_test');
let auth: TestAuth;
let service: Awaited<ReturnType<typeof startBudgetService>>;
let url: string;

// Short pool timeouts, so that the timeout cases below take a second or three, not the defaults.
const STATEMENT_TIMEOUT_MS = 1_000;
const LOCK_TIMEOUT_MS = 3_000;

beforeAll(async () => {
  auth = await createTestAuth();
  service = await startBudgetService(
    parseBudgetEnv({
      ...auth.env,
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: services.databaseUrl,
      DATABASE_SCHEMA: schema,
      DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
      DATABASE_LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS),
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
      SCHEDULE_INTERVAL_MS: '0',
    }),
  );
  url = `${service.url}/graphql`;
});

afterAll(async () => {
  await service?.stop();
  await auth?.close();
  await dropSchema(schema);
});

const codeOf = (response: GraphQLResponse) => response.errors?.[0]?.extensions?.code;
const fieldOf = (response: GraphQLResponse) => response.errors?.[0]?.extensions?.field;

function person() {
  const id = randomUUID();
  const token = auth.tokenFor({ id });
  const ask = (query: string, variables?: Record<string, unknown>) => gql(url, query, { token, variables });
  /** A User field, as the gateway asks for it (the home currency is what the user service holds). */
  const user = (selection: string) =>
    gql(url, `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { ${selection} } } }`, {
      token,
      variables: { reps: [{ __typename: 'User', id, homeCurrency: 'EUR' }] },
    });
  return { id, ask, user };
}
type Person = ReturnType<typeof person>;

async function openAccount(who: Person, openingBalance = 0) {
  const response = await who.ask('mutation($i: OpenAccountInput!) { openAccount(input: $i) { id } }', {
    i: { name: 'Everyday', type: 'CHECKING', currency: 'EUR', openingBalance: { amountMinor: openingBalance, currency: 'EUR' } },
  });
  expect(response.errors).toBeUndefined();
  return response.data.openAccount.id as string;
}

async function record(who: Person, accountId: string, amountMinor: number, categoryId?: string) {
  const response = await who.ask('mutation($i: RecordTransactionInput!) { recordTransaction(input: $i) { id } }', {
    i: { accountId, amount: { amountMinor, currency: 'EUR' }, bookedAt: '2025-03-10T12:00:00.000Z', payee: 'Big money', categoryId },
  });
  expect(response.errors).toBeUndefined();
  return response.data.recordTransaction.id as string;
}

async function balanceOf(who: Person, accountId: string) {
  const response = await who.ask('query($id: ID!) { account(id: $id) { balance { amountMinor } } }', { id: accountId });
  expect(response.errors).toBeUndefined();
  return response.data.account.balance.amountMinor as number;
}

/** Rows of the user in the tables a write touches. */
async function rowsOf(userId: string) {
  const [row] = await service.db
    .fork()
    .getConnection()
    .execute<{ transactions: number; imports: number; outbox: number }[]>(
      `select (select count(*)::int from transactions where user_id = ?) as transactions,
              (select count(*)::int from imports where user_id = ?) as imports,
              (select count(*)::int from outbox where key = ?) as outbox`,
      [userId, userId, userId],
    );
  return row;
}

describe('writes that would take a balance beyond 2^53 - 1 minor units are refused whole, naming the field', () => {
  it('a statement import (CSV and OFX): BAD_USER_INPUT on input.content, no line, import or event written', async () => {
    const who = person();
    const accountId = await openAccount(who, MAX - 100);
    const before = await rowsOf(who.id);
    const IMPORT = 'mutation($i: ImportTransactionsInput!) { importTransactions(input: $i) { id imported } }';
    const csv = await who.ask(IMPORT, {
      i: {
        accountId,
        format: 'CSV',
        content: 'date,amount,payee\n2025-03-01,0.60,Refund\n2025-03-02,0.60,Refund again\n',
        csv: { date: 'date', amount: 'amount', payee: 'payee' },
      },
    });
    expect(codeOf(csv)).toBe('BAD_USER_INPUT');
    expect(fieldOf(csv)).toBe('input.content');
    expect(csv.errors?.[0]?.message).toMatch(/beyond 9007199254740991 minor units.*nothing was written/);
    const ofx = await who.ask(IMPORT, {
      i: {
        accountId,
        format: 'OFX',
        content: ofxSgml([{ posted: '20250301', amount: '1.01', fitId: 'f-1', name: 'Refund' }]),
      },
    });
    expect([codeOf(ofx), fieldOf(ofx)]).toEqual(['BAD_USER_INPUT', 'input.content']);
    expect(await rowsOf(who.id)).toEqual(before);
    expect(await balanceOf(who, accountId)).toBe(MAX - 100);
    // Within the range the same import goes through: the guard is the range, nothing else.
    const fits = await who.ask(IMPORT, {
      i: { accountId, format: 'CSV', content: 'date,amount,payee\n2025-03-01,0.60,Refund\n', csv: { date: 'date', amount: 'amount', payee: 'payee' } },
    });
    expect(fits.errors).toBeUndefined();
    expect(await balanceOf(who, accountId)).toBe(MAX - 40);
  });

  it('approving a scheduled occurrence: BAD_USER_INPUT on id, nothing booked, the occurrence still due', async () => {
    const who = person();
    const accountId = await openAccount(who, MAX - 10);
    const created = await who.ask('mutation($i: CreateScheduleInput!) { createSchedule(input: $i) { id nextOn } }', {
      i: { accountId, amount: { amountMinor: 11, currency: 'EUR' }, payee: 'Interest', frequency: 'MONTHLY', startsOn: '2025-01-01', autoPost: false },
    });
    expect(created.errors).toBeUndefined();
    const { id, nextOn } = created.data.createSchedule as { id: string; nextOn: string };
    const before = await rowsOf(who.id);
    const approved = await who.ask('mutation($id: ID!, $on: String!) { approveScheduledTransaction(id: $id, on: $on) { id } }', { id, on: nextOn });
    expect([codeOf(approved), fieldOf(approved)]).toEqual(['BAD_USER_INPUT', 'id']);
    expect(approved.errors?.[0]?.message).toMatch(/beyond 9007199254740991 minor units/);
    expect(await rowsOf(who.id)).toEqual(before);
    const schedules = await who.user('schedules { id nextOn }');
    expect(schedules.data._entities[0].schedules).toEqual([{ id, nextOn }]);
  });

  it('auto-posting due occurrences: none is booked and the schedule stays due', async () => {
    const who = person();
    const accountId = await openAccount(who, MAX - 25);
    // Weekly from 10 weeks ago: the first two occurrences fit (20), the third would not (30).
    const startsOn = new Date(Date.now() - 70 * 86_400_000).toISOString().slice(0, 10);
    const created = await who.ask('mutation($i: CreateScheduleInput!) { createSchedule(input: $i) { id nextOn } }', {
      i: { accountId, amount: { amountMinor: 10, currency: 'EUR' }, payee: 'Dividend', frequency: 'WEEKLY', startsOn, autoPost: true },
    });
    expect(created.errors).toBeUndefined();
    const before = await rowsOf(who.id);
    const warnings: unknown[] = [];
    const logger = { warn: (...args: unknown[]) => warnings.push(args), error: (...args: unknown[]) => warnings.push(['error', ...args]) };
    await postDueSchedules(service.db, new Date(), logger as never);
    expect(await rowsOf(who.id)).toEqual(before);
    expect(await balanceOf(who, accountId)).toBe(MAX - 25);
    const schedules = await who.user('schedules { id nextOn }');
    expect(schedules.data._entities[0].schedules).toEqual([created.data.createSchedule]);
    expect(JSON.stringify(warnings)).toMatch(/stays due/);
    expect(JSON.stringify(warnings)).not.toMatch(/"error"/);
  });

  it('a succeeded payment booked from payments.status-changed.v1: refused for good (no retry passes), nothing booked', async () => {
    const who = person();
    const accountId = await openAccount(who, -MAX + 1000);
    const before = await rowsOf(who.id);
    const event = {
      id: randomUUID(),
      topic: 'payments.status-changed.v1',
      key: who.id,
      occurredAt: new Date().toISOString(),
      payload: {
        userId: who.id,
        paymentId: randomUUID(),
        bankAccountId: randomUUID(),
        status: 'SUCCEEDED',
        previousStatus: 'PROCESSING',
        reason: null,
        amountMinor: '1001',
        currency: 'EUR',
        payeeName: 'Landlord Ltd',
        reference: 'Rent',
        bankReference: 'b-1',
        changedAt: '2026-05-01T09:30:00.000Z',
      },
    } satisfies Event<'payments.status-changed.v1'>;
    const refused = await bookSucceededPayment(service.db.fork(), event).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PermanentFailure);
    expect((refused as Error).message).toMatch(/beyond 9007199254740991 minor units/);
    expect(await rowsOf(who.id)).toEqual(before);
    expect(await balanceOf(who, accountId)).toBe(-MAX + 1000);
  });
});

describe('sums beyond the exact range are refused as BAD_USER_INPUT, never rounded or internal errors', () => {
  it('transaction totals per currency and in the home currency, when the inflow passes 2^53 - 1 while every balance stays within it', async () => {
    const who = person();
    const accountId = await openAccount(who);
    await record(who, accountId, MAX);
    await record(who, accountId, -MAX);
    await record(who, accountId, MAX);
    expect(await balanceOf(who, accountId)).toBe(MAX);
    const page = await who.user('transactions { totalCount totals { currency inflow { amountMinor } } }');
    expect([codeOf(page), fieldOf(page)]).toEqual(['BAD_USER_INPUT', 'filter']);
    expect(page.errors?.[0]?.message).toMatch(/inflow of these EUR transactions is beyond 9007199254740991 minor units.*narrow the filter/);
    const home = await who.user('transactionTotals { inflow { amountMinor } net { amountMinor } }');
    expect([codeOf(home), fieldOf(home)]).toEqual(['BAD_USER_INPUT', 'filter']);
    // The count needs no sum: it still answers.
    const counted = await who.user('transactions { totalCount }');
    expect(counted.errors).toBeUndefined();
    expect(counted.data._entities[0].transactions.totalCount).toBe(3);
    // Narrowed to what fits, the totals are exact.
    const narrowed = await who.user(
      'transactions(filter: { maxAmount: 0 }) { totals { inflow { amountMinor } outflow { amountMinor } net { amountMinor } } } transactionTotals(filter: { maxAmount: 0 }) { outflow { amountMinor } }',
    );
    expect(narrowed.errors).toBeUndefined();
    expect(narrowed.data._entities[0]).toEqual({
      transactions: { totals: [{ inflow: { amountMinor: 0 }, outflow: { amountMinor: -MAX }, net: { amountMinor: -MAX } }] },
      transactionTotals: { outflow: { amountMinor: -MAX } },
    });
  });

  it("a budget report whose category's net passes 2^53 - 1 across accounts", async () => {
    const who = person();
    const categories = await who.user('categories { id name }');
    const salary = (categories.data._entities[0].categories as { id: string; name: string }[]).find((c) => c.name === 'Salary')!.id;
    await record(who, await openAccount(who), MAX, salary);
    await record(who, await openAccount(who), MAX, salary);
    const report = await who.user('budgetReport(period: MONTHLY, on: "2025-03-10") { lines { actual { amountMinor } } }');
    expect([codeOf(report), fieldOf(report)]).toEqual(['BAD_USER_INPUT', 'on']);
    expect(report.errors?.[0]?.message).toMatch(/beyond 9007199254740991 minor units/);
  });
});

describe('a statement the database cancels for its timeouts answers SERVICE_UNAVAILABLE saying to try again', () => {
  /** Holds a row lock from another connection while `work` runs. */
  async function whileLocked<T>(sql: string, params: unknown[], work: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = service.db.fork().transactional(async (tx) => {
      await tx.getConnection().execute(sql, params, 'all', tx.getTransactionContext());
      locked();
      await released;
    });
    await isLocked;
    try {
      return await work();
    } finally {
      release();
      await holder;
    }
  }

  it('statement_timeout (57014) and lock_timeout (55P03): no SQL in the answer, and the write can be made once the lock is gone', async () => {
    const who = person();
    const accountId = await openAccount(who);
    const RECORD = 'mutation($i: RecordTransactionInput!) { recordTransaction(input: $i) { id } }';
    const entry = { accountId, amount: { amountMinor: -500, currency: 'EUR' }, bookedAt: '2025-03-10T12:00:00.000Z', payee: 'Corner Market' };
    const IMPORT = 'mutation($i: ImportTransactionsInput!) { importTransactions(input: $i) { imported } }';
    const statement = { accountId, format: 'CSV', content: 'date,amount,payee\n2025-03-01,-1.00,Bakery\n', csv: { date: 'date', amount: 'amount', payee: 'payee' } };
    // The insert of a transaction waits for the key-share lock on its account. A request's
    // statement gives up after the pool's statement_timeout (shorter than its lock_timeout here);
    // an import, which raises its statement_timeout, after the pool's lock_timeout.
    const [cancelled, lockTimedOut] = await whileLocked('select id from accounts where id = ? for update', [accountId], async () => [
      await who.ask(RECORD, { i: entry }),
      await who.ask(IMPORT, { i: statement }),
    ]);
    for (const [what, answer] of [
      ['statement timeout', cancelled],
      ['lock timeout', lockTimedOut],
    ] as const) {
      expect(answer!.status, what).toBe(200);
      expect(codeOf(answer!), what).toBe('SERVICE_UNAVAILABLE');
      expect(answer!.errors?.[0]?.message, what).toMatch(/try again/);
      expect(answer!.errors?.[0]?.extensions?.requestId, what).toBeTruthy();
      const { message, extensions } = answer!.errors![0]!;
      expect(JSON.stringify({ message, extensions }), what).not.toMatch(/select|insert|accounts|transactions|canceling|timeout/i);
    }
    expect((await rowsOf(who.id))!.transactions).toBe(0);
    expect((await who.ask(RECORD, { i: entry })).errors).toBeUndefined();
    expect((await who.ask(IMPORT, { i: statement })).errors).toBeUndefined();
  });
});
