import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql } from '@analytica/testing';
import { categoryIds, dataOf, errorOf, openAccount, record, startHarness, type Harness, type Person } from './budget-harness.js';

// Who may do what with rules, schedules, categories, transactions and rates, by every path; and
// what a budget outage leaves of `me`.
let h: Harness;
let ada: Person;
let eve: Person;
let refs: { account: string; category: string; transaction: string; split: string; rule: string; schedule: string; budget: string };

beforeAll(async () => {
  h = await startHarness();
  ada = h.person();
  eve = h.person();
  const account = await openAccount(ada, { opening: 5_000 });
  const { Groceries: category, Health: health } = await categoryIds(ada);
  const transaction = (await record(ada, { accountId: account, amountMinor: -1_000, categoryId: category })).id;
  const split = (
    await record(ada, {
      accountId: account,
      amountMinor: -1_000,
      splits: [
        { amountMinor: -600, categoryId: category },
        { amountMinor: -400, categoryId: health },
      ],
    })
  ).id;
  const rule = dataOf(await ada.ask('mutation { createRule(input: { field: PAYEE, operator: CONTAINS, pattern: "shop", categoryId: "' + category + '" }) { id } }')).createRule.id;
  const schedule = dataOf(
    await ada.ask('mutation($input: CreateScheduleInput!) { createSchedule(input: $input) { id } }', {
      input: { accountId: account, amount: { amountMinor: -100, currency: 'EUR' }, payee: 'Gym', frequency: 'MONTHLY', startsOn: '2025-01-01', autoPost: false },
    }),
  ).createSchedule.id;
  const budget = dataOf(
    await ada.ask('mutation($input: SetBudgetInput!) { setBudget(input: $input) { id } }', {
      input: { categoryId: category, period: 'MONTHLY', startsOn: '2025-03-01', amount: { amountMinor: 9_000, currency: 'EUR' } },
    }),
  ).setBudget.id;
  refs = { account, category, transaction, split, rule, schedule, budget };
  await openAccount(eve);
});

afterAll(async () => {
  await h?.stop();
});

describe('another user', () => {
  it("can neither change nor remove the first user's rules, schedules, categories, transactions or budgets", async () => {
    const before = await h.rowCounts();
    const attempts: [string, Record<string, unknown>][] = [
      ['mutation($id: ID!) { updateRule(id: $id, input: { field: NOTES, operator: CONTAINS, pattern: "x", categoryId: "' + randomUUID() + '" }) { id } }', { id: refs.rule }],
      ['mutation($id: ID!) { deleteRule(id: $id) }', { id: refs.rule }],
      ['mutation($id: ID!) { deleteSchedule(id: $id) }', { id: refs.schedule }],
      ['mutation($id: ID!) { approveScheduledTransaction(id: $id, on: "2025-01-01") { id } }', { id: refs.schedule }],
      ['mutation($id: ID!) { skipScheduledTransaction(id: $id, on: "2025-01-01") { id } }', { id: refs.schedule }],
      ['mutation($id: ID!) { updateCategory(id: $id, input: { name: "Mine now" }) { id } }', { id: refs.category }],
      ['mutation($id: ID!) { deleteCategory(id: $id) { outcome } }', { id: refs.category }],
      ['mutation($id: ID!) { restoreCategory(id: $id) { id } }', { id: refs.category }],
      ['mutation($id: ID!) { updateTransaction(id: $id, expectedVersion: 1, input: { payee: "Eve" }) { id } }', { id: refs.transaction }],
      ['mutation($id: ID!) { deleteTransaction(id: $id) }', { id: refs.split }],
    ];
    for (const [query, variables] of attempts) expect(errorOf(await eve.ask(query, variables)), query).toMatchObject({ code: 'NOT_FOUND' });
    const bulk = await eve.ask('mutation($ids: [ID!]!) { recategorizeTransactions(ids: $ids, categoryId: null) { id } }', { ids: [refs.transaction] });
    expect(errorOf(bulk)).toMatchObject({ code: 'NOT_FOUND', field: 'ids[0]' });
    const withAdasCategory = await eve.ask('mutation($input: RuleInput!) { createRule(input: $input) { id } }', {
      input: { field: 'PAYEE', operator: 'CONTAINS', pattern: 'x', categoryId: refs.category },
    });
    expect(errorOf(withAdasCategory)).toMatchObject({ code: 'NOT_FOUND', field: 'input.categoryId' });
    const scheduleOnAdasAccount = await eve.ask('mutation($input: CreateScheduleInput!) { createSchedule(input: $input) { id } }', {
      input: { accountId: refs.account, amount: { amountMinor: -100, currency: 'EUR' }, payee: 'x', frequency: 'WEEKLY', startsOn: '2025-01-01', autoPost: true },
    });
    expect(errorOf(scheduleOnAdasAccount)).toMatchObject({ code: 'NOT_FOUND', field: 'input.accountId' });
    expect(await h.rowCounts()).toEqual(before);

    const { me } = dataOf(await eve.ask('{ me { rules { id } schedules { id } budgets { id } transactions { totalCount } } }'));
    expect(me).toEqual({ rules: [], schedules: [], budgets: [], transactions: { totalCount: 0 } });
  });

  it('reaches nothing of the first user through _entities sent straight to the subgraph, reports and rules included', async () => {
    const entities = await eve.direct(
      `query($reps: [_Any!]!) { _entities(representations: $reps) {
        ... on Rule { id pattern }
        ... on Schedule { id payee }
        ... on Transaction { id splits { amount { amountMinor } } }
        ... on User { id rules { id } budgetReport(period: MONTHLY, on: "2025-03-01") { currency } }
      } }`,
      {
        reps: [
          { __typename: 'Rule', id: refs.rule },
          { __typename: 'Schedule', id: refs.schedule },
          { __typename: 'Transaction', id: refs.split },
          { __typename: 'User', id: ada.id, homeCurrency: 'EUR' },
        ],
      },
    );
    expect(entities.data?._entities).toEqual([null, null, null, null]);
    const codes = Object.fromEntries((entities.errors ?? []).map((e) => [String(e.path?.[1]), e.extensions?.code]));
    expect(codes).toEqual({ 0: 'NOT_FOUND', 1: 'NOT_FOUND', 2: 'NOT_FOUND', 3: 'FORBIDDEN' });

    // The owner gets the same objects by the same path.
    const own = await ada.direct('query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Rule { id } ... on Schedule { id } } }', {
      reps: [
        { __typename: 'Rule', id: refs.rule },
        { __typename: 'Schedule', id: refs.schedule },
      ],
    });
    expect(own.data?._entities).toEqual([{ id: refs.rule }, { id: refs.schedule }]);
  });

  it('refuses every new operation without a token, through the gateway and straight to the subgraph', async () => {
    const before = await h.rowCounts();
    const operations = [
      'mutation { createRule(input: { field: PAYEE, operator: CONTAINS, pattern: "x", categoryId: "' + refs.category + '" }) { id } }',
      `mutation { importTransactions(input: { accountId: "${refs.account}", format: OFX, content: "<OFX></OFX>" }) { rowCount } }`,
      `mutation { transferMoney(input: { fromAccountId: "${refs.account}", toAccountId: "${refs.account}", amount: { amountMinor: 1, currency: "EUR" }, bookedAt: "2025-03-01T00:00:00Z" }) { id } }`,
      'mutation { loadExchangeRates(csv: "date,base,quote,rate\\n2025-01-01,EUR,USD,1.1") }',
      `mutation { recategorizeTransactions(ids: ["${refs.transaction}"], categoryId: null) { id } }`,
    ];
    for (const query of operations) {
      expect((await gql(h.gatewayUrl, query)).errors?.[0]?.extensions?.code, query).toBe('UNAUTHENTICATED');
      expect((await gql(h.subgraphUrl, query)).errors?.[0]?.extensions?.code, query).toBe('UNAUTHENTICATED');
    }
    const reps = { reps: [{ __typename: 'User', id: ada.id, homeCurrency: 'EUR' }] };
    const anonymous = await gql(h.subgraphUrl, 'query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { budgetReport(period: MONTHLY) { currency } } } }', {
      variables: reps,
    });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await h.rowCounts()).toEqual(before);
  });
});

