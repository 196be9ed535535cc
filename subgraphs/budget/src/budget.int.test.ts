import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, runConsumer, type Event } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { createTestAuth, dropSchema, eventually, gql, services, uniqueName, type TestAuth } from '@analytica/testing';
import { AccountRecord } from './accounts/account.entity.js';
import { DEFAULT_CATEGORIES } from './categories/categories.js';
import { parseBudgetEnv, startBudgetService } from './index.js';
import { TransactionRecord } from './transactions/transaction.entity.js';

const schema = uniqueName('budget_test');
const prefix = `${uniqueName('t')}.`;
const statements: string[] = [];
let auth: TestAuth;
let service: Awaited<ReturnType<typeof startBudgetService>>;
let url: string;

beforeAll(async () => {
  auth = await createTestAuth();
  const env = parseBudgetEnv({
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATABASE_URL: services.databaseUrl,
    DATABASE_SCHEMA: schema,
    KAFKA_BROKERS: services.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: prefix,
    SCHEDULE_INTERVAL_MS: '0',
    ...auth.env,
  });
  service = await startBudgetService(env, { onQuery: (sql) => statements.push(sql) });
  url = `${service.url}/graphql`;
});

afterAll(async () => {
  await service?.stop();
  await auth?.close();
  await dropSchema(schema);
});

/** A signed-in person talking straight to this subgraph, as the gateway would on their behalf. */
function person(role: 'USER' | 'ADMIN' = 'USER') {
  const id = randomUUID();
  const token = auth.tokenFor({ id, role });
  const ask = (query: string, variables?: Record<string, unknown>) => gql(url, query, { token, variables });
  /** User fields live on the User entity, which the gateway reaches through _entities. */
  const user = async (selection: string, variables?: Record<string, unknown>, userId = id) => {
    const response = await gql(url, `query($reps: [_Any!]!${variablesDeclaration(variables)}) { _entities(representations: $reps) { ... on User { ${selection} } } }`, {
      token,
      variables: { reps: [{ __typename: 'User', id: userId }], ...variables },
    });
    return { ...response, user: response.data?._entities?.[0] };
  };
  return { id, token, ask, user };
}
type Person = ReturnType<typeof person>;

// The few variables user queries take, declared by name.
const VARIABLE_TYPES: Record<string, string> = { filter: 'TransactionFilter', first: 'Int', after: 'String', period: 'BudgetPeriod' };
const variablesDeclaration = (variables?: Record<string, unknown>) =>
  Object.keys(variables ?? {})
    .map((name) => `, $${name}: ${VARIABLE_TYPES[name]}`)
    .join('');

const OPEN = `mutation($input: OpenAccountInput!) { openAccount(input: $input) { id currency openingBalance { amountMinor currency } balance { amountMinor currency } } }`;
const RECORD = `mutation($input: RecordTransactionInput!) { recordTransaction(input: $input) { id version amount { amountMinor currency } bookedAt payee account { id } category { id name } } }`;
const SET_BUDGET = `mutation($input: SetBudgetInput!) { setBudget(input: $input) { id period startsOn endsOn overspent amount { amountMinor currency } spent { amountMinor currency } remaining { amountMinor currency } category { name } } }`;

async function openAccount(who: Person, currency = 'EUR', openingBalance = 0, name = 'Everyday') {
  const response = await who.ask(OPEN, { input: { name, type: 'CHECKING', currency, openingBalance: { amountMinor: openingBalance, currency } } });
  expect(response.errors).toBeUndefined();
  return response.data.openAccount.id as string;
}

async function categoryIds(who: Person): Promise<Record<string, string>> {
  const { user, errors } = await who.user('categories { id name }');
  expect(errors).toBeUndefined();
  return Object.fromEntries((user.categories as { id: string; name: string }[]).map((c) => [c.name, c.id]));
}

async function record(who: Person, input: { accountId: string; amountMinor: number; currency?: string; bookedAt?: string; payee?: string; categoryId?: string }) {
  const response = await who.ask(RECORD, {
    input: {
      accountId: input.accountId,
      amount: { amountMinor: input.amountMinor, currency: input.currency ?? 'EUR' },
      bookedAt: input.bookedAt ?? '2025-03-10T12:00:00.000Z',
      payee: input.payee ?? 'Corner Market',
      categoryId: input.categoryId,
    },
  });
  expect(response.errors).toBeUndefined();
  return response.data.recordTransaction as { id: string; version: number };
}

