import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, runConsumer, type Consumer, type Event, type EventBus } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { eventually, services, uniqueName } from '@analytica/testing';
import { categoryIds, dataOf, entryInput, errorOf, openAccount, RECORD, record, startHarness, type Harness, type Person } from './budget-harness.js';

// Budgets, rollover, copying, budget against actual, and budget.overspent.v1 read back from Kafka.
let h: Harness;
let bus: EventBus;
let consumer: Consumer;
const overspent: Event<'budget.overspent.v1'>[] = [];

beforeAll(async () => {
  h = await startHarness();
  const logger = createLogger('test', 'silent');
  bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'budget-overspent-test', prefix: h.topicPrefix, logger });
  consumer = await runConsumer({ bus, logger, groupId: uniqueName('overspent'), topic: 'budget.overspent.v1', handle: async (e) => void overspent.push(e) });
});

afterAll(async () => {
  await consumer?.stop();
  await bus?.close();
  await h?.stop();
});

const SET = `mutation($input: SetBudgetInput!) { setBudget(input: $input) {
  id period startsOn endsOn rollover overspent amount { amountMinor currency } spent { amountMinor } carriedIn { amountMinor } available { amountMinor } remaining { amountMinor }
} }`;
const setBudget = async (who: Person, input: Record<string, unknown>) => dataOf(await who.ask(SET, { input })).setBudget;
const money = (amountMinor: number, currency = 'EUR') => ({ amountMinor, currency });

