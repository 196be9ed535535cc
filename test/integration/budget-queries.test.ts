import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { categoryIds, dataOf, entryInput, errorOf, openAccount, RECORD, record, startHarness, type Entry, type Harness, type Person } from './budget-harness.js';

// Transaction lists: filters, sort orders, cursors, totals, and the SQL a page costs, through the gateway.
const statements: string[] = [];
let h: Harness;
let ada: Person;
/** Transaction ids by the name the test gives them. */
const ids: Record<string, string> = {};
/** Accounts and categories of the data set. */
let refs: Record<'a' | 'b' | 'c' | 'groceries', string>;

const LIST = `query($filter: TransactionFilter, $first: Int, $after: String, $sort: TransactionSort) {
  me { transactions(filter: $filter, first: $first, after: $after, sort: $sort) {
    totalCount
    totals { currency count inflow { amountMinor } outflow { amountMinor } net { amountMinor } }
    edges { cursor node { id payee amount { amountMinor currency } } }
    pageInfo { hasNextPage endCursor }
  } }
}`;

async function list(filter: Record<string, unknown> | null, options: { first?: number; after?: string | null; sort?: string } = {}) {
  return dataOf(await ada.ask(LIST, { filter, first: options.first ?? 50, after: options.after ?? null, sort: options.sort ?? null })).me.transactions;
}
const names = (connection: { edges: { node: { id: string } }[] }) => {
  const byId = Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name]));
  return connection.edges.map((e) => byId[e.node.id]).sort();
};

beforeAll(async () => {
  h = await startHarness({ onQuery: (sql) => statements.push(sql) });
  ada = h.person('USER', 'USD');
  const a = await openAccount(ada, { name: 'A', opening: 500_000 });
  const b = await openAccount(ada, { name: 'B' });
  const c = await openAccount(ada, { name: 'C', currency: 'USD' });
  const { Groceries: groceries, Rent: rent, Utilities: utilities, Salary: salary } = await categoryIds(ada);
  const entries: [string, Entry][] = [
    ['groceries', { accountId: a, amountMinor: -4_250, bookedAt: '2025-03-01T08:00:00Z', payee: 'Corner Market', categoryId: groceries, notes: 'milk and bread', tags: ['food'] }],
    ['rent', { accountId: a, amountMinor: -110_000, bookedAt: '2025-03-02T09:00:00Z', payee: 'Landlord Ltd', categoryId: rent, tags: ['home'] }],
    ['power', { accountId: a, amountMinor: -8_900, bookedAt: '2025-03-03T10:00:00Z', payee: 'Power & Light', categoryId: utilities, notes: 'March bill', tags: ['home', 'bills'] }],
    ['salary', { accountId: b, amountMinor: 320_000, bookedAt: '2025-03-04T11:00:00Z', payee: 'Acme Corp', categoryId: salary }],
    ['snack', { accountId: a, amountMinor: -1_250, bookedAt: '2025-03-05T12:00:00Z', payee: 'corner market express', tags: ['food', 'snacks'] }],
    [
      'split',
      {
        accountId: a,
        amountMinor: -3_000,
        bookedAt: '2025-03-06T13:00:00Z',
        payee: 'Hypermarket',
        notes: '100%_pure juice',
        splits: [
          { amountMinor: -2_000, categoryId: groceries },
          { amountMinor: -1_000, categoryId: utilities },
        ],
      },
    ],
    ['diner', { accountId: c, amountMinor: -2_000, currency: 'USD', bookedAt: '2025-03-07T14:00:00Z', payee: 'Diner', categoryId: groceries }],
  ];
  for (const [name, entry] of entries) ids[name] = (await record(ada, entry)).id;
  const transfer = dataOf(
    await ada.ask('mutation($input: TransferInput!) { transferMoney(input: $input) { from { id } to { id } } }', {
      input: { fromAccountId: a, toAccountId: b, amount: { amountMinor: 5_000, currency: 'EUR' }, bookedAt: '2025-03-08T15:00:00Z' },
    }),
  ).transferMoney;
  ids.transferOut = transfer.from.id;
  ids.transferIn = transfer.to.id;
  refs = { a, b, c, groceries };
});

afterAll(async () => {
  await h?.stop();
});