async function rowCounts() {
  const [row] = await service.db
    .fork()
    .getConnection()
    .execute<{ accounts: string; transactions: string; outbox: string; budgets: string }[]>(
      `select (select count(*) from accounts) as accounts, (select count(*) from transactions) as transactions,
            (select count(*) from outbox) as outbox, (select count(*) from budgets) as budgets`,
    );
  return row;
}

describe('accounts and balances', () => {
  it('opens an account and keeps its balance exact to the minor unit, computed from its transactions', async () => {
    const ada = person();
    const opened = await ada.ask(OPEN, {
      input: { name: 'Everyday', type: 'CHECKING', currency: 'EUR', openingBalance: { amountMinor: 9_000_000_000_000_000, currency: 'EUR' } },
    });
    expect(opened.errors).toBeUndefined();
    expect(opened.data.openAccount).toMatchObject({
      currency: 'EUR',
      openingBalance: { amountMinor: 9_000_000_000_000_000, currency: 'EUR' },
      balance: { amountMinor: 9_000_000_000_000_000, currency: 'EUR' },
    });
    const accountId = opened.data.openAccount.id;
    for (const amountMinor of [-1, -2, 320_000, -4_250, -3_181]) await record(ada, { accountId, amountMinor });

    const account = await ada.ask('query($id: ID!) { account(id: $id) { balance { amountMinor currency } } }', { id: accountId });
    expect(account.data.account.balance).toEqual({ amountMinor: 9_000_000_000_000_000 - 1 - 2 + 320_000 - 4_250 - 3_181, currency: 'EUR' });

    // The ORM hands amounts over as numbers, not the strings pg returns for bigint.
    const em = service.db.fork();
    const stored = await em.findOneOrFail(AccountRecord, { id: accountId });
    const transactions = await em.find(TransactionRecord, { accountId });
    expect(typeof stored.openingBalance).toBe('number');
    expect(transactions.map((t) => t.amount).sort((a, b) => a - b)).toEqual([-4_250, -3_181, -2, -1, 320_000]);

    const savings = await openAccount(ada, 'JPY', 500, 'Yen wallet');
    const { user } = await ada.user('accounts { id name currency balance { amountMinor currency } }');
    expect(user.accounts).toEqual([
      { id: accountId, name: 'Everyday', currency: 'EUR', balance: { amountMinor: 9_000_000_000_312_566, currency: 'EUR' } },
      { id: savings, name: 'Yen wallet', currency: 'JPY', balance: { amountMinor: 500, currency: 'JPY' } },
    ]);
  });

  it('deletes a transaction, after which the balance no longer counts it', async () => {
    const ada = person();
    const accountId = await openAccount(ada, 'EUR', 10_000);
    const kept = await record(ada, { accountId, amountMinor: -2_500 });
    const removed = await record(ada, { accountId, amountMinor: -7_000 });
    expect(kept.version).toBe(1);
    const deleted = await ada.ask('mutation($id: ID!) { deleteTransaction(id: $id) }', { id: removed.id });
    expect(deleted.data).toEqual({ deleteTransaction: true });
    const account = await ada.ask('query($id: ID!) { account(id: $id) { balance { amountMinor } } }', { id: accountId });
    expect(account.data.account.balance.amountMinor).toBe(7_500);
    const gone = await ada.ask('query($id: ID!) { transaction(id: $id) { id } }', { id: removed.id });
    expect(gone.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('categories', () => {
  it('gives a new user the default categories exactly once, even when first requests race', async () => {
    const ada = person();
    const responses = await Promise.all(Array.from({ length: 6 }, () => ada.user('categories { id name group kind }')));
    for (const response of responses) expect(response.errors).toBeUndefined();
    const names = responses.map((r) => (r.user.categories as { name: string }[]).map((c) => c.name).sort());
    for (const list of names) expect(list).toEqual(DEFAULT_CATEGORIES.map((c) => c.name).sort());
    const [row] = await service.db.fork().getConnection().execute<{ count: string }[]>('select count(*) from categories where user_id = ?', [ada.id]);
    expect(Number(row?.count)).toBe(DEFAULT_CATEGORIES.length);
    expect(responses[0]?.user.categories).toContainEqual(expect.objectContaining({ name: 'Salary', group: 'Income', kind: 'INCOME' }));
    expect(responses[0]?.user.categories).toContainEqual(expect.objectContaining({ name: 'Rent', group: 'Housing', kind: 'EXPENSE' }));
  });
});

describe('transactions', () => {
  const PAGE = `transactions(filter: $filter, first: $first, after: $after) {
    totalCount
    edges { cursor node { id payee bookedAt amount { amountMinor } } }
    pageInfo { hasNextPage endCursor }
  }`;

  it('pages newest first by booking time then id, filters by account, category and time, and counts all matches', async () => {
    const ada = person();
    const everyday = await openAccount(ada);
    const savings = await openAccount(ada, 'EUR', 0, 'Savings');
    const categories = await categoryIds(ada);
    const booked = [
      { accountId: everyday, amountMinor: -100, bookedAt: '2025-03-01T08:00:00.000Z', categoryId: categories.Groceries },
      { accountId: everyday, amountMinor: -200, bookedAt: '2025-03-02T08:00:00.000Z', categoryId: categories.Rent },
      { accountId: savings, amountMinor: 300, bookedAt: '2025-03-03T08:00:00.000Z' },
      { accountId: everyday, amountMinor: -400, bookedAt: '2025-03-04T08:00:00.000Z', categoryId: categories.Groceries },
      { accountId: savings, amountMinor: 500, bookedAt: '2025-03-04T08:00:00.000Z' },
      { accountId: everyday, amountMinor: -600, bookedAt: '2025-03-04T08:00:00.000Z', categoryId: categories.Groceries },
      { accountId: everyday, amountMinor: -700, bookedAt: '2025-03-09T08:00:00.000Z' },
    ];
    const recorded = [];
    for (const [i, input] of booked.entries()) recorded.push({ ...(await record(ada, { ...input, payee: `payee ${i}` })), ...input });
    const expectedOrder = [...recorded].sort((a, b) => b.bookedAt.localeCompare(a.bookedAt) || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0)).map((t) => t.id);

    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const response = await ada.user(PAGE, { first: 3, after, filter: null });
      expect(response.errors).toBeUndefined();
      const connection = response.user.transactions;
      expect(connection.totalCount).toBe(7);
      seen.push(...connection.edges.map((e: { node: { id: string } }) => e.node.id));
      expect(connection.pageInfo.endCursor).toBe(connection.edges.at(-1)?.cursor ?? null);
      after = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null;
      pages++;
    } while (after);
    expect(pages).toBe(3);
    expect(seen).toEqual(expectedOrder);

    const groceriesInEveryday = await ada.user(PAGE, { filter: { accountId: everyday, categoryId: categories.Groceries }, first: 2, after: null });
    expect(groceriesInEveryday.user.transactions.totalCount).toBe(3);
    expect(groceriesInEveryday.user.transactions.pageInfo.hasNextPage).toBe(true);
    expect(groceriesInEveryday.user.transactions.edges.map((e: { node: { amount: { amountMinor: number } } }) => e.node.amount.amountMinor).sort()).toEqual([-600, -400].sort());

    const window = await ada.user(PAGE, { filter: { from: '2025-03-02T08:00:00.000Z', to: '2025-03-04T08:00:00.000Z' }, first: 50, after: null });
    expect(window.user.transactions.edges.map((e: { node: { payee: string } }) => e.node.payee)).toEqual(['payee 2', 'payee 1']);
    expect(window.user.transactions.totalCount).toBe(2);
    expect(window.user.transactions.pageInfo).toEqual({ hasNextPage: false, endCursor: window.user.transactions.edges[1].cursor });
  });

  it('refuses a page size outside 1..200, an unreadable cursor and an inverted time window, naming the argument', async () => {
    const ada = person();
    for (const first of [0, 201, -5]) {
      const response = await ada.user(PAGE, { first, after: null, filter: null });
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    }
    const cursor = await ada.user(PAGE, { first: 5, after: 'bm90IGEgY3Vyc29y', filter: null });
    expect(cursor.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    const inverted = await ada.user(PAGE, { first: 5, after: null, filter: { from: '2025-03-02T00:00:00Z', to: '2025-03-01T00:00:00Z' } });
    expect(inverted.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.to' });
  });

  it('reads the accounts and the categories of a page with one statement each, for 5 rows as for 50', async () => {
    const ada = person();
    const accounts = [await openAccount(ada, 'EUR', 0, 'A'), await openAccount(ada, 'EUR', 0, 'B'), await openAccount(ada, 'EUR', 0, 'C')];
    const categories = Object.values(await categoryIds(ada));
    for (let batch = 0; batch < 6; batch++) {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => {
          const n = batch * 10 + i;
          return record(ada, {
            accountId: accounts[n % 3]!,
            categoryId: n % 4 === 0 ? undefined : categories[n % categories.length],
            amountMinor: -(n + 1),
            bookedAt: new Date(Date.UTC(2025, 0, 1) + n * 3_600_000).toISOString(),
          });
        }),
      );
    }
    const query = `transactions(first: $first) { edges { node { id account { id name balance { amountMinor } } category { id name } } } }`;
    const countFor = async (first: number) => {
      statements.length = 0;
      const response = await ada.user(query, { first });
      expect(response.errors).toBeUndefined();
      expect(response.user.transactions.edges).toHaveLength(first);
      const ours = statements.filter((sql) => /\b(transactions|accounts|categories)\b/.test(sql));
      return {
        total: ours.length,
        accounts: ours.filter((sql) => /\."accounts" as /.test(sql)).length,
        categories: ours.filter((sql) => /\."categories" as /.test(sql)).length,
        balances: ours.filter((sql) => / as balance /.test(sql)).length,
      };
    };
    const small = await countFor(5);
    const large = await countFor(50);
    expect(large).toEqual(small);
    // The page itself, then one statement each for its accounts, their balances and its categories.
    expect(large).toEqual({ total: 4, accounts: 1, categories: 1, balances: 1 });
  });

  it('publishes transactions.recorded.v1 through the outbox to Kafka with the amount as a string of minor units', async () => {
    const logger = createLogger('test', 'silent');
    const bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'budget-test', prefix, logger });
    const seen: Event<'transactions.recorded.v1'>[] = [];
    const consumer = await runConsumer({ bus, logger, groupId: 'budget-test', topic: 'transactions.recorded.v1', handle: async (e) => void seen.push(e) });
    try {
      const ada = person();
      const accountId = await openAccount(ada);
      const categories = await categoryIds(ada);
      const transaction = await record(ada, {
        accountId,
        amountMinor: -4_250,
        bookedAt: '2025-03-02T09:30:00.000Z',
        payee: 'Corner Market',
        categoryId: categories.Groceries,
      });
      const event = await eventually(async () => seen.find((e) => e.payload.transactionId === transaction.id), 20_000);
      expect(event.key).toBe(ada.id);
      expect(event.payload).toEqual({
        userId: ada.id,
        transactionId: transaction.id,
        accountId,
        categoryId: categories.Groceries,
        // The name beside the id: consumers without the federated Category (the inference worker's
        // anomaly titles) read it from the event.
        categoryName: 'Groceries',
        amountMinor: '-4250',
        currency: 'EUR',
        payee: 'Corner Market',
        bookedAt: '2025-03-02T09:30:00.000Z',
        splits: [],
        transferId: null,
      });
      // Published once and marked so: the relay does not send it again on its next passes.
      const outbox = service.db.fork().getConnection();
      await eventually(async () => {
        const [row] = await outbox.execute<{ published_at: string | null }[]>(`select published_at from outbox where value like ?`, [`%${transaction.id}%`]);
        return row?.published_at ?? undefined;
      });
      await new Promise((r) => setTimeout(r, 1500));
      expect(seen.filter((e) => e.payload.transactionId === transaction.id)).toHaveLength(1);
    } finally {
      await consumer.stop();
      await bus.close();
    }
  });

  it('writes transactions.deleted.v1 into the outbox with the delete, one per leg of a transfer (with its transferId), and none for a refused delete', async () => {
    const ada = person();
    const current = await openAccount(ada, 'EUR', 0, 'Current');
    const savings = await openAccount(ada, 'EUR', 0, 'Savings');
    const categories = await categoryIds(ada);
    const outbox = service.db.fork().getConnection();
    const deletions = async (transactionIds: string[]) =>
      (
        await outbox.execute<{ value: string }[]>(
          `select value from outbox where topic = 'transactions.deleted.v1' and value::jsonb ->> 'transactionId' = any(?::text[]) order by created_at`,
          [`{${transactionIds.join(',')}}`],
        )
      ).map((row) => JSON.parse(row.value) as Record<string, unknown>);

    const groceries = await record(ada, { accountId: current, amountMinor: -4_250, bookedAt: '2025-03-02T09:30:00.000Z', categoryId: categories.Groceries });
    const stale = await ada.ask('mutation($id: ID!, $v: Int) { deleteTransaction(id: $id, expectedVersion: $v) }', { id: groceries.id, v: groceries.version + 1 });
    expect(stale.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await deletions([groceries.id])).toEqual([]);
    const removed = await ada.ask('mutation($id: ID!) { deleteTransaction(id: $id) }', { id: groceries.id });
    expect(removed.errors).toBeUndefined();
    expect(await deletions([groceries.id])).toEqual([
      expect.objectContaining({
        userId: ada.id,
        transactionId: groceries.id,
        categoryId: categories.Groceries,
        amountMinor: '-4250',
        bookedAt: '2025-03-02T09:30:00.000Z',
        splits: [],
        transferId: null,
        deletedAt: expect.any(String),
      }),
    ]);

    const moved = await ada.ask(`mutation($input: TransferInput!) { transferMoney(input: $input) { id from { id } to { id } } }`, {
      input: { fromAccountId: current, toAccountId: savings, amount: { amountMinor: 10_000, currency: 'EUR' }, bookedAt: '2025-03-03T09:00:00.000Z' },
    });
    expect(moved.errors).toBeUndefined();
    const { id: transferId, from, to } = moved.data.transferMoney;
    expect((await ada.ask('mutation($id: ID!) { deleteTransaction(id: $id) }', { id: from.id })).errors).toBeUndefined();
    const legs = await deletions([from.id, to.id]);
    expect(legs.map((e) => [e.transactionId, e.amountMinor, e.transferId])).toEqual(
      expect.arrayContaining([
        [from.id, '-10000', transferId],
        [to.id, '10000', transferId],
      ]),
    );
    expect(legs).toHaveLength(2);
  });
});

describe('budgets', () => {
  it("counts the category's spending net of refunds in the period, other currencies at the day's rate, and reports what remains", async () => {
    const admin = person('ADMIN');
    const loaded = await admin.ask('mutation($csv: String!) { loadExchangeRates(csv: $csv) }', { csv: 'date,base,quote,rate\n2025-03-05,EUR,USD,1.0842\n' });
    expect(loaded.data).toEqual({ loadExchangeRates: 1 });
    const ada = person();
    const eur = await openAccount(ada);
    const usd = await openAccount(ada, 'USD', 0, 'Dollars');
    const { Groceries: groceries, Rent: rent } = await categoryIds(ada);
    await record(ada, { accountId: eur, categoryId: groceries, amountMinor: -4_250, bookedAt: '2025-03-01T00:00:00.000Z' });
    await record(ada, { accountId: eur, categoryId: groceries, amountMinor: -3_180, bookedAt: '2025-03-31T23:59:59.999Z' });
    await record(ada, { accountId: eur, categoryId: groceries, amountMinor: 500, bookedAt: '2025-03-12T10:00:00.000Z' }); // a refund
    await record(ada, { accountId: eur, categoryId: groceries, amountMinor: -999, bookedAt: '2025-04-01T00:00:00.000Z' }); // next month
    await record(ada, { accountId: eur, categoryId: groceries, amountMinor: -111, bookedAt: '2025-02-28T23:59:59.999Z' }); // last month
    await record(ada, { accountId: eur, categoryId: rent, amountMinor: -110_000, bookedAt: '2025-03-05T10:00:00.000Z' }); // another category
    await record(ada, { accountId: usd, categoryId: groceries, amountMinor: -700, currency: 'USD', bookedAt: '2025-03-05T10:00:00.000Z' }); // another currency

    const monthly = await ada.ask(SET_BUDGET, {
      input: { categoryId: groceries, period: 'MONTHLY', startsOn: '2025-03-17', amount: { amountMinor: 40_000, currency: 'EUR' } },
    });
    expect(monthly.errors).toBeUndefined();
    expect(monthly.data.setBudget).toMatchObject({
      period: 'MONTHLY',
      startsOn: '2025-03-01',
      endsOn: '2025-03-31',
      category: { name: 'Groceries' },
      amount: { amountMinor: 40_000, currency: 'EUR' },
      // 4250 + 3180 - 500 (the refund) + 700 USD at 1.0842 USD per EUR (645.64, rounded to 646 cents)
      spent: { amountMinor: 7_576, currency: 'EUR' },
      remaining: { amountMinor: 32_424, currency: 'EUR' },
    });

    // Wednesday 5 March 2025 belongs to the ISO week that starts on Monday 3 March.
    const weekly = await ada.ask(SET_BUDGET, {
      input: { categoryId: groceries, period: 'WEEKLY', startsOn: '2025-03-05', amount: { amountMinor: 1_000, currency: 'USD' } },
    });
    expect(weekly.data.setBudget).toMatchObject({ startsOn: '2025-03-03', endsOn: '2025-03-09', spent: { amountMinor: 700 }, remaining: { amountMinor: 300 } });

    const again = await ada.ask(SET_BUDGET, {
      input: { categoryId: groceries, period: 'MONTHLY', startsOn: '2025-03-01', amount: { amountMinor: 5_000, currency: 'EUR' } },
    });
    expect(again.data.setBudget).toMatchObject({ id: monthly.data.setBudget.id, remaining: { amountMinor: -2_576 }, overspent: true });

    const all = await ada.user('budgets { id period }');
    expect(all.user.budgets).toHaveLength(2);
    const weeklyOnly = await ada.user('budgets(period: $period) { id startsOn spent { amountMinor } }', { period: 'WEEKLY' });
    expect(weeklyOnly.user.budgets).toEqual([{ id: weekly.data.setBudget.id, startsOn: '2025-03-03', spent: { amountMinor: 700 } }]);
  });

  it('refuses an impossible start date, an income category and a non-positive amount, naming the field and writing nothing', async () => {
    const ada = person();
    const { Groceries: groceries, Salary: salary } = await categoryIds(ada);
    const before = await rowCounts();
    const cases: [Record<string, unknown>, string][] = [
      [{ categoryId: groceries, period: 'MONTHLY', startsOn: '2025-02-30', amount: { amountMinor: 100, currency: 'EUR' } }, 'input.startsOn'],
      [{ categoryId: groceries, period: 'MONTHLY', startsOn: 'March', amount: { amountMinor: 100, currency: 'EUR' } }, 'input.startsOn'],
      [{ categoryId: salary, period: 'MONTHLY', startsOn: '2025-03-01', amount: { amountMinor: 100, currency: 'EUR' } }, 'input.categoryId'],
      [{ categoryId: groceries, period: 'WEEKLY', startsOn: '2025-03-03', amount: { amountMinor: 0, currency: 'EUR' } }, 'input.amount.amountMinor'],
      [{ categoryId: groceries, period: 'WEEKLY', startsOn: '2025-03-03', amount: { amountMinor: 100, currency: 'EURO' } }, 'input.amount.currency'],
    ];
    for (const [input, field] of cases) {
      const response = await ada.ask(SET_BUDGET, { input });
      expect(response.errors?.[0]?.extensions, field).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect(await rowCounts()).toEqual(before);
  });
});

describe('security', () => {
  it("lets a second user neither read nor change the first user's objects, by any path, including _entities", async () => {
    const ada = person();
    const eve = person();
    const accountId = await openAccount(ada, 'EUR', 1_000);
    const { Groceries: groceries } = await categoryIds(ada);
    const transaction = await record(ada, { accountId, categoryId: groceries, amountMinor: -250 });
    const budget = (await ada.ask(SET_BUDGET, { input: { categoryId: groceries, period: 'MONTHLY', startsOn: '2025-03-01', amount: { amountMinor: 9_000, currency: 'EUR' } } }))
      .data.setBudget.id;
    const evesAccount = await openAccount(eve);

    const account = await eve.ask('query($id: ID!) { account(id: $id) { id name } }', { id: accountId });
    const missing = await eve.ask('query($id: ID!) { account(id: $id) { id name } }', { id: randomUUID() });
    expect(account.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(account.data?.account ?? null).toBeNull();
    const readTransaction = await eve.ask('query($id: ID!) { transaction(id: $id) { id payee } }', { id: transaction.id });
    expect(readTransaction.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const entities = await eve.ask(
      `query($reps: [_Any!]!) { _entities(representations: $reps) {
         ... on Account { id name balance { amountMinor } }
         ... on Transaction { id payee amount { amountMinor } }
         ... on Category { id name }
         ... on Budget { id spent { amountMinor } }
         ... on User { id accounts { id } transactions { totalCount } }
       } }`,
      {
        reps: [
          { __typename: 'Account', id: accountId },
          { __typename: 'Transaction', id: transaction.id },
          { __typename: 'Category', id: groceries },
          { __typename: 'Budget', id: budget },
          { __typename: 'User', id: ada.id },
        ],
      },
    );
    expect(entities.data?._entities).toEqual([null, null, null, null, null]);
    const codes = Object.fromEntries((entities.errors ?? []).map((e) => [String(e.path?.[1]), e.extensions?.code]));
    expect(codes).toEqual({ 0: 'NOT_FOUND', 1: 'NOT_FOUND', 2: 'NOT_FOUND', 3: 'NOT_FOUND', 4: 'FORBIDDEN' });

    const intoAdasAccount = await eve.ask(RECORD, {
      input: { accountId, amount: { amountMinor: -1, currency: 'EUR' }, bookedAt: '2025-03-01T00:00:00Z', payee: 'Eve' },
    });
    expect(intoAdasAccount.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'input.accountId' });
    const withAdasCategory = await eve.ask(RECORD, {
      input: { accountId: evesAccount, categoryId: groceries, amount: { amountMinor: -1, currency: 'EUR' }, bookedAt: '2025-03-01T00:00:00Z', payee: 'Eve' },
    });
    expect(withAdasCategory.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'input.categoryId' });
    const budgetOnAdasCategory = await eve.ask(SET_BUDGET, {
      input: { categoryId: groceries, period: 'MONTHLY', amount: { amountMinor: 1, currency: 'EUR' } },
    });
    expect(budgetOnAdasCategory.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'input.categoryId' });
    const deleting = await eve.ask('mutation($id: ID!) { deleteTransaction(id: $id) }', { id: transaction.id });
    expect(deleting.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'id' });

    const filtered = await eve.user('transactions(filter: $filter) { totalCount edges { node { id } } }', { filter: { accountId } });
    expect(filtered.user.transactions).toEqual({ totalCount: 0, edges: [] });

    const adasView = await ada.ask('query($id: ID!) { transaction(id: $id) { id payee account { balance { amountMinor } } } }', { id: transaction.id });
    expect(adasView.data.transaction).toEqual({ id: transaction.id, payee: 'Corner Market', account: { balance: { amountMinor: 750 } } });
  });

  it("lets an admin read a user's account and accounts list", async () => {
    const ada = person();
    const admin = person('ADMIN');
    const accountId = await openAccount(ada, 'EUR', 1_234);
    const account = await admin.ask('query($id: ID!) { account(id: $id) { balance { amountMinor } } }', { id: accountId });
    expect(account.data.account.balance.amountMinor).toBe(1_234);
    const list = await admin.user('accounts { id }', undefined, ada.id);
    expect(list.user.accounts).toEqual([{ id: accountId }]);
  });

  it('refuses every operation without a token', async () => {
    const queries: [string, Record<string, unknown>][] = [
      ['query($id: ID!) { account(id: $id) { id } }', { id: randomUUID() }],
      ['query($id: ID!) { transaction(id: $id) { id } }', { id: randomUUID() }],
      [OPEN, { input: { name: 'x', type: 'CASH', currency: 'EUR' } }],
      ['query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { accounts { id } } } }', { reps: [{ __typename: 'User', id: randomUUID() }] }],
      ['query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Account { id } } }', { reps: [{ __typename: 'Account', id: randomUUID() }] }],
    ];
    const before = await rowCounts();
    for (const [query, variables] of queries) {
      const response = await gql(url, query, { variables });
      expect(response.errors?.[0]?.extensions?.code, query).toBe('UNAUTHENTICATED');
    }
    expect(await rowCounts()).toEqual(before);
  });

  it('refuses bad transaction and account input, naming the field, and writes nothing', async () => {
    const ada = person();
    const eve = person();
    const accountId = await openAccount(ada);
    const evesAccount = await openAccount(eve);
    const evesCategory = (await categoryIds(eve)).Groceries;
    const valid = { accountId, amount: { amountMinor: -100, currency: 'EUR' }, bookedAt: '2025-03-01T10:00:00Z', payee: 'Corner Market' };
    const before = await rowCounts();

    const cases: [Record<string, unknown>, string, string][] = [
      [{ ...valid, amount: { amountMinor: -100, currency: 'XYZ' } }, 'BAD_USER_INPUT', 'input.amount.currency'],
      [{ ...valid, amount: { amountMinor: -100, currency: 'USD' } }, 'BAD_USER_INPUT', 'input.amount.currency'],
      [{ ...valid, amount: { amountMinor: 0, currency: 'EUR' } }, 'BAD_USER_INPUT', 'input.amount.amountMinor'],
      [{ ...valid, payee: '' }, 'BAD_USER_INPUT', 'input.payee'],
      [{ ...valid, payee: '   ' }, 'BAD_USER_INPUT', 'input.payee'],
      [{ ...valid, payee: 'x'.repeat(201) }, 'BAD_USER_INPUT', 'input.payee'],
      [{ ...valid, accountId: evesAccount }, 'NOT_FOUND', 'input.accountId'],
      [{ ...valid, accountId: 'not-an-id' }, 'NOT_FOUND', 'input.accountId'],
      [{ ...valid, categoryId: evesCategory }, 'NOT_FOUND', 'input.categoryId'],
    ];
    for (const [input, code, field] of cases) {
      const response = await ada.ask(RECORD, { input });
      expect(response.errors?.[0]?.extensions, field).toMatchObject({ code, field });
    }
    // Values the GraphQL types themselves refuse: the error names the path in its message.
    const typeErrors: [Record<string, unknown>, string][] = [
      [{ ...valid, amount: { amountMinor: 12.5, currency: 'EUR' } }, 'input.amount.amountMinor'],
      [{ ...valid, bookedAt: '2025-02-30T10:00:00Z' }, 'input.bookedAt'],
      [{ ...valid, bookedAt: 'yesterday' }, 'input.bookedAt'],
    ];
    for (const [input, field] of typeErrors) {
      const response = await ada.ask(RECORD, { input });
      expect(response.errors?.[0]?.extensions?.code, field).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0]?.message).toContain(`"${field}"`);
    }

    const accountCases: [Record<string, unknown>, string][] = [
      [{ name: 'Travel', type: 'CASH', currency: 'ABC' }, 'input.currency'],
      [{ name: '  ', type: 'CASH', currency: 'EUR' }, 'input.name'],
      [{ name: 'Travel', type: 'CASH', currency: 'EUR', openingBalance: { amountMinor: 100, currency: 'USD' } }, 'input.openingBalance.currency'],
    ];
    for (const [input, field] of accountCases) {
      const response = await ada.ask(OPEN, { input });
      expect(response.errors?.[0]?.extensions, field).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect(await rowCounts()).toEqual(before);
  });

  it('reports ready while PostgreSQL answers', async () => {
    const ready = await fetch(`${service.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { postgres: 'ok' } });
  });
});
