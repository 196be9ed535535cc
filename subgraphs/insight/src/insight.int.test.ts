import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, encodeEvent, HEADER, type EventBus, type EventPayload, type ReceivedMessage } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { createTestAuth, dropSchema, eventually, gql, services, uniqueName, type TestAuth } from '@analytica/testing';
import { parseInsightEnv, startInsightService } from './index.js';

const TOPIC = 'transactions.recorded.v1';
const schema = uniqueName('insight_test');
const prefix = `${uniqueName('t')}.`;
let auth: TestAuth;
let service: Awaited<ReturnType<typeof startInsightService>>;
let url: string;
let bus: EventBus;

const ada = { id: randomUUID() };
const bob = { id: randomUUID() };
let adaToken: string;
let bobToken: string;

type Recorded = EventPayload<typeof TOPIC>;
function transaction(userId: string, amountMinor: number, bookedAt: string, categoryId: string | null, currency = 'EUR'): Recorded {
  // The names budget puts in the events it writes itself; titles and texts show these, not the ids.
  const categoryName = categoryId === null ? null : `${categoryId[0]!.toUpperCase()}${categoryId.slice(1)}`;
  return { userId, transactionId: randomUUID(), accountId: 'acc-1', categoryId, categoryName, amountMinor: String(amountMinor), currency, payee: 'Shop', bookedAt };
}
async function publish(payload: Recorded, id: string = randomUUID()) {
  await bus.publish(TOPIC, [encodeEvent(TOPIC, payload.userId, payload, id)]);
  return id;
}

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return service.db.orm.em.getConnection().execute(query, params, 'all');
}
async function applied(count: number) {
  await eventually(async () => {
    const [row] = await sql<{ n: string }>('select count(*) as n from processed_events');
    return Number(row?.n) >= count ? true : undefined;
  }, 30_000);
}

// Ada's February and March 2025, and a week that crosses from March into April.
const FEBRUARY = [
  transaction(ada.id, -6000, '2025-02-03T10:00:00Z', 'groceries'),
  transaction(ada.id, -4000, '2025-02-20T10:00:00Z', 'groceries'),
  transaction(ada.id, -80000, '2025-02-01T08:00:00Z', 'rent'),
  transaction(ada.id, 150000, '2025-02-25T08:00:00Z', 'salary'),
];
const MARCH = [
  transaction(ada.id, -5000, '2025-03-02T10:00:00Z', 'groceries'),
  transaction(ada.id, -5000, '2025-03-09T10:00:00Z', 'groceries'),
  transaction(ada.id, -5000, '2025-03-31T23:59:59Z', 'groceries'), // still March in UTC, and the first day of a week
  transaction(ada.id, -84000, '2025-03-01T00:00:00Z', 'rent'),
  transaction(ada.id, -2500, '2025-03-15T12:00:00Z', null),
  transaction(ada.id, 100000, '2025-03-25T08:00:00Z', 'salary'),
  transaction(ada.id, -1999, '2025-03-20T12:00:00Z', 'groceries', 'USD'),
  transaction(ada.id, 5000, '2025-03-21T12:00:00Z', 'salary', 'USD'),
];
const AROUND_WEEK = [
  transaction(ada.id, -700, '2025-03-30T23:59:59Z', 'travel'), // Sunday before the week
  transaction(ada.id, -1100, '2025-04-06T23:59:59Z', 'travel'), // Sunday, last day of the week
  transaction(ada.id, -1300, '2025-04-07T00:00:00Z', 'travel'), // Monday after
];
const BOB = [transaction(bob.id, -4200, '2025-03-05T10:00:00Z', 'groceries')];
let duplicatedId: string;

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
  });
  bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'insight-test', prefix, logger: createLogger('test', 'silent') });
  service = await startInsightService(env);
  url = `${service.url}/graphql`;
  adaToken = auth.tokenFor(ada);
  bobToken = auth.tokenFor(bob);

  for (const payload of [...FEBRUARY, ...MARCH.slice(1), ...AROUND_WEEK, ...BOB]) await publish(payload);
  // The same event delivered twice (same event-id header), as at-least-once delivery may do.
  duplicatedId = await publish(MARCH[0]!);
  await publish(MARCH[0]!, duplicatedId);
  await applied(FEBRUARY.length + MARCH.length + AROUND_WEEK.length + BOB.length);
});

afterAll(async () => {
  await service?.stop();
  await bus?.close();
  await auth?.close();
  await dropSchema(schema);
});