describe('filters', () => {
  it('filters by time window, account, category (parts included) and group', async () => {
    const { a, b, groceries } = refs;
    expect(names(await list({ from: '2025-03-02T09:00:00Z', to: '2025-03-04T11:00:00Z' }))).toEqual(['power', 'rent']);
    expect(names(await list({ accountId: b }))).toEqual(['salary', 'transferIn']);
    expect(names(await list({ categoryId: groceries }))).toEqual(['diner', 'groceries', 'split']);
    expect(names(await list({ group: 'Housing' }))).toEqual(['power', 'rent', 'split']);
    expect(names(await list({ accountId: a, tags: ['home'], from: '2025-03-03T00:00:00Z' }))).toEqual(['power']);
  });

  it('filters by amount range, payee and notes text (ignoring case, with % and _ taken literally), tags and uncategorised', async () => {
    expect(names(await list({ minAmount: -5_000, maxAmount: -1_000 }))).toEqual(['diner', 'groceries', 'snack', 'split', 'transferOut']);
    expect(names(await list({ minAmount: 0 }))).toEqual(['salary', 'transferIn']);
    expect(names(await list({ payee: 'CORNER' }))).toEqual(['groceries', 'snack']);
    expect(names(await list({ notes: 'march' }))).toEqual(['power']);
    expect(names(await list({ notes: '100%' }))).toEqual(['split']);
    expect(names(await list({ search: '%' }))).toEqual(['split']);
    expect(names(await list({ search: 'market' }))).toEqual(['groceries', 'snack', 'split']);
    expect(names(await list({ tags: ['food'] }))).toEqual(['groceries', 'snack']);
    expect(names(await list({ tags: ['FOOD', 'snacks'] }))).toEqual(['snack']);
    expect(names(await list({ uncategorized: true }))).toEqual(['snack']);
    expect((await list({ uncategorized: false })).totalCount).toBe(8);
  });

  it('totals the whole filtered set per currency, across pages', async () => {
    const page = await list({ to: '2025-03-08T00:00:00Z' }, { first: 2 });
    expect(page.edges).toHaveLength(2);
    expect(page.totalCount).toBe(7);
    expect(page.totals).toEqual([
      { currency: 'EUR', count: 6, inflow: { amountMinor: 320_000 }, outflow: { amountMinor: -127_400 }, net: { amountMinor: 192_600 } },
      { currency: 'USD', count: 1, inflow: { amountMinor: 0 }, outflow: { amountMinor: -2_000 }, net: { amountMinor: -2_000 } },
    ]);
  });

  it("totals a filtered set in the user's home currency, each day at that day's rate (or the last one before it)", async () => {
    const admin = h.person('ADMIN');
    dataOf(await admin.ask('mutation($csv: String!) { loadExchangeRates(csv: $csv) }', { csv: 'date,base,quote,rate\n2025-03-03,EUR,USD,1.0800\n2025-03-05,EUR,USD,1.0900\n' }));
    const { me } = dataOf(
      await ada.ask('query($f: TransactionFilter) { me { transactionTotals(filter: $f) { count inflow { amountMinor currency } outflow { amountMinor } net { amountMinor } } } }', {
        f: { to: '2025-03-08T00:00:00Z' },
      }),
    );
    // 1 and 2 March precede the first rate and take it; 5 March -12.50 EUR is -13.625 USD, rounded half away from zero.
    const outflow = -(4_590 + 118_800 + 9_612 + 1_363 + 3_270 + 2_000);
    expect(me.transactionTotals).toEqual({
      count: 7,
      inflow: { amountMinor: 345_600, currency: 'USD' },
      outflow: { amountMinor: outflow },
      net: { amountMinor: 345_600 + outflow },
    });
  });

  it('refuses a malformed filter, naming the field', async () => {
    for (const [filter, field] of [
      [{ accountId: 'nope' }, 'filter.accountId'],
      [{ minAmount: 10, maxAmount: 5 }, 'filter.maxAmount'],
      [{ payee: '' }, 'filter.payee'],
      [{ from: '2025-03-02T00:00:00Z', to: '2025-03-01T00:00:00Z' }, 'filter.to'],
    ] as const) {
      const response = await ada.ask(LIST, { filter, first: 5 });
      expect(errorOf(response), field).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });
});

describe('sorting and cursors', () => {
  async function walk(sort: string, size: number) {
    const seen: { id: string; payee: string; amount: { amountMinor: number } }[] = [];
    let after: string | null = null;
    do {
      const page = await list(null, { first: size, after, sort });
      seen.push(...page.edges.map((e: { node: (typeof seen)[number] }) => e.node));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    return seen;
  }

  it('pages through every sort order without gaps or repeats, in the order of a single page', async () => {
    for (const sort of ['BOOKED_AT_DESC', 'BOOKED_AT_ASC', 'AMOUNT_ASC', 'AMOUNT_DESC', 'PAYEE_ASC', 'PAYEE_DESC']) {
      const single = (await list(null, { first: 50, sort })).edges.map((e: { node: { id: string } }) => e.node.id);
      expect(single, sort).toHaveLength(9);
      for (const size of [1, 2, 4])
        expect(
          (await walk(sort, size)).map((t) => t.id),
          `${sort} by ${size}`,
        ).toEqual(single);
    }
    const byAmount = await walk('AMOUNT_ASC', 3);
    expect(byAmount.map((t) => t.amount.amountMinor)).toEqual([-110_000, -8_900, -5_000, -4_250, -3_000, -2_000, -1_250, 5_000, 320_000]);
    expect((await walk('AMOUNT_DESC', 3)).map((t) => t.id)).toEqual(byAmount.map((t) => t.id).reverse());
    const newestFirst = await walk('BOOKED_AT_DESC', 3);
    expect(
      newestFirst
        .slice(0, 2)
        .map((t) => t.id)
        .sort(),
    ).toEqual([ids.transferIn, ids.transferOut].sort());
    expect((await walk('BOOKED_AT_ASC', 3)).map((t) => t.id)).toEqual(newestFirst.map((t) => t.id).reverse());
  });

  it('refuses a cursor from another sort order, naming `after`', async () => {
    const page = await list(null, { first: 2, sort: 'AMOUNT_ASC' });
    const response = await ada.ask(LIST, { filter: null, first: 2, after: page.pageInfo.endCursor, sort: 'PAYEE_ASC' });
    expect(errorOf(response)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });
});

describe('the cost of a page', () => {
  it('reads a page of transactions with account, category and tags in 3 SQL statements, for 10 rows as for 100', async () => {
    const bob = h.person();
    const accountIds = [await openAccount(bob, { name: 'X' }), await openAccount(bob, { name: 'Y' }), await openAccount(bob, { name: 'Z' })];
    const categories = Object.values(await categoryIds(bob));
    for (let batch = 0; batch < 6; batch++) {
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) => {
          const n = batch * 20 + i;
          return bob.ask(RECORD, {
            input: entryInput({
              accountId: accountIds[n % 3]!,
              categoryId: n % 4 === 0 ? null : categories[n % categories.length],
              amountMinor: -(n + 1),
              bookedAt: new Date(Date.UTC(2025, 0, 1) + n * 3_600_000).toISOString(),
              tags: n % 2 ? ['even'] : ['odd', `t${n % 7}`],
            }),
          });
        }),
      );
      for (const response of responses) expect(response.errors).toBeUndefined();
    }
    const PAGE = `query($first: Int) { me { transactions(first: $first) { edges { node { id tags account { id name } category { id name } } } } } }`;
    const FULL = `query($first: Int) { me { transactions(first: $first, sort: AMOUNT_ASC) { totalCount totals { net { amountMinor } }
      edges { node { id tags account { id name balance { amountMinor } } category { id group } splits { amount { amountMinor } category { id } } counterpart { id } } } } } }`;
    const cost = async (query: string, first: number) => {
      statements.length = 0;
      const { me } = dataOf(await bob.ask(query, { first }));
      expect(me.transactions.edges).toHaveLength(first);
      expect(me.transactions.edges.every((e: { node: { tags: string[]; account: { id: string } } }) => e.node.tags.length > 0 && e.node.account.id)).toBe(true);
      // The outbox relay polls in the background; everything else is this request's. MikroORM colours
      // its query log, so the ANSI escapes are stripped first.
      return (
        statements
          // eslint-disable-next-line no-control-regex
          .map((line) => line.replace(/\u001b\[[0-9;]*m/g, ''))
          .filter((sql) => /^\[query\] (select|insert|update|delete|with)\b/i.test(sql) && !/\boutbox\b/.test(sql)).length
      );
    };
    const small = await cost(PAGE, 10);
    const large = await cost(PAGE, 100);
    // The page itself, then one statement for its accounts and one for its categories.
    expect({ small, large }).toEqual({ small: 3, large: 3 });
    // Everything a list view may ask for costs a fixed number too.
    const fullSmall = await cost(FULL, 10);
    const fullLarge = await cost(FULL, 100);
    expect(fullLarge).toBe(fullSmall);
    expect(fullLarge).toBeLessThanOrEqual(8);
  });
});
