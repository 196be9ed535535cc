// The budget's live streams through the real gateway (graphql-ws): an account's state after each
// change to its transactions, and overspent budgets to their owner only. Real PostgreSQL, Kafka
// (the outbox relay publishes, then the live events leave) and Redis.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createKafkaBus, encodeEvent } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { createRedis } from '@analytica/redis';
import { callerChannel, entityChannel } from '@analytica/redis/live';
import { eventually, gql, services } from '@analytica/testing';
import { categoryIds, dataOf, openAccount, record, startHarness, type Harness, type Person } from './budget-harness.js';

let h: Harness;
const redis = createRedis(services.redisUrl);
const clients: Client[] = [];

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await h?.stop();
  await redis.quit();
});

/** A graphql-ws subscription through the gateway, as a browser would open it. */
function subscribe(who: Person, query: string, variables: Record<string, unknown> = {}) {
  const client = createClient({ url: h.gatewayUrl.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${who.token}` }, retryAttempts: 0 });
  clients.push(client);
  const results: { data?: any; errors?: any }[] = [];
  const errors: any[] = [];
  client.subscribe({ query, variables }, { next: (r) => void results.push(r), error: (e) => void errors.push(e), complete: () => {} });
  return { results, errors };
}

async function listening(channel: string) {
  await eventually(async () => {
    const [, count] = (await redis.call('PUBSUB', 'NUMSUB', `${h.redisPrefix}${channel}`)) as [string, number];
    return count > 0 ? true : undefined;
  });
}

const balances = (results: { data?: any }[]) => results.map((r) => r.data?.transactionsChanged?.balance?.amountMinor);
const ACCOUNT = 'subscription($id: ID!) { transactionsChanged(accountId: $id) { id name balance { amountMinor currency } } }';

describe('transactionsChanged', () => {
  it("refuses another user's account with the same code and message as the account query", async () => {
    const ada = h.person();
    const bob = h.person();
    const accountId = await openAccount(ada, { opening: 10_000 });
    const overHttp = await bob.ask('query($id: ID!) { account(id: $id) { id } }', { id: accountId });
    expect(overHttp.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const live = subscribe(bob, ACCOUNT, { id: accountId });
    await eventually(async () => (live.errors.length ? true : undefined), 10_000, 20);
    expect(live.errors[0][0]).toMatchObject({ message: overHttp.errors![0]!.message, extensions: { code: 'NOT_FOUND' } });
    expect(live.results).toEqual([]);
    // Not a probe either: an id that names nothing gets the same answer as another user's.
    const none = subscribe(bob, ACCOUNT, { id: '00000000-0000-4000-8000-000000000000' });
    await eventually(async () => (none.errors.length ? true : undefined), 10_000, 20);
    expect(none.errors[0][0].extensions.code).toBe('NOT_FOUND');
  });

  it('starts with the account as it is, then delivers its new state after a transaction is recorded, edited and deleted', async () => {
    const ada = h.person();
    const accountId = await openAccount(ada, { opening: 10_000, name: 'Live' });
    const other = await openAccount(ada, { opening: 0, name: 'Other' });
    const live = subscribe(ada, ACCOUNT, { id: accountId });
    await eventually(async () => (live.results.length ? true : undefined), 10_000, 20);
    expect(live.results[0]).toEqual({ data: { transactionsChanged: { id: accountId, name: 'Live', balance: { amountMinor: 10_000, currency: 'EUR' } } } });
    await listening(entityChannel('Account', accountId));

    const booked = await record(ada, { accountId, amountMinor: -2_500 });
    await eventually(async () => (balances(live.results).at(-1) === 7_500 ? true : undefined), 10_000, 20);

    const UPDATE = 'mutation($id: ID!, $v: Int!, $input: UpdateTransactionInput!) { updateTransaction(id: $id, expectedVersion: $v, input: $input) { version } }';
    dataOf(await ada.ask(UPDATE, { id: booked.id, v: booked.version, input: { amount: { amountMinor: -4_000, currency: 'EUR' } } }));
    await eventually(async () => (balances(live.results).at(-1) === 6_000 ? true : undefined), 10_000, 20);

    dataOf(await ada.ask('mutation($id: ID!) { deleteTransaction(id: $id) }', { id: booked.id }));
    await eventually(async () => (balances(live.results).at(-1) === 10_000 ? true : undefined), 10_000, 20);

    // A transaction on another account is not this account's change.
    const seen = live.results.length;
    await record(ada, { accountId: other, amountMinor: -100 });
    await record(ada, { accountId, amountMinor: -1 });
    await eventually(async () => (balances(live.results).at(-1) === 9_999 ? true : undefined), 10_000, 20);
    expect(live.results.slice(seen).every((r) => r.data.transactionsChanged.id === accountId)).toBe(true);
    expect(live.errors).toEqual([]);
  });

  it('delivers the new state when a succeeded payment is booked on the account', async () => {
    const ada = h.person();
    const accountId = await openAccount(ada, { opening: 50_000, name: 'Checking' });
    const live = subscribe(ada, ACCOUNT, { id: accountId });
    await eventually(async () => (balances(live.results).at(-1) === 50_000 ? true : undefined), 10_000, 20);
    await listening(entityChannel('Account', accountId));

    // What the payment service emits when the bank settles a payment: the budget books it itself.
    const bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'budget-live-test', prefix: h.topicPrefix, logger: createLogger('test', 'silent') });
    try {
      await bus.publish('payments.status-changed.v1', [
        encodeEvent('payments.status-changed.v1', ada.id, {
          userId: ada.id,
          paymentId: randomUUID(),
          bankAccountId: randomUUID(),
          status: 'SUCCEEDED',
          previousStatus: 'PROCESSING',
          reason: null,
          amountMinor: '2599',
          currency: 'EUR',
          payeeName: 'Landlord Ltd',
          reference: 'Rent',
          bankReference: 'b-1',
          changedAt: new Date().toISOString(),
        }),
      ]);
      await eventually(async () => (balances(live.results).at(-1) === 50_000 - 2_599 ? true : undefined), 20_000, 20);
    } finally {
      await bus.close();
    }
  });
});

describe('budgetOverspent', () => {
  const OVERSPENT = `subscription {
    budgetOverspent {
      id budgetId period startsOn limit { amountMinor currency } spent { amountMinor currency } crossedAt
      budget { id overspent remaining { amountMinor } } category { name }
    }
  }`;
  const SET = 'mutation($input: SetBudgetInput!) { setBudget(input: $input) { id } }';

  it('reaches the budget owner only, once per crossing, with the budget and category as they are', async () => {
    const ada = h.person();
    const bob = h.person();
    const adaAccount = await openAccount(ada);
    const bobAccount = await openAccount(bob);
    const { Groceries: adaGroceries } = await categoryIds(ada);
    const { Groceries: bobGroceries } = await categoryIds(bob);
    const march = { period: 'MONTHLY', startsOn: '2025-03-01', amount: { amountMinor: 10_000, currency: 'EUR' } };
    const budgetId = dataOf(await ada.ask(SET, { input: { ...march, categoryId: adaGroceries } })).setBudget.id;
    dataOf(await bob.ask(SET, { input: { ...march, categoryId: bobGroceries } }));

    const adaSees = subscribe(ada, OVERSPENT);
    const bobSees = subscribe(bob, OVERSPENT);
    await listening(callerChannel('BudgetOverspent', ada.id));
    await listening(callerChannel('BudgetOverspent', bob.id));

    await record(bob, { accountId: bobAccount, categoryId: bobGroceries, amountMinor: -4_000, bookedAt: '2025-03-05T10:00:00Z' }); // Bob stays under
    await record(ada, { accountId: adaAccount, categoryId: adaGroceries, amountMinor: -15_000, bookedAt: '2025-03-10T10:00:00Z' });
    await eventually(async () => (adaSees.results.length ? true : undefined), 10_000, 20);
    expect(adaSees.results[0]!.errors).toBeUndefined();
    expect(adaSees.results[0]!.data.budgetOverspent).toEqual({
      id: expect.any(String),
      budgetId,
      period: 'MONTHLY',
      startsOn: '2025-03-01',
      limit: { amountMinor: 10_000, currency: 'EUR' },
      spent: { amountMinor: 15_000, currency: 'EUR' },
      crossedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      budget: { id: budgetId, overspent: true, remaining: { amountMinor: -5_000 } },
      category: { name: 'Groceries' },
    });

    // Spending more while already over is not a new crossing.
    await record(ada, { accountId: adaAccount, categoryId: adaGroceries, amountMinor: -1_000, bookedAt: '2025-03-11T10:00:00Z' });
    await new Promise((r) => setTimeout(r, 1000));
    expect(adaSees.results).toHaveLength(1);
    expect(bobSees.results).toEqual([]);
    expect([...adaSees.errors, ...bobSees.errors]).toEqual([]);

    // The event's key names Ada's budget: Bob asking the subgraph for it directly is told it does not exist.
    const stolen = await gql(h.subgraphUrl, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on BudgetOverspent { budgetId spent { amountMinor } } } }', {
      token: bob.token,
      variables: { r: [{ __typename: 'BudgetOverspent', id: adaSees.results[0]!.data.budgetOverspent.id }] },
    });
    expect(stolen.data?._entities?.[0] ?? null).toBeNull();
    expect(stolen.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
