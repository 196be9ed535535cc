// Issue 13, "insights that match the ledger", across the real chain: budget writes its events in
// its outbox with each change, the relay puts them on Kafka, insight applies them. Deleting a
// transaction changes the next report; a transfer changes neither income nor spending; a split
// counts in each part's category; titles show category names. Real PostgreSQL and Kafka.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInsightSchema, parseInsightEnv, startInsightService } from '@analytica/insight-subgraph';
import { printSdl } from '@analytica/subgraph';
import { dropSchema, eventually, services, uniqueName } from '@analytica/testing';
import { categoryIds, dataOf, openAccount, record, startHarness, type Harness, type Person } from './budget-harness.js';

const insightSchema = uniqueName('insight_ledger_gw');
let h: Harness;
let insight: Awaited<ReturnType<typeof startInsightService>>;

beforeAll(async () => {
  // Insight behind the same gateway as budget, so that its Category references resolve there.
  h = await startHarness({
    moreSubgraphs: async ({ authEnv, topicPrefix, redisPrefix }) => {
      insight = await startInsightService(
        parseInsightEnv({
          ...authEnv,
          PORT: '0',
          LOG_LEVEL: 'silent',
          DATABASE_URL: services.databaseUrl,
          DATABASE_SCHEMA: insightSchema,
          KAFKA_BROKERS: services.kafkaBrokers,
          KAFKA_TOPIC_PREFIX: topicPrefix,
          REDIS_KEY_PREFIX: redisPrefix,
        }),
      );
      return [{ name: 'insight', url: `${insight.url}/graphql`, sdl: printSdl(await buildInsightSchema()), stop: () => insight.stop() }];
    },
  });
});

afterAll(async () => {
  await h?.stop();
  await dropSchema(insightSchema);
});

const GENERATE = `mutation($startsOn: String!) {
  generateReport(period: MONTHLY, startsOn: $startsOn) {
    lines { flow categoryId category { name } total { amountMinor } count }
    totals { currency income { amountMinor } spending { amountMinor } }
  }
}`;
interface Report {
  lines: { flow: string; categoryId: string | null; category: { name: string } | null; total: { amountMinor: number }; count: number }[];
  totals: { currency: string; income: { amountMinor: number }; spending: { amountMinor: number } }[];
}
/** March 2025's report as insight builds it now, through the gateway (which asks budget for the category names). */
async function march(who: Person): Promise<Report> {
  return dataOf<{ generateReport: Report }>(await who.ask(GENERATE, { startsOn: '2025-03-01' })).generateReport;
}
/** Waits until insight has applied `count` transactions of the user (`deleted` of them deleted): then its reports are final. */
async function caughtUp(who: Person, count: number, deleted = 0) {
  await eventually(async () => {
    const [row] = await insight.db.orm.em
      .getConnection()
      .execute<{ applied: string; deleted: string }[]>(
        'select count(*) filter (where version > 0) as applied, count(*) filter (where deleted) as deleted from ledger_transactions where user_id = ?',
        [who.id],
      );
    return Number(row?.applied) === count && Number(row?.deleted) === deleted ? true : undefined;
  }, 30_000);
}
const totalsOf = (r: Report) => r.totals.map((t) => ({ currency: t.currency, income: t.income.amountMinor, spending: t.spending.amountMinor }));

