import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { categoryIds, dataOf, entryInput, errorOf, OPEN, openAccount, RECORD, record, startHarness, type Harness, type Person } from './budget-harness.js';

// Accounts, categories, transactions, splits, transfers and concurrency, through the gateway.
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const balanceOf = async (who: Person, id: string) => dataOf(await who.ask('query($id: ID!) { account(id: $id) { balance { amountMinor currency } } }', { id })).account.balance;

const UPDATE = `mutation($id: ID!, $v: Int!, $input: UpdateTransactionInput!) {
  updateTransaction(id: $id, expectedVersion: $v, input: $input) { id version payee notes tags amount { amountMinor } category { id } bookedAt splits { amount { amountMinor } category { id } } }
}`;
const TRANSFER = `mutation($input: TransferInput!) {
  transferMoney(input: $input) { id from { id payee transferId amount { amountMinor currency } counterpart { id } } to { id payee transferId amount { amountMinor currency } account { id } } }
}`;

describe('accounts', () => {
  it('opens checking, savings, credit card, cash and investment accounts, each in one currency with its opening balance', async () => {
    const ada = h.person();
    const kinds: [string, string, number][] = [
      ['CHECKING', 'EUR', 150_000],
      ['SAVINGS', 'CHF', 1_000_000],
      ['CREDIT_CARD', 'USD', -45_050],
      ['CASH', 'JPY', 12_000],
      ['INVESTMENT', 'GBP', 0],
    ];
    for (const [type, currency, opening] of kinds) {
      const { openAccount: account } = dataOf(await ada.ask(OPEN, { input: { name: `${type} account`, type, currency, openingBalance: { amountMinor: opening, currency } } }));
      expect(account).toMatchObject({ type, currency, openingBalance: { amountMinor: opening, currency }, balance: { amountMinor: opening, currency } });
    }
    const { me } = dataOf(await ada.ask('{ me { accounts { type currency balance { amountMinor } } } }'));
    expect(me.accounts.map((a: { type: string }) => a.type)).toEqual(kinds.map(([type]) => type));
  });

  it('keeps the exact balance when 50 writes race on one account: each new transaction counted once, and no concurrent edit of a stored amount lost', async () => {
    const ada = h.person();
    const accountId = await openAccount(ada, { opening: 100_000 });
    const { Groceries: groceries } = await categoryIds(ada);
    // A budget on the category makes every write also lock and re-check it: the hardest path.
    dataOf(
      await ada.ask('mutation($input: SetBudgetInput!) { setBudget(input: $input) { id } }', {
        input: { categoryId: groceries, period: 'MONTHLY', startsOn: '2025-03-01', amount: { amountMinor: 1_000_000, currency: 'EUR' } },
      }),
    );
    const amounts = Array.from({ length: 50 }, (_, i) => (i % 5 === 0 ? 10_001 + i : -(1_234 + i * 17)));
    const responses = await Promise.all(
      amounts.map((amountMinor, i) => ada.ask(RECORD, { input: entryInput({ accountId, amountMinor, categoryId: groceries, payee: `Shop ${i}` }) })),
    );
    // Each write's own effect: 50 distinct transactions, each with its own payee and amount, none lost, none doubled.
    const recorded = responses.map((r) => dataOf(r).recordTransaction as { id: string; payee: string; amount: { amountMinor: number } });
    expect(new Set(recorded.map((t) => t.id)).size).toBe(50);
    expect(recorded.map((t) => [t.payee, t.amount.amountMinor])).toEqual(amounts.map((a, i) => [`Shop ${i}`, a]));
    const stored = async () => {
      const { me } = dataOf(
        await ada.ask(
          'query($f: TransactionFilter) { me { transactions(filter: $f, first: 100) { totalCount totals { net { amountMinor } } edges { node { id payee version amount { amountMinor } } } } } }',
          { f: { accountId } },
        ),
      );
      const byId = new Map((me.transactions.edges as { node: { id: string; payee: string; version: number; amount: { amountMinor: number } } }[]).map((e) => [e.node.id, e.node]));
      return { totalCount: me.transactions.totalCount as number, net: me.transactions.totals[0].net.amountMinor as number, byId };
    };
    const first = await stored();
    expect(first.totalCount).toBe(50);
    expect([...first.byId.keys()].sort()).toEqual(recorded.map((t) => t.id).sort());
    for (const t of recorded) expect(first.byId.get(t.id)).toEqual({ id: t.id, payee: t.payee, version: 1, amount: { amountMinor: t.amount.amountMinor } });
    const opening = 100_000;
    const sum = amounts.reduce((a, b) => a + b, 0);
    expect(first.net).toBe(sum);
    expect(await balanceOf(ada, accountId)).toEqual({ amountMinor: opening + sum, currency: 'EUR' });

    // A lost update needs something stored that concurrent writers read, change and write back: the
    // amounts. 50 edits, 5 on each of 10 transactions, each adds its own delta to the amount it read.
    // All read first, so on each transaction exactly one of the five wins the first round and the
    // other four get CONFLICT; they read again and retry. Every delta must be in the end result.
    const targets = recorded.slice(0, 10);
    const edits = Array.from({ length: 50 }, (_, i) => ({ target: targets[i % 10]!, delta: -(i + 1) }));
    const READ = 'query($id: ID!) { transaction(id: $id) { version amount { amountMinor } } }';
    const read = async (id: string) => dataOf(await ada.ask(READ, { id })).transaction as { version: number; amount: { amountMinor: number } };
    const write = (id: string, seen: { version: number; amount: { amountMinor: number } }, delta: number) =>
      ada.ask(UPDATE, { id, v: seen.version, input: { amount: { amountMinor: seen.amount.amountMinor + delta, currency: 'EUR' } } });
    const seen = await Promise.all(edits.map((e) => read(e.target.id)));
    const firstRound = await Promise.all(edits.map((e, i) => write(e.target.id, seen[i]!, e.delta)));
    const codes = firstRound.map((r) => (r.errors ? errorOf(r)?.code : 'OK'));
    expect(codes.filter((c) => c === 'OK')).toHaveLength(10);
    expect(codes.filter((c) => c === 'CONFLICT')).toHaveLength(40);
    await Promise.all(
      edits.map(async (e, i) => {
        if (codes[i] === 'OK') return;
        for (let attempt = 0; attempt < 50; attempt++) {
          const response = await write(e.target.id, await read(e.target.id), e.delta);
          if (!response.errors) return;
          expect(errorOf(response)?.code).toBe('CONFLICT');
        }
        throw new Error(`edit ${i} never got through`);
      }),
    );
    const last = await stored();
    expect(last.totalCount).toBe(50);
    for (const t of targets) {
      const deltas = edits.filter((e) => e.target === t).reduce((a, e) => a + e.delta, 0);
      expect(last.byId.get(t.id)).toMatchObject({ version: 6, amount: { amountMinor: t.amount.amountMinor + deltas } });
    }
    const allDeltas = edits.reduce((a, e) => a + e.delta, 0);
    expect(last.net).toBe(sum + allDeltas);
    expect(await balanceOf(ada, accountId)).toEqual({ amountMinor: opening + sum + allDeltas, currency: 'EUR' });
  });
});

