import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, encodeEvent, type EventBus, type EventPayload, type Topic } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { createTestAuth, dropSchema, eventually, gql, services, uniqueName, type TestAuth } from '@analytica/testing';
import { parseInsightEnv, startInsightService } from '../index.js';

// Issue 13, forecasts: a budget heading over its limit has one BUDGET_FORECAST insight, updated as
// transactions arrive and removed when the projection falls within the limit. Real Kafka and
// PostgreSQL; the service's clock is set to a day in March 2026, so the figures are exact.

const schema = uniqueName('insight_forecasts');
const prefix = `${uniqueName('t')}.`;
let auth: TestAuth;
let service: Awaited<ReturnType<typeof startInsightService>>;
let url: string;
let bus: EventBus;
let now = new Date('2026-03-10T12:00:00Z');

const GROCERIES = randomUUID();

async function publish<T extends Topic>(topic: T, payload: EventPayload<T> & { userId: string }, id: string = randomUUID()) {
  await bus.publish(topic, [encodeEvent(topic, payload.userId, payload, id)]);
  return id;
}
async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return service.db.orm.em.getConnection().execute(query, params, 'all');
}
async function applied(...ids: string[]) {
  await eventually(async () => {
    const rows = await sql<{ n: string }>(`select count(distinct event_id) as n from processed_events where event_id in (${ids.map(() => '?').join(', ')})`, ids);
    return Number(rows[0]?.n) === ids.length ? true : undefined;
  }, 30_000);
}

function spend(userId: string, amountMinor: number, bookedAt: string): EventPayload<'transactions.recorded.v1'> {
  return {
    userId,
    transactionId: randomUUID(),
    accountId: 'acc-1',
    categoryId: GROCERIES,
    amountMinor: String(-amountMinor),
    currency: 'EUR',
    payee: 'Market',
    bookedAt,
    splits: [],
  };
}
function deleted(t: EventPayload<'transactions.recorded.v1'>): EventPayload<'transactions.deleted.v1'> {
  const { userId, transactionId, accountId, categoryId, amountMinor, currency, bookedAt } = t;
  return { userId, transactionId, accountId, categoryId, amountMinor, currency, bookedAt, splits: [], deletedAt: now.toISOString() };
}
function budget(userId: string, budgetId: string, limitMinor: number, setAt: string): EventPayload<'budget.set.v1'> {
  return { userId, budgetId, categoryId: GROCERIES, categoryName: 'Groceries', period: 'MONTHLY', startsOn: '2026-03-01', limitMinor: String(limitMinor), currency: 'EUR', setAt };
}