describe('exchange rates', () => {
  it('are loaded from the shipped file at start, then by admins only, all rows or none, a bad row named', async () => {
    const before = await h.rowCounts();
    // 65 business days of EUR/USD, GBP, JPY and CHF from subgraphs/budget/data/exchange-rates.csv.
    expect(Number(before!.rates)).toBeGreaterThanOrEqual(260);
    const LOAD = 'mutation($csv: String!) { loadExchangeRates(csv: $csv) }';
    expect(errorOf(await ada.ask(LOAD, { csv: 'date,base,quote,rate\n2025-01-02,EUR,USD,1.03\n' }))?.code).toBe('FORBIDDEN');
    const admin = h.person('ADMIN');
    const badRow = await admin.ask(LOAD, { csv: 'date,base,quote,rate\n2025-01-02,EUR,USD,1.03\n2025-01-03,EUR,USD,abc\n' });
    expect(errorOf(badRow)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'csv', row: 2 });
    const twice = await admin.ask(LOAD, { csv: 'date,base,quote,rate\n2025-01-02,EUR,USD,1.03\n2025-01-02,EUR,USD,1.04\n' });
    expect(errorOf(twice)).toMatchObject({ code: 'BAD_USER_INPUT', row: 2 });
    expect(await h.rowCounts()).toEqual(before);
    expect(dataOf(await admin.ask(LOAD, { csv: 'date,base,quote,rate\n2025-01-02,EUR,USD,1.03\n2025-01-02,EUR,SEK,11.49\n' }))).toEqual({ loadExchangeRates: 2 });
    expect(Number((await h.rowCounts())!.rates)).toBe(Number(before!.rates) + 2);
  });

  it('that a report needs and are missing, or an unsupported home currency, are named as bad input', async () => {
    const bob = h.person('USER', 'NOK');
    const accountId = await openAccount(bob);
    await record(bob, { accountId, amountMinor: -100, bookedAt: '2025-03-03T00:00:00Z' });
    const noRate = await bob.ask('{ me { id budgetReport(period: MONTHLY, on: "2025-03-03") { currency } } }');
    expect(errorOf(noRate)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'homeCurrency' });
    expect(noRate.data?.me?.id).toBe(bob.id);
    bob.setHomeCurrency('ABC');
    expect(errorOf(await bob.ask('{ me { transactionTotals { count } } }'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'homeCurrency' });
  });
});

describe('a budget outage', () => {
  it('leaves the rest of me intact: the budget fields are null and the error names the service', async () => {
    const other = await startHarness();
    try {
      const bob = other.person();
      await openAccount(bob);
      await other.service.stop();
      const response = await bob.ask('{ me { id homeCurrency accounts { id } transactions { totalCount } budgets { id } } }');
      expect(response.data?.me).toEqual({ id: bob.id, homeCurrency: 'EUR', accounts: null, transactions: null, budgets: null });
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', serviceName: 'budget' });
    } finally {
      await other.stop();
    }
  });
});