describe('categories', () => {
  it("adds the user's own categories in groups, next to the default set, and refuses a name twice", async () => {
    const ada = h.person();
    const created = dataOf(
      await ada.ask('mutation($input: CreateCategoryInput!) { createCategory(input: $input) { id name group kind archivedAt } }', {
        input: { name: 'Climbing gym', group: 'Leisure', kind: 'EXPENSE' },
      }),
    ).createCategory;
    expect(created).toMatchObject({ name: 'Climbing gym', group: 'Leisure', kind: 'EXPENSE', archivedAt: null });
    const freelance = dataOf(
      await ada.ask('mutation($input: CreateCategoryInput!) { createCategory(input: $input) { id kind } }', { input: { name: 'Freelance', group: 'Income', kind: 'INCOME' } }),
    ).createCategory;
    expect(freelance.kind).toBe('INCOME');
    const { me } = dataOf(await ada.ask('{ me { categories { name group } } }'));
    expect(me.categories.filter((c: { group: string }) => c.group === 'Leisure').map((c: { name: string }) => c.name)).toEqual(['Climbing gym', 'Entertainment', 'Shopping']);
    expect(me.categories).toHaveLength(13);

    const before = await h.rowCounts();
    const twice = await ada.ask('mutation($input: CreateCategoryInput!) { createCategory(input: $input) { id } }', {
      input: { name: 'Groceries', group: 'Food', kind: 'EXPENSE' },
    });
    expect(errorOf(twice)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' });
    const renamed = dataOf(
      await ada.ask('mutation($id: ID!, $input: UpdateCategoryInput!) { updateCategory(id: $id, input: $input) { name group } }', {
        id: created.id,
        input: { name: 'Bouldering', group: 'Sport' },
      }),
    );
    expect(renamed.updateCategory).toEqual({ name: 'Bouldering', group: 'Sport' });
    expect((await h.rowCounts())!.categories).toBe(before!.categories);
  });

  it('deletes an unused category, archives a used one (history keeps it), refuses it for new use and restores it', async () => {
    const ada = h.person();
    const accountId = await openAccount(ada);
    const create = async (name: string) =>
      dataOf(await ada.ask('mutation($input: CreateCategoryInput!) { createCategory(input: $input) { id } }', { input: { name, group: 'Misc', kind: 'EXPENSE' } })).createCategory
        .id as string;
    const unused = await create('Unused');
    const used = await create('Used');
    const booked = await record(ada, { accountId, amountMinor: -500, categoryId: used });
    const DELETE = 'mutation($id: ID!) { deleteCategory(id: $id) { outcome category { id archivedAt } } }';

    expect(dataOf(await ada.ask(DELETE, { id: unused })).deleteCategory).toMatchObject({ outcome: 'DELETED', category: { id: unused } });
    const archived = dataOf(await ada.ask(DELETE, { id: used })).deleteCategory;
    expect(archived.outcome).toBe('ARCHIVED');
    expect(archived.category.archivedAt).toEqual(expect.any(String));
    const { me } = dataOf(await ada.ask('{ me { categories { id archivedAt } } }'));
    expect(me.categories.map((c: { id: string }) => c.id)).not.toContain(unused);
    expect(me.categories.find((c: { id: string }) => c.id === used).archivedAt).not.toBeNull();
    const history = dataOf(await ada.ask('query($id: ID!) { transaction(id: $id) { category { id archivedAt } } }', { id: booked.id }));
    expect(history.transaction.category.id).toBe(used);

    const before = await h.rowCounts();
    const refused = await ada.ask(RECORD, { input: entryInput({ accountId, amountMinor: -1, categoryId: used }) });
    expect(errorOf(refused)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.categoryId' });
    expect(await h.rowCounts()).toEqual(before);

    dataOf(await ada.ask('mutation($id: ID!) { restoreCategory(id: $id) { id archivedAt } }', { id: used }));
    expect((await record(ada, { accountId, amountMinor: -1, categoryId: used })).category?.id).toBe(used);
  });
});

describe('transactions', () => {
  it('records payee, notes and tags, updates them with the version it read, and deletes; the balance follows each step', async () => {
    const ada = h.person();
    const accountId = await openAccount(ada, { opening: 10_000 });
    const { Groceries: groceries, 'Eating out': eatingOut } = await categoryIds(ada);
    const booked = dataOf(
      await ada.ask(RECORD, {
        input: entryInput({ accountId, amountMinor: -2_550, categoryId: groceries, payee: '  Corner Market ', notes: 'weekly shop', tags: ['Food', 'food', ' Family '] }),
      }),
    ).recordTransaction;
    expect(booked).toMatchObject({ version: 1, payee: 'Corner Market', notes: 'weekly shop', tags: ['food', 'family'], amount: { amountMinor: -2_550, currency: 'EUR' } });
    expect(await balanceOf(ada, accountId)).toEqual({ amountMinor: 7_450, currency: 'EUR' });

    const updated = dataOf(
      await ada.ask(UPDATE, {
        id: booked.id,
        v: 1,
        input: { amount: { amountMinor: -3_000, currency: 'EUR' }, categoryId: eatingOut, notes: null, tags: ['dinner'], bookedAt: '2025-03-11T19:30:00.000Z' },
      }),
    ).updateTransaction;
    expect(updated).toMatchObject({
      version: 2,
      payee: 'Corner Market',
      notes: null,
      tags: ['dinner'],
      amount: { amountMinor: -3_000 },
      category: { id: eatingOut },
      bookedAt: '2025-03-11T19:30:00.000Z',
    });
    expect(await balanceOf(ada, accountId)).toEqual({ amountMinor: 7_000, currency: 'EUR' });

    const stale = await ada.ask(UPDATE, { id: booked.id, v: 1, input: { payee: 'Someone else' } });
    expect(errorOf(stale)).toMatchObject({ code: 'CONFLICT', currentVersion: 2 });
    const staleDelete = await ada.ask('mutation($id: ID!) { deleteTransaction(id: $id, expectedVersion: 1) }', { id: booked.id });
    expect(errorOf(staleDelete)?.code).toBe('CONFLICT');

    const uncategorised = dataOf(await ada.ask(UPDATE, { id: booked.id, v: 2, input: { categoryId: null } })).updateTransaction;
    expect(uncategorised).toMatchObject({ version: 3, category: null });
    expect(dataOf(await ada.ask('mutation($id: ID!) { deleteTransaction(id: $id, expectedVersion: 3) }', { id: booked.id }))).toEqual({ deleteTransaction: true });
    expect(await balanceOf(ada, accountId)).toEqual({ amountMinor: 10_000, currency: 'EUR' });
  });

  it('lets exactly one of two concurrent edits of one transaction win; the other gets CONFLICT and changes nothing', async () => {
    const ada = h.person();
    const accountId = await openAccount(ada);
    for (let round = 0; round < 5; round++) {
      const booked = await record(ada, { accountId, amountMinor: -1_000, payee: 'Original' });
      const [first, second] = await Promise.all([
        ada.ask(UPDATE, { id: booked.id, v: 1, input: { payee: 'Edit A', amount: { amountMinor: -1_100, currency: 'EUR' } } }),
        ada.ask(UPDATE, { id: booked.id, v: 1, input: { payee: 'Edit B', amount: { amountMinor: -1_200, currency: 'EUR' } } }),
      ]);
      const outcomes = [first, second].map((r) => (r.errors ? r.errors[0]?.extensions?.code : 'OK')).sort();
      expect(outcomes).toEqual(['CONFLICT', 'OK']);
      const winner = (first.errors ? second : first).data.updateTransaction;
      expect(winner.version).toBe(2);
      const stored = dataOf(await ada.ask('query($id: ID!) { transaction(id: $id) { payee version amount { amountMinor } } }', { id: booked.id })).transaction;
      expect(stored).toEqual({ payee: winner.payee, version: 2, amount: winner.amount });
    }
  });

  it('splits a transaction into parts that sum to it, counts each part in its category, and re-splits it', async () => {
    const ada = h.person();
    const accountId = await openAccount(ada);
    const { Groceries: groceries, Health: health, Shopping: shopping } = await categoryIds(ada);
    const split = dataOf(
      await ada.ask(RECORD, {
        input: entryInput({
          accountId,
          amountMinor: -10_000,
          payee: 'Hypermarket',
          bookedAt: '2025-03-05T10:00:00Z',
          splits: [{ amountMinor: -6_000, categoryId: groceries }, { amountMinor: -2_500, categoryId: health }, { amountMinor: -1_500 }],
        }),
      }),
    ).recordTransaction;
    expect(split.category).toBeNull();
    expect(split.splits).toEqual([
      { amount: { amountMinor: -6_000 }, category: { id: groceries } },
      { amount: { amountMinor: -2_500 }, category: { id: health } },
      { amount: { amountMinor: -1_500 }, category: null },
    ]);
    const SET = 'mutation($input: SetBudgetInput!) { setBudget(input: $input) { spent { amountMinor } } }';
    const budget = (categoryId: string) => ({ input: { categoryId, period: 'MONTHLY', startsOn: '2025-03-01', amount: { amountMinor: 50_000, currency: 'EUR' } } });
    expect(dataOf(await ada.ask(SET, budget(groceries))).setBudget.spent.amountMinor).toBe(6_000);
    expect(dataOf(await ada.ask(SET, budget(health))).setBudget.spent.amountMinor).toBe(2_500);

    const resplit = dataOf(
      await ada.ask(UPDATE, {
        id: split.id,
        v: 1,
        input: {
          amount: { amountMinor: -12_000, currency: 'EUR' },
          splits: [
            { amount: { amountMinor: -9_000, currency: 'EUR' }, categoryId: groceries },
            { amount: { amountMinor: -3_000, currency: 'EUR' }, categoryId: shopping },
          ],
        },
      }),
    ).updateTransaction;
    expect(resplit.splits.map((s: { amount: { amountMinor: number } }) => s.amount.amountMinor)).toEqual([-9_000, -3_000]);
    expect(dataOf(await ada.ask(SET, budget(groceries))).setBudget.spent.amountMinor).toBe(9_000);
    expect(dataOf(await ada.ask(SET, budget(health))).setBudget.spent.amountMinor).toBe(0);

    const merged = dataOf(await ada.ask(UPDATE, { id: split.id, v: 2, input: { splits: null, categoryId: health } })).updateTransaction;
    expect(merged).toMatchObject({ splits: [], category: { id: health } });
    expect(dataOf(await ada.ask(SET, budget(health))).setBudget.spent.amountMinor).toBe(12_000);

    const before = await h.rowCounts();
    const wrongSum = await ada.ask(RECORD, {
      input: entryInput({ accountId, amountMinor: -10_000, splits: [{ amountMinor: -6_000, categoryId: groceries }, { amountMinor: -3_999 }] }),
    });
    expect(errorOf(wrongSum)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.splits' });
    const amountWithoutParts = await ada.ask(UPDATE, {
      id: split.id,
      v: 3,
      input: { splits: [{ amount: { amountMinor: -1, currency: 'EUR' } }, { amount: { amountMinor: -2, currency: 'EUR' } }] },
    });
    expect(errorOf(amountWithoutParts)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.splits' });
    expect(await h.rowCounts()).toEqual(before);
  });

  it('re-categorises many transactions at once, all or nothing, and bumps their versions', async () => {
    const ada = h.person();
    const eve = h.person();
    const accountId = await openAccount(ada);
    const { Transport: transport } = await categoryIds(ada);
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await record(ada, { accountId, amountMinor: -100 - i, payee: `Taxi ${i}` })).id);
    const evesTransaction = (await record(eve, { accountId: await openAccount(eve), amountMinor: -1 })).id;
    const BULK = 'mutation($ids: [ID!]!, $c: ID) { recategorizeTransactions(ids: $ids, categoryId: $c) { id version category { id } } }';

    const before = await h.rowCounts();
    const withForeign = await ada.ask(BULK, { ids: [ids[0], ids[1], evesTransaction], c: transport });
    expect(errorOf(withForeign)).toMatchObject({ code: 'NOT_FOUND', field: 'ids[2]' });
    expect(await h.rowCounts()).toEqual(before);
    const { me } = dataOf(await ada.ask('{ me { transactions(filter: { uncategorized: true }) { totalCount } } }'));
    expect(me.transactions.totalCount).toBe(4);

    const done = dataOf(await ada.ask(BULK, { ids: ids.slice(0, 3), c: transport })).recategorizeTransactions;
    expect(done).toEqual(ids.slice(0, 3).map((id) => ({ id, version: 2, category: { id: transport } })));
    const after = dataOf(await ada.ask('query($f: TransactionFilter) { me { transactions(filter: $f) { totalCount } } }', { f: { categoryId: transport } }));
    expect(after.me.transactions.totalCount).toBe(3);
  });
});

describe('transfers', () => {
  it('moves money between two own accounts as two linked legs that are created and deleted together', async () => {
    const ada = h.person();
    const checking = await openAccount(ada, { opening: 50_000, name: 'Checking' });
    const savings = await openAccount(ada, { opening: 0, name: 'Savings', type: 'SAVINGS' });
    const transfer = dataOf(
      await ada.ask(TRANSFER, { input: { fromAccountId: checking, toAccountId: savings, amount: { amountMinor: 20_000, currency: 'EUR' }, bookedAt: '2025-03-03T08:00:00Z' } }),
    ).transferMoney;
    expect(transfer.from).toMatchObject({
      payee: 'Transfer to Savings',
      transferId: transfer.id,
      amount: { amountMinor: -20_000, currency: 'EUR' },
      counterpart: { id: transfer.to.id },
    });
    expect(transfer.to).toMatchObject({ payee: 'Transfer from Checking', transferId: transfer.id, amount: { amountMinor: 20_000, currency: 'EUR' }, account: { id: savings } });
    expect(await balanceOf(ada, checking)).toEqual({ amountMinor: 30_000, currency: 'EUR' });
    expect(await balanceOf(ada, savings)).toEqual({ amountMinor: 20_000, currency: 'EUR' });

    const changeAmount = await ada.ask(UPDATE, { id: transfer.to.id, v: 1, input: { amount: { amountMinor: 1, currency: 'EUR' } } });
    expect(errorOf(changeAmount)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.amount' });
    const moved = dataOf(await ada.ask(UPDATE, { id: transfer.to.id, v: 1, input: { bookedAt: '2025-03-04T08:00:00Z', notes: 'rainy day' } })).updateTransaction;
    expect(moved.bookedAt).toBe('2025-03-04T08:00:00.000Z');
    const otherLeg = dataOf(await ada.ask('query($id: ID!) { transaction(id: $id) { bookedAt version } }', { id: transfer.from.id })).transaction;
    expect(otherLeg).toEqual({ bookedAt: '2025-03-04T08:00:00.000Z', version: 2 });

    dataOf(await ada.ask('mutation($id: ID!) { deleteTransaction(id: $id) }', { id: transfer.from.id }));
    for (const id of [transfer.from.id, transfer.to.id]) {
      expect(errorOf(await ada.ask('query($id: ID!) { transaction(id: $id) { id } }', { id }))?.code).toBe('NOT_FOUND');
    }
    expect(await balanceOf(ada, checking)).toEqual({ amountMinor: 50_000, currency: 'EUR' });
    expect(await balanceOf(ada, savings)).toEqual({ amountMinor: 0, currency: 'EUR' });
  });

  it('converts a transfer between currencies at the rate of its day, or takes the amount received', async () => {
    const admin = h.person('ADMIN');
    dataOf(await admin.ask('mutation($csv: String!) { loadExchangeRates(csv: $csv) }', { csv: 'date,base,quote,rate\n2024-06-03,EUR,USD,1.0875\n2024-06-03,EUR,GBP,0.85120\n' }));
    const ada = h.person();
    const eur = await openAccount(ada, { opening: 100_000, name: 'Euro' });
    const usd = await openAccount(ada, { currency: 'USD', name: 'Dollar' });
    const gbp = await openAccount(ada, { currency: 'GBP', name: 'Pound' });
    const converted = dataOf(
      await ada.ask(TRANSFER, { input: { fromAccountId: eur, toAccountId: usd, amount: { amountMinor: 10_000, currency: 'EUR' }, bookedAt: '2024-06-03T12:00:00Z' } }),
    ).transferMoney;
    expect(converted.to.amount).toEqual({ amountMinor: 10_875, currency: 'USD' });
    // USD to GBP through EUR: 10.00 USD / 1.0875 * 0.85120 = 7.8271... GBP, rounded to 7.83.
    const cross = dataOf(
      await ada.ask(TRANSFER, { input: { fromAccountId: usd, toAccountId: gbp, amount: { amountMinor: 1_000, currency: 'USD' }, bookedAt: '2024-06-03T12:00:00Z' } }),
    ).transferMoney;
    expect(cross.to.amount).toEqual({ amountMinor: 783, currency: 'GBP' });
    const given = dataOf(
      await ada.ask(TRANSFER, {
        input: {
          fromAccountId: eur,
          toAccountId: gbp,
          amount: { amountMinor: 5_000, currency: 'EUR' },
          receivedAmount: { amountMinor: 4_210, currency: 'GBP' },
          bookedAt: '2024-06-03T12:00:00Z',
        },
      }),
    ).transferMoney;
    expect(given.to.amount).toEqual({ amountMinor: 4_210, currency: 'GBP' });
    expect(await balanceOf(ada, gbp)).toEqual({ amountMinor: 783 + 4_210, currency: 'GBP' });
  });

  it("refuses a transfer to or from someone else's account (NOT_FOUND, like an unknown one), to the same account or in the wrong currency, naming the field and writing nothing", async () => {
    const ada = h.person();
    const eve = h.person();
    const mine = await openAccount(ada, { opening: 1_000 });
    const other = await openAccount(ada, { name: 'Other' });
    const evesAccount = await openAccount(eve);
    const input = (patch: Record<string, unknown>) => ({
      input: { fromAccountId: mine, toAccountId: other, amount: { amountMinor: 100, currency: 'EUR' }, bookedAt: '2025-03-03T08:00:00Z', ...patch },
    });
    const before = await h.rowCounts();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ toAccountId: evesAccount }, 'input.toAccountId', 'NOT_FOUND'],
      [{ toAccountId: randomUUID() }, 'input.toAccountId', 'NOT_FOUND'],
      [{ fromAccountId: evesAccount }, 'input.fromAccountId', 'NOT_FOUND'],
      [{ fromAccountId: evesAccount, toAccountId: evesAccount }, 'input.fromAccountId', 'NOT_FOUND'],
      [{ toAccountId: mine }, 'input.toAccountId', 'BAD_USER_INPUT'],
      [{ amount: { amountMinor: 100, currency: 'USD' } }, 'input.amount.currency', 'BAD_USER_INPUT'],
      [{ amount: { amountMinor: -100, currency: 'EUR' } }, 'input.amount.amountMinor', 'BAD_USER_INPUT'],
      [{ receivedAmount: { amountMinor: 99, currency: 'EUR' } }, 'input.receivedAmount', 'BAD_USER_INPUT'],
    ];
    for (const [patch, field, code] of cases) expect(errorOf(await ada.ask(TRANSFER, input(patch))), field).toMatchObject({ code, field });
    expect(await h.rowCounts()).toEqual(before);
    expect(await balanceOf(eve, evesAccount)).toEqual({ amountMinor: 0, currency: 'EUR' });
  });
});

