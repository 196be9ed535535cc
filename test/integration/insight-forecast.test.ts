// Issue 13, budget forecasts across the real chain: budget writes budget.set.v1 and the transactions'
// events in its outbox, the relay puts them on Kafka, insight keeps the budget and projects its
// spending. Real PostgreSQL and Kafka; insight's clock is set to 2026-03-10, so the figures are exact.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInsightEnv, startInsightService } from '@analytica/insight-subgraph';
import { dropSchema, eventually, gql, services, uniqueName } from '@analytica/testing';
import { categoryIds, dataOf, openAccount, record, startHarness, type Harness, type Person } from './budget-harness.js';

const insightSchema = uniqueName('insight_forecast_gw');
let h: Harness;
let insight: Awaited<ReturnType<typeof startInsightService>>;

beforeAll(async () => {
  h = await startHarness();
  insight = await startInsightService(
    parseInsightEnv({
      ...h.authEnv,
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: services.databaseUrl,
      DATABASE_SCHEMA: insightSchema,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: h.topicPrefix,
      REDIS_KEY_PREFIX: h.redisPrefix,
      DIGEST_INTERVAL_MS: '0',
    }),
    { clock: () => new Date('2026-03-10T12:00:00Z') },
  );
});

afterAll(async () => {
  await insight?.stop();
  await h?.stop();
  await dropSchema(insightSchema);
});

const SET = `mutation($input: SetBudgetInput!) { setBudget(input: $input) { id } }`;
type Forecast = { kind: string; title: string; forecast: { budgetId: string; spent: { amountMinor: number }; limit: { amountMinor: number }; projected: { amountMinor: number } } };
async function forecasts(who: Person): Promise<Forecast[]> {
  const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { insights {
    kind title forecast { budgetId spent { amountMinor } limit { amountMinor } projected { amountMinor } } } } } }`;
  const data = dataOf<{ _entities: { insights: Forecast[] }[] }>(
    await gql(`${insight.url}/graphql`, query, { token: who.token, variables: { r: [{ __typename: 'User', id: who.id }] } }),
  );
  return data._entities[0]!.insights.filter((i) => i.kind === 'BUDGET_FORECAST');
}

describe('budget forecasts through budget, the outbox and Kafka', () => {
  it('forecasts a budget set in budget from the transactions recorded there, and drops the forecast when the budget is raised', { timeout: 90_000 }, async () => {
    const ada = h.person();
    const current = await openAccount(ada, { name: 'Current' });
    const c = await categoryIds(ada);
    const budget = dataOf(
      await ada.ask(SET, { input: { categoryId: c.Groceries, period: 'MONTHLY', startsOn: '2026-03-01', amount: { amountMinor: 300_00, currency: 'EUR' } } }),
    ).setBudget;
    for (const [amountMinor, bookedAt] of [
      [-50_00, '2026-03-02T10:00:00Z'],
      [-60_00, '2026-03-05T10:00:00Z'],
      [-40_00, '2026-03-09T10:00:00Z'],
    ] as const) {
      await record(ada, { accountId: current, amountMinor, bookedAt, categoryId: c.Groceries });
    }
    // 150 EUR in ten days, 15 a day for the 21 left: 465 EUR, the limit passed on the 21st.
    const [forecast] = await eventually(async () => {
      const found = await forecasts(ada);
      return found[0]?.forecast.spent.amountMinor === 150_00 ? found : undefined;
    }, 30_000);
    expect(forecast).toEqual({
      kind: 'BUDGET_FORECAST',
      title: 'Groceries will exceed its budget by about 165.00 EUR around the 21st',
      forecast: { budgetId: budget.id, spent: { amountMinor: 150_00 }, limit: { amountMinor: 300_00 }, projected: { amountMinor: 465_00 } },
    });

    dataOf(await ada.ask(SET, { input: { categoryId: c.Groceries, period: 'MONTHLY', startsOn: '2026-03-01', amount: { amountMinor: 500_00, currency: 'EUR' } } }));
    await eventually(async () => ((await forecasts(ada)).length === 0 ? true : undefined), 30_000);
  });
});