const GENERATE = `mutation($period: ReportPeriod!, $startsOn: String!) {
  generateReport(period: $period, startsOn: $startsOn) {
    id userId period startsOn endsOn
    lines { flow categoryId total { amountMinor currency } count }
    totals { currency income { amountMinor } spending { amountMinor } net { amountMinor } }
  }
}`;
const USER = `query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on User { reports { id startsOn } insights { id kind title body categoryId dismissedAt } }
  }
}`;
const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Report { id startsOn } ... on Insight { id title } } }`;
const DISMISS = `mutation($id: ID!) { dismissInsight(id: $id) { id dismissedAt } }`;

const money = (amountMinor: number, currency = 'EUR') => ({ amountMinor, currency });

describe('transactions.recorded.v1 consumer', () => {
  it('adds each event once into daily totals, even when the same event arrives twice', async () => {
    const rows = await sql<{ day: string; total_minor: string; count: number }>(
      `select day, total_minor, count from spending where user_id = ? and category_id = 'groceries' and currency = 'EUR' and day between '2025-03-01' and '2025-03-31' order by day`,
      [ada.id],
    );
    expect(rows).toEqual([
      { day: '2025-03-02', total_minor: '5000', count: 1 },
      { day: '2025-03-09', total_minor: '5000', count: 1 },
      { day: '2025-03-31', total_minor: '5000', count: 1 },
    ]);
    const claims = await sql('select * from processed_events where event_id = ?', [duplicatedId]);
    expect(claims).toHaveLength(1);
  });

  it('keeps uncategorised transactions in one row per day', async () => {
    await publish(transaction(ada.id, -300, '2025-05-10T09:00:00Z', null));
    await publish(transaction(ada.id, -200, '2025-05-10T19:00:00Z', null));
    const rows = await eventually(async () => {
      const found = await sql<{ total_minor: string; count: number }>(`select total_minor, count from spending where user_id = ? and day = '2025-05-10' and category_id is null`, [
        ada.id,
      ]);
      return found[0]?.count === 2 ? found : undefined;
    }, 20_000);
    expect(rows).toEqual([{ total_minor: '500', count: 2 }]);
  });

  it('sends a malformed event to transactions.recorded.v1.dlq and goes on with the next one', async () => {
    const dead: ReceivedMessage[] = [];
    const reader = await bus.consume({ groupId: 'dlq-reader', topics: [`${TOPIC}.dlq`], handle: async (m) => void dead.push(m) });
    try {
      const badId = randomUUID();
      // Same key as the good event after it: same partition, so the bad one must not block it.
      await bus.publish(TOPIC, [{ key: ada.id, value: JSON.stringify({ userId: ada.id, amountMinor: 'twelve' }), headers: { [HEADER.id]: badId } }]);
      const next = transaction(ada.id, -999, '2025-06-01T12:00:00Z', 'after-the-bad-one');
      await publish(next);
      const parked = await eventually(async () => dead.find((m) => m.headers[HEADER.id] === badId), 30_000);
      expect(parked.headers[HEADER.reason]).toMatch(/^malformed message/);
      expect(parked.value).toContain('twelve');
      const rows = await eventually(async () => {
        const found = await sql(`select total_minor from spending where user_id = ? and category_id = 'after-the-bad-one'`, [ada.id]);
        return found.length ? found : undefined;
      }, 20_000);
      expect(rows).toEqual([{ total_minor: '999' }]);
      expect(await sql('select * from processed_events where event_id = ?', [badId])).toEqual([]);
    } finally {
      await reader.stop();
    }
  });
});

describe('reports', () => {
  let marchReportId: string;

  it('builds a monthly report with exact lines and per-currency totals, aligned to the 1st of the month', async () => {
    const result = await gql(url, GENERATE, { token: adaToken, variables: { period: 'MONTHLY', startsOn: '2025-03-15' } });
    expect(result.errors).toBeUndefined();
    const report = result.data.generateReport;
    marchReportId = report.id;
    expect(report).toMatchObject({ userId: ada.id, period: 'MONTHLY', startsOn: '2025-03-01', endsOn: '2025-03-31' });
    expect(report.lines).toEqual([
      { flow: 'SPENDING', categoryId: 'rent', total: money(84000), count: 1 },
      { flow: 'SPENDING', categoryId: 'groceries', total: money(15000), count: 3 },
      { flow: 'SPENDING', categoryId: null, total: money(2500), count: 1 },
      { flow: 'SPENDING', categoryId: 'travel', total: money(700), count: 1 },
      { flow: 'SPENDING', categoryId: 'groceries', total: money(1999, 'USD'), count: 1 },
      { flow: 'INCOME', categoryId: 'salary', total: money(100000), count: 1 },
      { flow: 'INCOME', categoryId: 'salary', total: money(5000, 'USD'), count: 1 },
    ]);
    expect(report.totals).toEqual([
      { currency: 'EUR', income: { amountMinor: 100000 }, spending: { amountMinor: 102200 }, net: { amountMinor: -2200 } },
      { currency: 'USD', income: { amountMinor: 5000 }, spending: { amountMinor: 1999 }, net: { amountMinor: 3001 } },
    ]);
  });

  it('builds a weekly report from Monday to Sunday across a month boundary, to the exact day', async () => {
    const result = await gql(url, GENERATE, { token: adaToken, variables: { period: 'WEEKLY', startsOn: '2025-04-02' } });
    expect(result.errors).toBeUndefined();
    expect(result.data.generateReport).toMatchObject({ startsOn: '2025-03-31', endsOn: '2025-04-06' });
    expect(result.data.generateReport.lines).toEqual([
      { flow: 'SPENDING', categoryId: 'groceries', total: money(5000), count: 1 },
      { flow: 'SPENDING', categoryId: 'travel', total: money(1100), count: 1 },
    ]);
    expect(result.data.generateReport.totals).toEqual([{ currency: 'EUR', income: { amountMinor: 0 }, spending: { amountMinor: 6100 }, net: { amountMinor: -6100 } }]);
  });

  it('derives insights against the month before: a groceries spike, an overspending warning and a saving suggestion', async () => {
    const result = await gql(url, USER, { token: adaToken, variables: { r: [{ __typename: 'User', id: ada.id }] } });
    expect(result.errors).toBeUndefined();
    const insights: { kind: string; title: string; body: string; categoryId: string | null }[] = result.data._entities[0].insights;
    const spikes = insights.filter((i) => i.kind === 'SPENDING_SPIKE').map(({ categoryId, title, body }) => ({ categoryId, title, body }));
    expect(spikes).toEqual(
      expect.arrayContaining([
        {
          categoryId: 'groceries',
          title: 'Groceries rose 50%',
          body: 'You spent 150.00 EUR on Groceries in the month from 2025-03-01, up from 100.00 EUR in the month before (+50%).',
        },
        // From the weekly report: 11.00 against 7.00 the Sunday before. Rent (+5%) is no spike.
        {
          categoryId: 'travel',
          title: 'Travel rose 57%',
          body: 'You spent 11.00 EUR on Travel in the week from 2025-03-31, up from 7.00 EUR in the week before (+57%).',
        },
      ]),
    );
    expect(spikes).toHaveLength(2);
    const warning = insights.find((i) => i.kind === 'RISK_WARNING' && i.body.includes('month from 2025-03-01'));
    expect(warning?.body).toBe('In the month from 2025-03-01 you spent 1022.00 EUR against an income of 1000.00 EUR: 22.00 EUR more than came in.');
    const saving = insights.find((i) => i.kind === 'SAVING_SUGGESTION');
    expect(saving?.title).toBe('30.01 USD left over to save');
  });

  it('refreshes the same report when a period is generated again, without duplicating insights', async () => {
    const before = await sql<{ n: string }>('select count(*) as n from insights where user_id = ?', [ada.id]);
    const again = await gql(url, GENERATE, { token: adaToken, variables: { period: 'MONTHLY', startsOn: '2025-03-01' } });
    expect(again.data.generateReport.id).toBe(marchReportId);
    const after = await sql<{ n: string }>('select count(*) as n from insights where user_id = ?', [ada.id]);
    expect(after).toEqual(before);
    const reports = await gql(url, USER, { token: adaToken, variables: { r: [{ __typename: 'User', id: ada.id }] } });
    expect(reports.data._entities[0].reports).toEqual([
      { id: expect.any(String), startsOn: '2025-03-31' },
      { id: marchReportId, startsOn: '2025-03-01' },
    ]);
  });

  it('dismisses an insight, keeps it dismissed when the report is generated again, and hides it from the default list', async () => {
    const list = await gql(url, USER, { token: adaToken, variables: { r: [{ __typename: 'User', id: ada.id }] } });
    const spike = list.data._entities[0].insights.find((i: { categoryId: string }) => i.categoryId === 'groceries');
    const dismissed = await gql(url, DISMISS, { token: adaToken, variables: { id: spike.id } });
    expect(dismissed.errors).toBeUndefined();
    expect(dismissed.data.dismissInsight.dismissedAt).toEqual(expect.any(String));
    await gql(url, GENERATE, { token: adaToken, variables: { period: 'MONTHLY', startsOn: '2025-03-01' } });
    const [row] = await sql<{ dismissed_at: string | null }>('select dismissed_at::text from insights where id = ?', [spike.id]);
    expect(row?.dismissed_at).not.toBeNull();
    const open = await gql(url, USER, { token: adaToken, variables: { r: [{ __typename: 'User', id: ada.id }] } });
    expect(open.data._entities[0].insights.map((i: { id: string }) => i.id)).not.toContain(spike.id);
    const all = await gql(url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { insights(includeDismissed: true) { id } } } }`, {
      token: adaToken,
      variables: { r: [{ __typename: 'User', id: ada.id }] },
    });
    expect(all.data._entities[0].insights.map((i: { id: string }) => i.id)).toContain(spike.id);
  });

  it('refuses a startsOn that is not a date or lies in the future, naming startsOn', async () => {
    const nextYear = `${new Date().getUTCFullYear() + 1}-01-01`;
    for (const startsOn of ['2025-02-30', 'last month', '2025-3-1', '2999-01-01', nextYear]) {
      const result = await gql(url, GENERATE, { token: adaToken, variables: { period: 'MONTHLY', startsOn } });
      expect(result.errors?.[0]?.extensions, startsOn).toMatchObject({ code: 'BAD_USER_INPUT', field: 'startsOn' });
    }
    const future = await gql(url, GENERATE, { token: adaToken, variables: { period: 'WEEKLY', startsOn: nextYear } });
    expect(future.errors?.[0]?.message).toMatch(/has not started yet/);
  });
});