const INSIGHTS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { insights {
  id kind title body categoryId
  figures { name amount { amountMinor currency } }
  forecast { budgetId period startsOn endsOn spent { amountMinor currency } limit { amountMinor } projected { amountMinor } overBy { amountMinor }
             dailyRate { amountMinor } recurringDue { amountMinor } crossingOn exceeded }
} } } }`;
interface Insight {
  id: string;
  kind: string;
  title: string;
  body: string;
  categoryId: string | null;
  figures: { name: string; amount: { amountMinor: number; currency: string } }[];
  forecast: Record<string, unknown> & { spent: { amountMinor: number }; projected: { amountMinor: number }; overBy: { amountMinor: number } };
}
async function forecasts(userId: string): Promise<Insight[]> {
  const result = await gql(url, INSIGHTS, { token: auth.tokenFor({ id: userId }), variables: { r: [{ __typename: 'User', id: userId }] } });
  expect(result.errors).toBeUndefined();
  return (result.data._entities[0].insights as Insight[]).filter((i) => i.kind === 'BUDGET_FORECAST');
}
const forecastRows = (userId: string) => sql<{ id: string }>(`select id from insights where user_id = ? and kind = 'BUDGET_FORECAST'`, [userId]);

beforeAll(async () => {
  auth = await createTestAuth();
  const env = parseInsightEnv({
    ...auth.env,
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATABASE_URL: services.databaseUrl,
    DATABASE_SCHEMA: schema,
    KAFKA_BROKERS: services.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: prefix,
    // Looks often whether the (test's) day has changed, so that a test can move the clock and watch.
    FORECAST_DAY_CHECK_MS: '200',
  });
  bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'insight-forecast-test', prefix, logger: createLogger('test', 'silent') });
  service = await startInsightService(env, { clock: () => now });
  url = `${service.url}/graphql`;
});

afterAll(async () => {
  await service?.stop();
  await bus?.close();
  await auth?.close();
  await dropSchema(schema);
});

describe('budget forecasts', () => {
  it('appear when a budget is heading over, follow the transactions (one per budget and period), and go when the projection is within the limit', async () => {
    const user = randomUUID();
    const budgetId = randomUUID();
    await applied(await publish('budget.set.v1', budget(user, budgetId, 300_00, '2026-03-01T08:00:00Z')));
    expect(await forecastRows(user)).toEqual([]);

    // 150 EUR in the first ten days of March, no history: 15 EUR a day, 21 days to go.
    const [a, b, c] = [spend(user, 50_00, '2026-03-02T10:00:00Z'), spend(user, 60_00, '2026-03-05T10:00:00Z'), spend(user, 40_00, '2026-03-09T10:00:00Z')];
    await applied(await publish('transactions.recorded.v1', a), await publish('transactions.recorded.v1', b));
    // 110 EUR: 11 a day, 110 + 231 = 341 EUR. Already over: one insight.
    const cId = await publish('transactions.recorded.v1', c);
    await publish('transactions.recorded.v1', c, cId); // redelivered
    await applied(cId);
    const [first, ...more] = await forecasts(user);
    expect(more).toEqual([]);
    expect(first).toMatchObject({
      kind: 'BUDGET_FORECAST',
      categoryId: GROCERIES,
      title: 'Groceries will exceed its budget by about 165.00 EUR around the 21st',
      forecast: {
        budgetId,
        period: 'MONTHLY',
        startsOn: '2026-03-01',
        endsOn: '2026-03-31',
        spent: { amountMinor: 150_00, currency: 'EUR' },
        limit: { amountMinor: 300_00 },
        projected: { amountMinor: 465_00 },
        overBy: { amountMinor: 165_00 },
        dailyRate: { amountMinor: 15_00 },
        recurringDue: { amountMinor: 0 },
        crossingOn: '2026-03-21',
        exceeded: false,
      },
    });
    expect(first!.body).toBe(
      'You have spent 150.00 EUR of the 300.00 EUR budget for Groceries in the month from 2026-03-01 (to 2026-03-31). ' +
        'At about 15.00 EUR a day, spending is heading for 465.00 EUR by 2026-03-31: 165.00 EUR over, passing the limit around 2026-03-21.',
    );
    expect(first!.figures).toContainEqual({ name: 'projected', amount: { amountMinor: 465_00, currency: 'EUR' } });

    // 30 EUR more today: 180 EUR, 18 a day, 180 + 378 = 558 EUR. The same insight, updated.
    const d = spend(user, 30_00, '2026-03-10T09:00:00Z');
    await applied(await publish('transactions.recorded.v1', d));
    const [updated] = await forecasts(user);
    expect(updated).toMatchObject({ id: first!.id, forecast: { projected: { amountMinor: 558_00 }, overBy: { amountMinor: 258_00 }, crossingOn: '2026-03-17' } });
    expect(await forecastRows(user)).toHaveLength(1);

    // Two deletes: 100 EUR, 10 a day, 100 + 210 = 310 EUR: still 10 EUR over, on the last day.
    await applied(await publish('transactions.deleted.v1', deleted(d)), await publish('transactions.deleted.v1', deleted(a)));
    const [afterDeletes] = await forecasts(user);
    expect(afterDeletes).toMatchObject({
      id: first!.id,
      title: 'Groceries will exceed its budget by about 10.00 EUR around the 31st',
      forecast: { projected: { amountMinor: 310_00 } },
    });

    // The budget raised to 400 EUR: within it, so the forecast goes; the older setting arriving late changes nothing.
    await applied(await publish('budget.set.v1', budget(user, budgetId, 400_00, '2026-03-10T11:00:00Z')));
    expect(await forecastRows(user)).toEqual([]);
    await applied(await publish('budget.set.v1', budget(user, budgetId, 300_00, '2026-03-10T10:00:00Z')));
    expect(await forecastRows(user)).toEqual([]);
    expect(await sql('select limit_minor::int as limit from budgets where user_id = ?', [user])).toEqual([{ limit: 400_00 }]);
  });

  it('moves as days pass without transactions: the pace falls, the crossing comes later, and a budget back within reach loses its forecast', async () => {
    const user = randomUUID();
    const budgetId = randomUUID();
    await applied(await publish('budget.set.v1', budget(user, budgetId, 300_00, '2026-03-01T08:00:00Z')));
    // 250 EUR in the first ten days: 25 a day, 250 + 21 x 25 = 775 EUR.
    await applied(await publish('transactions.recorded.v1', spend(user, 250_00, '2026-03-04T10:00:00Z')));
    const [early] = await forecasts(user);
    expect(early).toMatchObject({ forecast: { projected: { amountMinor: 775_00 }, crossingOn: '2026-03-13' } });

    try {
      // Ten quiet days later: 250 EUR in 20 days, 12.50 a day, 250 + 11 x 12.50 = 387.50 EUR, over the 300 from the 25th.
      now = new Date('2026-03-20T12:00:00Z');
      const moved = await eventually(async () => {
        const [f] = await forecasts(user);
        return f?.forecast.projected.amountMinor === 387_50 ? f : undefined;
      }, 10_000);
      expect(moved).toMatchObject({
        id: early!.id,
        title: 'Groceries will exceed its budget by about 88.00 EUR around the 25th',
        forecast: { spent: { amountMinor: 250_00 }, dailyRate: { amountMinor: 12_50 }, overBy: { amountMinor: 87_50 }, crossingOn: '2026-03-25' },
      });

      // Nearly the end, still 250 EUR: 250 / 29 a day for 2 days is about 267 EUR, within the 300: no forecast.
      now = new Date('2026-03-29T12:00:00Z');
      await eventually(async () => ((await forecastRows(user)).length === 0 ? true : undefined), 10_000);
    } finally {
      now = new Date('2026-03-10T12:00:00Z');
    }
  });

  it('says a budget already exceeded is, from the day it crossed, and drops the forecast when its period is over', async () => {
    const user = randomUUID();
    await applied(await publish('budget.set.v1', budget(user, randomUUID(), 100_00, '2026-03-01T08:00:00Z')));
    await applied(
      await publish('transactions.recorded.v1', spend(user, 70_00, '2026-03-03T10:00:00Z')),
      await publish('transactions.recorded.v1', spend(user, 50_00, '2026-03-06T10:00:00Z')),
    );
    const [over] = await forecasts(user);
    expect(over).toMatchObject({
      title: 'Groceries went over its budget on the 6th and is heading for about 272.00 EUR over',
      forecast: { exceeded: true, crossingOn: '2026-03-06' },
    });

    // In April March's forecast goes (the day's refresh or the category's next event, whichever comes first).
    now = new Date('2026-04-02T08:00:00Z');
    try {
      await applied(await publish('transactions.recorded.v1', spend(user, 5_00, '2026-04-01T10:00:00Z')));
      expect(await forecastRows(user)).toEqual([]);
    } finally {
      now = new Date('2026-03-10T12:00:00Z');
    }
  });
});