describe('bad input', () => {
  it('refuses an unknown currency, a wrong one, an impossible date and a fractional amount, naming the field, and writes nothing', async () => {
    const ada = h.person();
    const accountId = await openAccount(ada);
    const before = await h.rowCounts();
    const valid = entryInput({ accountId, amountMinor: -100 });
    const cases: [Record<string, unknown>, string][] = [
      [{ ...valid, amount: { amountMinor: -100, currency: 'XYZ' } }, 'input.amount.currency'],
      [{ ...valid, amount: { amountMinor: -100, currency: 'USD' } }, 'input.amount.currency'],
      [{ ...valid, tags: [''] }, 'input.tags[0]'],
    ];
    for (const [input, field] of cases) expect(errorOf(await ada.ask(RECORD, { input })), field).toMatchObject({ code: 'BAD_USER_INPUT', field });
    // Refused by the scalar types themselves while the subgraph reads the variables: the message
    // names the argument path. (Asked of the subgraph directly: the gateway currently reports a
    // subgraph's HTTP 400 as "400: Bad Request" instead of passing its error on; see the report.)
    for (const [input, path] of [
      [{ ...valid, bookedAt: '2025-02-30T10:00:00Z' }, 'input.bookedAt'],
      [{ ...valid, amount: { amountMinor: 12.5, currency: 'EUR' } }, 'input.amount.amountMinor'],
    ] as const) {
      const response = await ada.direct(RECORD, { input });
      expect(response.errors?.[0]?.extensions?.code, path).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0]?.message).toContain(path);
      expect((await ada.ask(RECORD, { input })).data?.recordTransaction ?? null).toBeNull();
    }
    // Dates this service reads itself are refused through the gateway with the field named.
    const { Groceries: groceries } = await categoryIds(ada);
    const impossible = await ada.ask('mutation($input: SetBudgetInput!) { setBudget(input: $input) { id } }', {
      input: { categoryId: groceries, period: 'MONTHLY', startsOn: '2025-02-30', amount: { amountMinor: 100, currency: 'EUR' } },
    });
    expect(errorOf(impossible)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.startsOn' });
    const account = await ada.ask(OPEN, { input: { name: 'Travel', type: 'CASH', currency: 'EURO' } });
    expect(errorOf(account)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.currency' });
    expect(await h.rowCounts()).toEqual(before);
  });
});