describe('trends over months (monthly reports)', () => {
  it('suggests saving and investing from six months of surplus, each with the amounts it rests on, and warns of three months of shortfall', async () => {
    const carol = { id: randomUUID() };
    const months = ['2025-01', '2025-02', '2025-03', '2025-04', '2025-05', '2025-06'];
    // 4000 EUR in and 2000 out each month; from April Carol's USD account spends more than comes in.
    const events = months.flatMap((m, i) => [
      transaction(carol.id, 400000, `${m}-01T08:00:00Z`, 'salary'),
      transaction(carol.id, -200000, `${m}-03T08:00:00Z`, 'rent'),
      ...(i >= 3 ? [transaction(carol.id, 10000, `${m}-05T08:00:00Z`, 'salary', 'USD'), transaction(carol.id, -12000, `${m}-06T08:00:00Z`, 'travel', 'USD')] : []),
    ]);
    const [before] = await sql<{ n: string }>('select count(*) as n from processed_events');
    for (const payload of events) await publish(payload);
    await applied(Number(before!.n) + events.length);
    const token = auth.tokenFor(carol);
    expect((await gql(url, GENERATE, { token, variables: { period: 'MONTHLY', startsOn: '2025-06-01' } })).errors).toBeUndefined();
    const read = await gql(
      url,
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { insights { kind title figures { name amount { amountMinor currency } } } } } }`,
      {
        token,
        variables: { r: [{ __typename: 'User', id: carol.id }] },
      },
    );
    const insights: { kind: string; title: string; figures: { name: string; amount: { amountMinor: number; currency: string } }[] }[] = read.data._entities[0].insights;
    const find = (kind: string, title: string) => insights.find((i) => i.kind === kind && i.title === title);
    expect(find('INVESTMENT_SUGGESTION', '6000.00 EUR could be invested')?.figures).toEqual([
      { name: 'kept', amount: money(1200000) },
      { name: 'monthlySpending', amount: money(200000) },
      { name: 'buffer', amount: money(600000) },
      { name: 'investable', amount: money(600000) },
    ]);
    expect(find('SAVING_SUGGESTION', 'Set aside 2000.00 EUR a month')?.figures).toEqual([
      { name: 'smallestSurplus', amount: money(200000) },
      { name: 'averageSurplus', amount: money(200000) },
    ]);
    expect(find('RISK_WARNING', 'You have spent more than you earned in USD for 3 months running')?.figures).toEqual([
      { name: 'income', amount: money(30000, 'USD') },
      { name: 'spending', amount: money(36000, 'USD') },
      { name: 'shortfall', amount: money(6000, 'USD') },
    ]);
    // The month's own saving suggestion states its figures too.
    expect(find('SAVING_SUGGESTION', '2000.00 EUR left over to save')?.figures.map((f) => f.name)).toEqual(['income', 'spending', 'surplus']);
  });
});

describe('isolation between users', () => {
  let adaReport: string;
  let adaInsight: string;

  beforeAll(async () => {
    const generated = await gql(url, GENERATE, { token: adaToken, variables: { period: 'MONTHLY', startsOn: '2025-03-01' } });
    adaReport = generated.data.generateReport.id;
    const [insight] = await sql<{ id: string }>('select id from insights where user_id = ? and dismissed_at is null limit 1', [ada.id]);
    adaInsight = insight!.id;
  });

  it("builds a second user's report from their own transactions only", async () => {
    const result = await gql(url, GENERATE, { token: bobToken, variables: { period: 'MONTHLY', startsOn: '2025-03-01' } });
    expect(result.data.generateReport.id).not.toBe(adaReport);
    expect(result.data.generateReport.lines).toEqual([{ flow: 'SPENDING', categoryId: 'groceries', total: money(4200), count: 1 }]);
  });

  it("answers another user's report with NOT_FOUND and does not let them dismiss their insights", async () => {
    const read = await gql(url, `query($id: ID!) { report(id: $id) { id lines { count } } }`, { token: bobToken, variables: { id: adaReport } });
    expect(read.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(read.data?.report).toBeNull();
    const dismiss = await gql(url, DISMISS, { token: bobToken, variables: { id: adaInsight } });
    expect(dismiss.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const [row] = await sql<{ dismissed_at: string | null }>('select dismissed_at from insights where id = ?', [adaInsight]);
    expect(row?.dismissed_at).toBeNull();
  });

  it("refuses another user's objects through _entities: reports and insights NOT_FOUND, the user FORBIDDEN", async () => {
    const report = await gql(url, ENTITIES, { token: bobToken, variables: { r: [{ __typename: 'Report', id: adaReport }] } });
    expect(report.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(report.data?._entities?.[0] ?? null).toBeNull();
    const insight = await gql(url, ENTITIES, { token: bobToken, variables: { r: [{ __typename: 'Insight', id: adaInsight }] } });
    expect(insight.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(insight.data?._entities?.[0] ?? null).toBeNull();
    const user = await gql(url, USER, { token: bobToken, variables: { r: [{ __typename: 'User', id: ada.id }] } });
    expect(user.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(user.data)).not.toContain(adaReport);
  });

  it('gives the owner their objects through _entities', async () => {
    const own = await gql(url, ENTITIES, {
      token: adaToken,
      variables: {
        r: [
          { __typename: 'Report', id: adaReport },
          { __typename: 'Insight', id: adaInsight },
        ],
      },
    });
    expect(own.errors).toBeUndefined();
    expect(own.data._entities).toEqual([
      { id: adaReport, startsOn: '2025-03-01' },
      { id: adaInsight, title: expect.any(String) },
    ]);
  });

  it('refuses requests without a token, _entities included', async () => {
    const generate = await gql(url, GENERATE, { variables: { period: 'MONTHLY', startsOn: '2025-03-01' } });
    expect(generate.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const read = await gql(url, `query($id: ID!) { report(id: $id) { id } }`, { variables: { id: adaReport } });
    expect(read.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const entities = await gql(url, ENTITIES, { variables: { r: [{ __typename: 'Report', id: adaReport }] } });
    expect(entities.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('totals beyond the exact range', () => {
  it('refuses a report whose totals pass 2^53 - 1 minor units, or even int64, as BAD_USER_INPUT on startsOn, and stores nothing', async () => {
    const carol = { id: randomUUID() };
    const token = auth.tokenFor(carol);
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    // Daily totals as the consumer keeps them (each day within bigint), straight into the aggregate.
    const days = async (month: string, amounts: bigint[]) => {
      for (const [i, amount] of amounts.entries()) {
        await sql(`insert into spending (user_id, day, category_id, currency, flow, total_minor, count) values (?, ?, 'big', 'EUR', 'SPENDING', ?, 1)`, [
          carol.id,
          `${month}-${String(i + 1).padStart(2, '0')}`,
          amount.toString(),
        ]);
      }
    };
    await days('2025-01', [max, 1n]); // past 2^53 - 1
    await days('2025-02', [4n * 10n ** 18n, 4n * 10n ** 18n, 4n * 10n ** 18n]); // past 2^63 - 1 too
    for (const startsOn of ['2025-01-01', '2025-02-01']) {
      const result = await gql(url, GENERATE, { token, variables: { period: 'MONTHLY', startsOn } });
      expect(result.errors?.[0]?.extensions, startsOn).toEqual({ code: 'BAD_USER_INPUT', field: 'startsOn' });
      expect(result.errors?.[0]?.message, startsOn).toMatch(/beyond 9007199254740991 minor units.*report a shorter period/);
    }
    expect(await sql('select id from reports where user_id = ?', [carol.id])).toEqual([]);
  });
});

describe('operations', () => {
  it('reports ready while PostgreSQL answers', async () => {
    const ready = await fetch(`${service.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { postgres: 'ok' } });
  });
});