describe('insight follows the ledger through budget, the outbox and Kafka', () => {
  it('drops a deleted transaction from the next report, leaves transfers out, counts split parts per category, and names categories in titles', { timeout: 90_000 }, async () => {
    const ada = h.person();
    const current = await openAccount(ada, { name: 'Current' });
    const savings = await openAccount(ada, { name: 'Savings account', type: 'SAVINGS' });
    const c = await categoryIds(ada);

    await record(ada, { accountId: current, amountMinor: 300_000, bookedAt: '2025-03-01T08:00:00Z', categoryId: c.Salary });
    await record(ada, { accountId: current, amountMinor: -10_000, bookedAt: '2025-02-10T10:00:00Z', categoryId: c.Groceries });
    await record(ada, { accountId: current, amountMinor: -15_000, bookedAt: '2025-03-10T10:00:00Z', categoryId: c.Groceries });
    const doomed = await record(ada, { accountId: current, amountMinor: -2_500, bookedAt: '2025-03-11T10:00:00Z', categoryId: c['Eating out'] });
    await record(ada, {
      accountId: current,
      amountMinor: -9_000,
      bookedAt: '2025-03-12T10:00:00Z',
      splits: [
        { amountMinor: -6_000, categoryId: c.Groceries },
        { amountMinor: -3_000, categoryId: c.Shopping },
      ],
    });
    const moved = await ada.ask(`mutation($input: TransferInput!) { transferMoney(input: $input) { id } }`, {
      input: { fromAccountId: current, toAccountId: savings, amount: { amountMinor: 100_000, currency: 'EUR' }, bookedAt: '2025-03-13T09:00:00Z' },
    });
    expect(moved.errors).toBeUndefined();

    // Everything but the transfer: its legs (-1000.00 and +1000.00) are neither spending nor income.
    await caughtUp(ada, 7);
    const before = await march(ada);
    expect(before.lines).toEqual([
      { flow: 'SPENDING', categoryId: c.Groceries, category: { name: 'Groceries' }, total: { amountMinor: 21_000 }, count: 2 },
      { flow: 'SPENDING', categoryId: c.Shopping, category: { name: 'Shopping' }, total: { amountMinor: 3_000 }, count: 1 },
      { flow: 'SPENDING', categoryId: c['Eating out'], category: { name: 'Eating out' }, total: { amountMinor: 2_500 }, count: 1 },
      { flow: 'INCOME', categoryId: c.Salary, category: { name: 'Salary' }, total: { amountMinor: 300_000 }, count: 1 },
    ]);
    expect(totalsOf(before)).toEqual([{ currency: 'EUR', income: 300_000, spending: 26_500 }]);

    expect(dataOf(await ada.ask('mutation($id: ID!) { deleteTransaction(id: $id) }', { id: doomed.id }))).toEqual({ deleteTransaction: true });
    await caughtUp(ada, 7, 1);
    const after = await march(ada);
    expect(after.lines).toEqual(before.lines.filter((l) => l.categoryId !== c['Eating out']));
    expect(totalsOf(after)).toEqual([{ currency: 'EUR', income: 300_000, spending: 24_000 }]);

    // Groceries: 210.00 against 100.00 in February. The title names the category, not its id.
    type Insights = { me: { insights: { kind: string; title: string; body: string; categoryId: string; category: { name: string } | null }[] } };
    const spike = async () =>
      dataOf<Insights>(await ada.ask('{ me { insights { kind title body categoryId category { name } } } }')).me.insights.find((i) => i.kind === 'SPENDING_SPIKE');
    expect(await spike()).toEqual({
      kind: 'SPENDING_SPIKE',
      categoryId: c.Groceries,
      category: { name: 'Groceries' },
      title: 'Groceries rose 110%',
      body: 'You spent 210.00 EUR on Groceries in the month from 2025-03-01, up from 100.00 EUR in the month before (+110%).',
    });

    // Renamed in budget: reports and insights show the name as it is now (asked of budget through
    // the gateway); the insight's text stays as it was written.
    expect(dataOf(await ada.ask('mutation($id: ID!) { updateCategory(id: $id, input: { name: "Food" }) { name } }', { id: c.Groceries }))).toEqual({
      updateCategory: { name: 'Food' },
    });
    expect((await march(ada)).lines[0]).toMatchObject({ categoryId: c.Groceries, category: { name: 'Food' } });
    expect(await spike()).toMatchObject({ category: { name: 'Food' }, title: 'Groceries rose 110%' });
  });
});