describe('budgets', () => {
  it('budgets a category per month or per ISO week, counting spending net of refunds in each period', async () => {
    const ada = h.person();
    const accountId = await openAccount(ada);
    const { Groceries: groceries } = await categoryIds(ada);
    await record(ada, { accountId, categoryId: groceries, amountMinor: -3_000, bookedAt: '2025-03-03T09:00:00Z' }); // Monday, week 10
    await record(ada, { accountId, categoryId: groceries, amountMinor: -2_000, bookedAt: '2025-03-09T23:59:59Z' }); // Sunday, week 10
    await record(ada, { accountId, categoryId: groceries, amountMinor: 500, bookedAt: '2025-03-10T00:00:00Z' }); // refund, week 11
    await record(ada, { accountId, categoryId: groceries, amountMinor: -1_000, bookedAt: '2025-03-31T23:59:59Z' });
    const monthly = await setBudget(ada, { categoryId: groceries, period: 'MONTHLY', startsOn: '2025-03-15', amount: money(10_000) });
    expect(monthly).toMatchObject({
      startsOn: '2025-03-01',
      endsOn: '2025-03-31',
      rollover: 'NONE',
      overspent: false,
      spent: { amountMinor: 5_500 },
      remaining: { amountMinor: 4_500 },
    });
    const week10 = await setBudget(ada, { categoryId: groceries, period: 'WEEKLY', startsOn: '2025-03-05', amount: money(4_000) });
    expect(week10).toMatchObject({ startsOn: '2025-03-03', endsOn: '2025-03-09', spent: { amountMinor: 5_000 }, remaining: { amountMinor: -1_000 }, overspent: true });
    const week11 = await setBudget(ada, { categoryId: groceries, period: 'WEEKLY', startsOn: '2025-03-10', amount: money(4_000) });
    expect(week11).toMatchObject({ spent: { amountMinor: -500 }, remaining: { amountMinor: 4_500 } });
    const { me } = dataOf(await ada.ask('{ me { weekly: budgets(period: WEEKLY) { startsOn } all: budgets { id } } }'));
    expect(me.weekly).toEqual([{ startsOn: '2025-03-10' }, { startsOn: '2025-03-03' }]);
    expect(me.all).toHaveLength(3);
  });

  it('rolls over what is left, and a shortfall only when asked to, along consecutive periods', async () => {
    const ada = h.person();
    const accountId = await openAccount(ada);
    const { 'Eating out': eatingOut } = await categoryIds(ada);
    await record(ada, { accountId, categoryId: eatingOut, amountMinor: -7_000, bookedAt: '2025-01-10T12:00:00Z' });
    await record(ada, { accountId, categoryId: eatingOut, amountMinor: -14_000, bookedAt: '2025-02-10T12:00:00Z' });
    await record(ada, { accountId, categoryId: eatingOut, amountMinor: -1_000, bookedAt: '2025-03-10T12:00:00Z' });
    const budget = (month: string, rollover: string) => ({ categoryId: eatingOut, period: 'MONTHLY', startsOn: month, amount: money(10_000), rollover });
    // January leaves 30.00, which February receives: 130.00 available, 140.00 spent, 10.00 short.
    await setBudget(ada, budget('2025-01-01', 'LEFTOVER'));
    const february = await setBudget(ada, budget('2025-02-01', 'LEFTOVER'));
    expect(february).toMatchObject({ carriedIn: { amountMinor: 3_000 }, available: { amountMinor: 13_000 }, remaining: { amountMinor: -1_000 } });
    // LEFTOVER does not carry the shortfall into March.
    const march = await setBudget(ada, budget('2025-03-01', 'NONE'));
    expect(march).toMatchObject({ carriedIn: { amountMinor: 0 }, available: { amountMinor: 10_000 }, remaining: { amountMinor: 9_000 } });
    // With LEFTOVER_AND_OVERSPENDING it does; an existing budget keeps its amount when only rollover changes.
    dataOf(await ada.ask(SET, { input: budget('2025-02-01', 'LEFTOVER_AND_OVERSPENDING') }));
    const { me } = dataOf(await ada.ask('{ me { budgets(period: MONTHLY) { startsOn rollover carriedIn { amountMinor } available { amountMinor } remaining { amountMinor } } } }'));
    expect(me.budgets).toEqual([
      { startsOn: '2025-03-01', rollover: 'NONE', carriedIn: { amountMinor: -1_000 }, available: { amountMinor: 9_000 }, remaining: { amountMinor: 8_000 } },
      { startsOn: '2025-02-01', rollover: 'LEFTOVER_AND_OVERSPENDING', carriedIn: { amountMinor: 3_000 }, available: { amountMinor: 13_000 }, remaining: { amountMinor: -1_000 } },
      { startsOn: '2025-01-01', rollover: 'LEFTOVER', carriedIn: { amountMinor: 0 }, available: { amountMinor: 10_000 }, remaining: { amountMinor: 3_000 } },
    ]);
    // A period without a budget breaks the chain.
    const may = await setBudget(ada, budget('2025-05-01', 'NONE'));
    expect(may.carriedIn.amountMinor).toBe(0);
  });

  it("copies the previous period's budgets into a period, keeping budgets already there", async () => {
    const ada = h.person();
    const { Groceries: groceries, Rent: rent, Transport: transport } = await categoryIds(ada);
    await setBudget(ada, { categoryId: groceries, period: 'MONTHLY', startsOn: '2025-04-01', amount: money(40_000), rollover: 'LEFTOVER' });
    await setBudget(ada, { categoryId: rent, period: 'MONTHLY', startsOn: '2025-04-01', amount: money(110_000) });
    await setBudget(ada, { categoryId: transport, period: 'MONTHLY', startsOn: '2025-05-01', amount: money(5_000) });
    await setBudget(ada, { categoryId: rent, period: 'MONTHLY', startsOn: '2025-05-01', amount: money(120_000) });
    const COPY = 'mutation($input: CopyBudgetsInput!) { copyBudgets(input: $input) { startsOn rollover amount { amountMinor } category { name } } }';
    const copied = dataOf(await ada.ask(COPY, { input: { period: 'MONTHLY', startsOn: '2025-05-20' } })).copyBudgets;
    const byName = Object.fromEntries(copied.map((b: { category: { name: string } }) => [b.category.name, b]));
    expect(byName).toEqual({
      Groceries: { startsOn: '2025-05-01', rollover: 'LEFTOVER', amount: { amountMinor: 40_000 }, category: { name: 'Groceries' } },
      Rent: { startsOn: '2025-05-01', rollover: 'NONE', amount: { amountMinor: 120_000 }, category: { name: 'Rent' } },
      Transport: { startsOn: '2025-05-01', rollover: 'NONE', amount: { amountMinor: 5_000 }, category: { name: 'Transport' } },
    });
    const before = await h.rowCounts();
    const nothing = await ada.ask(COPY, { input: { period: 'WEEKLY', startsOn: '2025-05-20' } });
    expect(errorOf(nothing)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.startsOn' });
    const impossible = await ada.ask(COPY, { input: { period: 'MONTHLY', startsOn: '2025-04-31' } });
    expect(errorOf(impossible)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.startsOn' });
    expect(await h.rowCounts()).toEqual(before);
  });
});

describe('budget against actual', () => {
  it("reports each category's budget and actual in the home currency, every transaction at the rate of its day", async () => {
    const admin = h.person('ADMIN');
    dataOf(
      await admin.ask('mutation($csv: String!) { loadExchangeRates(csv: $csv) }', {
        csv: ['date,base,quote,rate', '2024-09-02,EUR,GBP,0.84250', '2024-09-02,EUR,USD,1.1050', '2024-09-16,EUR,GBP,0.84500', '2024-09-16,EUR,USD,1.1100'].join('\n'),
      }),
    );
    const ada = h.person('USER', 'GBP');
    const eur = await openAccount(ada, { name: 'Euro' });
    const usd = await openAccount(ada, { name: 'Dollar', currency: 'USD' });
    const gbp = await openAccount(ada, { name: 'Pound', currency: 'GBP' });
    const { Groceries: groceries, Rent: rent, Salary: salary } = await categoryIds(ada);
    await record(ada, { accountId: eur, categoryId: groceries, amountMinor: -10_000, bookedAt: '2024-09-05T10:00:00Z' }); // 84.25 GBP
    await record(ada, { accountId: eur, categoryId: groceries, amountMinor: -10_000, bookedAt: '2024-09-20T10:00:00Z' }); // 84.50 GBP
    await record(ada, { accountId: usd, currency: 'USD', categoryId: groceries, amountMinor: -5_525, bookedAt: '2024-09-03T10:00:00Z' }); // 55.25 USD = 50 EUR = 42.125 -> 42.13 GBP
    await record(ada, { accountId: gbp, currency: 'GBP', categoryId: rent, amountMinor: -95_000, bookedAt: '2024-09-01T10:00:00Z' });
    await record(ada, { accountId: eur, categoryId: salary, amountMinor: 300_000, bookedAt: '2024-09-25T10:00:00Z' }); // 2535.00 GBP
    await record(ada, { accountId: gbp, currency: 'GBP', amountMinor: -1_234, bookedAt: '2024-09-10T10:00:00Z', payee: 'Unknown' });
    await record(ada, { accountId: eur, categoryId: groceries, amountMinor: -99_999, bookedAt: '2024-10-01T00:00:00Z' }); // next month
    await setBudget(ada, { categoryId: groceries, period: 'MONTHLY', startsOn: '2024-09-01', amount: money(25_000) }); // 210.625 -> 210.63 GBP at 2 Sep
    await setBudget(ada, { categoryId: rent, period: 'MONTHLY', startsOn: '2024-09-01', amount: money(95_000, 'GBP') });

    const { me } = dataOf(
      await ada.ask(`{ me { budgetReport(period: MONTHLY, on: "2024-09-14") {
        period startsOn endsOn currency budgeted { amountMinor currency } spent { amountMinor } income { amountMinor } uncategorized { amountMinor } net { amountMinor }
        lines { category { name } budget { id } budgeted { amountMinor } actual { amountMinor } spent { amountMinor } remaining { amountMinor } }
      } } }`),
    );
    const report = me.budgetReport;
    expect(report).toMatchObject({ period: 'MONTHLY', startsOn: '2024-09-01', endsOn: '2024-09-30', currency: 'GBP' });
    const lines = Object.fromEntries(report.lines.map((l: { category: { name: string } }) => [l.category.name, l]));
    expect(lines.Groceries).toMatchObject({
      budgeted: { amountMinor: 21_063 },
      actual: { amountMinor: -(8_425 + 8_450 + 4_213) },
      spent: { amountMinor: 21_088 },
      remaining: { amountMinor: -25 },
    });
    expect(lines.Rent).toMatchObject({ budgeted: { amountMinor: 95_000 }, spent: { amountMinor: 95_000 }, remaining: { amountMinor: 0 } });
    expect(lines.Salary).toMatchObject({ budget: null, budgeted: null, actual: { amountMinor: 253_500 }, remaining: null });
    expect(Object.keys(lines).sort()).toEqual(['Groceries', 'Rent', 'Salary']);
    expect(report).toMatchObject({
      budgeted: { amountMinor: 116_063, currency: 'GBP' },
      spent: { amountMinor: 116_088 },
      income: { amountMinor: 253_500 },
      uncategorized: { amountMinor: -1_234 },
      net: { amountMinor: 253_500 - 116_088 - 1_234 },
    });

    // Another home currency, the same data: the conversion follows the user's choice.
    ada.setHomeCurrency('USD');
    const inUsd = dataOf(await ada.ask('{ me { budgetReport(period: MONTHLY, on: "2024-09-14") { currency income { amountMinor currency } } } }')).me.budgetReport;
    expect(inUsd).toEqual({ currency: 'USD', income: { amountMinor: 333_000, currency: 'USD' } });
  });
});

describe('budget.overspent.v1', () => {
  it('is emitted exactly once per crossing of the limit, read back from Kafka, whatever write causes it', async () => {
    const ada = h.person();
    const accountId = await openAccount(ada, { opening: 1_000_000 });
    const { Groceries: groceries, Shopping: shopping } = await categoryIds(ada);
    const budget = await setBudget(ada, { categoryId: groceries, period: 'MONTHLY', startsOn: '2025-06-01', amount: money(10_000) });
    const june = (day: number) => `2025-06-${String(day).padStart(2, '0')}T12:00:00Z`;
    const mine = () => overspent.filter((e) => e.payload.userId === ada.id);
    const outboxCount = async () =>
      Number(
        (await h.service.db.fork().getConnection().execute<{ n: string }[]>(`select count(*) as n from outbox where topic = 'budget.overspent.v1' and key = ?`, [ada.id]))[0]?.n,
      );

    await record(ada, { accountId, categoryId: groceries, amountMinor: -6_000, bookedAt: june(2) }); // 60 of 100: under
    const crossing = await record(ada, { accountId, categoryId: groceries, amountMinor: -5_000, bookedAt: june(3) }); // 110: crossing 1
    await record(ada, { accountId, categoryId: groceries, amountMinor: -1_000, bookedAt: june(4) }); // 120: still over, nothing
    dataOf(await ada.ask('mutation($id: ID!) { deleteTransaction(id: $id) }', { id: crossing.id })); // 70: back under
    await record(ada, { accountId, categoryId: groceries, amountMinor: -4_000, bookedAt: june(5) }); // 110: crossing 2
    await record(ada, { accountId, categoryId: groceries, amountMinor: 2_000, bookedAt: june(6), payee: 'Refund' }); // 90: back under
    const shirt = await record(ada, { accountId, categoryId: shopping, amountMinor: -3_000, bookedAt: june(7) });
    dataOf(await ada.ask('mutation($ids: [ID!]!, $c: ID) { recategorizeTransactions(ids: $ids, categoryId: $c) { id } }', { ids: [shirt.id], c: groceries })); // 120: crossing 3
    dataOf(await ada.ask('mutation($id: ID!, $v: Int!) { updateTransaction(id: $id, expectedVersion: $v, input: { categoryId: null }) { id } }', { id: shirt.id, v: 2 })); // 90
    await setBudget(ada, { categoryId: groceries, period: 'MONTHLY', startsOn: '2025-06-01', amount: money(8_000) }); // limit 80 under 90: crossing 4
    await setBudget(ada, { categoryId: groceries, period: 'MONTHLY', startsOn: '2025-06-01', amount: money(10_000) }); // back under
    // Twenty writes at once push July over: one of them crosses, once.
    const july = await setBudget(ada, { categoryId: groceries, period: 'MONTHLY', startsOn: '2025-07-01', amount: money(10_000) });
    const racing = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        ada.ask(RECORD, { input: entryInput({ accountId, categoryId: groceries, amountMinor: -600, bookedAt: `2025-07-${String(i + 1).padStart(2, '0')}T08:00:00Z` }) }),
      ),
    );
    for (const response of racing) expect(response.errors).toBeUndefined(); // 120 of 100: crossing 5
    // Refused input writes no event either.
    const refused = await ada.ask(RECORD, { input: entryInput({ accountId, categoryId: groceries, amountMinor: -100_000, currency: 'USD', bookedAt: june(8) }) });
    expect(errorOf(refused)?.code).toBe('BAD_USER_INPUT');

    expect(await outboxCount()).toBe(5);
    await eventually(async () => (mine().length >= 5 ? true : undefined), 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const events = mine();
    expect(events).toHaveLength(5);
    expect(events.map((e) => [e.payload.budgetId, e.payload.limitMinor, e.payload.spentMinor])).toEqual([
      [budget.id, '10000', '11000'],
      [budget.id, '10000', '11000'],
      [budget.id, '10000', '12000'],
      [budget.id, '8000', '9000'],
      // Writers are serialised on the budget row: the 17th of the 20 crosses, seeing exactly 17 x 6.00.
      [july.id, '10000', '10200'],
    ]);
    for (const event of events) {
      expect(event.key).toBe(ada.id);
      expect(event.payload).toMatchObject({ userId: ada.id, categoryId: groceries, period: 'MONTHLY', currency: 'EUR' });
      expect(Number(event.payload.spentMinor)).toBeGreaterThan(Number(event.payload.limitMinor));
    }
    expect(events[4]!.payload.startsOn).toBe('2025-07-01');
    const { me } = dataOf(await ada.ask('{ me { budgets { startsOn overspent spent { amountMinor } } } }'));
    expect(me.budgets).toEqual([
      { startsOn: '2025-07-01', overspent: true, spent: { amountMinor: 12_000 } },
      { startsOn: '2025-06-01', overspent: false, spent: { amountMinor: 9_000 } },
    ]);
  });
});
