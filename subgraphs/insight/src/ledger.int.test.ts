import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, encodeEvent, HEADER, type EventBus, type EventPayload } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { createTestAuth, dropSchema, eventually, gql, services, uniqueName, type TestAuth } from '@analytica/testing';
import { parseInsightEnv, startInsightService } from './index.js';

// Issue 13, "insights that match the ledger": edits and deletes move the totals, transfers are
// neither income nor spending, split parts count in their own categories, titles name categories.
// Real Kafka (one topic per event type, as budget's outbox relay publishes them) and PostgreSQL.

const schema = uniqueName('insight_ledger');
const prefix = `${uniqueName('t')}.`;
let auth: TestAuth;
let service: Awaited<ReturnType<typeof startInsightService>>;
let url: string;
let bus: EventBus;

const GROCERIES = randomUUID();
const HOUSEHOLD = randomUUID();
const RENT = randomUUID();

type TransactionTopic = 'transactions.recorded.v1' | 'transactions.updated.v1' | 'transactions.deleted.v1';
async function publish<T extends TransactionTopic>(topic: T, payload: EventPayload<T>, id: string = randomUUID()) {
  await bus.publish(topic, [encodeEvent(topic, payload.userId, payload, id)]);
  return id;
}
async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return service.db.orm.em.getConnection().execute(query, params, 'all');
}
/** Waits until the consumer claimed every one of these event ids. */
async function applied(...ids: string[]) {
  await eventually(async () => {
    const rows = await sql<{ n: string }>(`select count(distinct event_id) as n from processed_events where event_id in (${ids.map(() => '?').join(', ')})`, ids);
    return Number(rows[0]?.n) === ids.length ? true : undefined;
  }, 30_000);
}

/**
 * Waits until everything published before on the user's partition of `topic` was handled: a
 * redelivered event is only a no-op if it was handled, so checking too early would prove nothing.
 * The marker is an event about a transfer leg, which counts for nothing.
 */
async function settle(topic: TransactionTopic, userId: string) {
  const marker = {
    userId,
    transactionId: randomUUID(),
    accountId: 'acc-1',
    categoryId: null,
    amountMinor: '-1',
    currency: 'EUR',
    bookedAt: '2025-04-01T00:00:00Z',
    splits: [],
    transferId: randomUUID(),
  };
  const id = randomUUID();
  if (topic === 'transactions.deleted.v1') await publish(topic, { ...marker, deletedAt: '2025-04-01T00:00:00Z' }, id);
  else if (topic === 'transactions.updated.v1') await publish(topic, { ...marker, payee: 'marker', version: 2, previous: marker }, id);
  else await publish(topic, { ...marker, payee: 'marker' }, id);
  await applied(id);
}

function recorded(userId: string, amountMinor: number, bookedAt: string, categoryId: string | null, extra: Partial<EventPayload<'transactions.recorded.v1'>> = {}) {
  return {
    userId,
    transactionId: randomUUID(),
    accountId: 'acc-1',
    categoryId,
    amountMinor: String(amountMinor),
    currency: 'EUR',
    payee: 'Shop',
    bookedAt,
    splits: [],
    transferId: null,
    ...extra,
  } satisfies EventPayload<'transactions.recorded.v1'>;
}
type Recorded = ReturnType<typeof recorded>;

function updated(
  before: Recorded,
  version: number,
  change: Partial<Pick<Recorded, 'amountMinor' | 'categoryId' | 'bookedAt' | 'splits'>>,
): EventPayload<'transactions.updated.v1'> {
  const { userId, transactionId, accountId, categoryId, amountMinor, currency, payee, bookedAt, splits } = before;
  return {
    userId,
    transactionId,
    accountId,
    categoryId,
    amountMinor,
    currency,
    payee,
    bookedAt,
    splits,
    ...change,
    version,
    previous: { accountId, categoryId, amountMinor, currency, bookedAt, splits },
  };
}

function deleted(t: Recorded): EventPayload<'transactions.deleted.v1'> {
  const { userId, transactionId, accountId, categoryId, amountMinor, currency, bookedAt, splits } = t;
  return { userId, transactionId, accountId, categoryId, amountMinor, currency, bookedAt, splits, deletedAt: new Date().toISOString() };
}

const GENERATE = `mutation($period: ReportPeriod!, $startsOn: String!) {
  generateReport(period: $period, startsOn: $startsOn) {
    lines { flow categoryId total { amountMinor currency } count }
    totals { currency income { amountMinor } spending { amountMinor } }
  }
}`;
const INSIGHTS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { insights { kind title body categoryId } } } }`;

interface Report {
  lines: { flow: string; categoryId: string | null; total: { amountMinor: number; currency: string }; count: number }[];
  totals: { currency: string; income: { amountMinor: number }; spending: { amountMinor: number } }[];
}
async function report(userId: string, startsOn = '2025-04-01', period = 'MONTHLY'): Promise<Report> {
  const result = await gql(url, GENERATE, { token: auth.tokenFor({ id: userId }), variables: { period, startsOn } });
  expect(result.errors).toBeUndefined();
  return result.data.generateReport;
}
const line = (flow: 'SPENDING' | 'INCOME', categoryId: string | null, amountMinor: number, count = 1) => ({ flow, categoryId, total: { amountMinor, currency: 'EUR' }, count });
const totals = (income: number, spending: number) => [{ currency: 'EUR', income: { amountMinor: income }, spending: { amountMinor: spending } }];

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
  bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'insight-ledger-test', prefix, logger: createLogger('test', 'silent') });
  service = await startInsightService(env);
  url = `${service.url}/graphql`;
});

afterAll(async () => {
  await service?.stop();
  await bus?.close();
  await auth?.close();
  await dropSchema(schema);
});

describe('deleted transactions', () => {
  it('leave the next report: a delete takes back what the transaction counted for, once, however often it is delivered', async () => {
    const user = randomUUID();
    const kept = recorded(user, -5000, '2025-04-03T10:00:00Z', GROCERIES);
    const gone = recorded(user, -3000, '2025-04-04T10:00:00Z', GROCERIES);
    const income = recorded(user, 20000, '2025-04-05T10:00:00Z', null);
    await applied(await publish('transactions.recorded.v1', kept), await publish('transactions.recorded.v1', gone), await publish('transactions.recorded.v1', income));
    expect((await report(user)).lines).toEqual([line('SPENDING', GROCERIES, 8000, 2), line('INCOME', null, 20000)]);

    // The same delete twice (at-least-once), and once more as a new event (a replayed outbox row).
    const deleteId = await publish('transactions.deleted.v1', deleted(gone));
    await publish('transactions.deleted.v1', deleted(gone), deleteId);
    const replayId = await publish('transactions.deleted.v1', deleted(gone));
    await applied(deleteId, replayId);
    await settle('transactions.deleted.v1', user);
    const after = await report(user);
    expect(after.lines).toEqual([line('SPENDING', GROCERIES, 5000, 1), line('INCOME', null, 20000)]);
    expect(after.totals).toEqual(totals(20000, 5000));

    // Deleting the last transaction of a day and category leaves no empty row behind.
    await applied(await publish('transactions.deleted.v1', deleted(kept)));
    expect((await report(user)).lines).toEqual([line('INCOME', null, 20000)]);
    expect(await sql('select * from spending where user_id = ? and category_id is not distinct from ?', [user, GROCERIES])).toEqual([]);
  });

  it('count for nothing when the delete overtakes the recorded event (retried on its own topic)', async () => {
    const user = randomUUID();
    const t = recorded(user, -4200, '2025-04-10T10:00:00Z', GROCERIES);
    await applied(await publish('transactions.deleted.v1', deleted(t)));
    await applied(await publish('transactions.recorded.v1', t), await publish('transactions.updated.v1', updated(t, 2, { amountMinor: '-100' })));
    expect((await report(user)).lines).toEqual([]);
  });
});

describe('updated transactions', () => {
  it('move the amount and the category: the old lines out, the new ones in, never both', async () => {
    const user = randomUUID();
    const t = recorded(user, -2000, '2025-04-03T10:00:00Z', GROCERIES);
    await applied(await publish('transactions.recorded.v1', t));
    const v2 = updated(t, 2, { amountMinor: '-2500', categoryId: RENT });
    const v2Id = await publish('transactions.updated.v1', v2);
    await publish('transactions.updated.v1', v2, v2Id); // redelivered
    await applied(v2Id);
    await settle('transactions.updated.v1', user);
    expect((await report(user)).lines).toEqual([line('SPENDING', RENT, 2500)]);

    // Moved to another month: it leaves April and counts in May.
    const v3 = updated({ ...t, amountMinor: '-2500', categoryId: RENT }, 3, { bookedAt: '2025-05-02T10:00:00Z' });
    await applied(await publish('transactions.updated.v1', v3));
    expect((await report(user)).lines).toEqual([]);
    expect((await report(user, '2025-05-01')).lines).toEqual([line('SPENDING', RENT, 2500)]);

    // An older edit arriving late (another event id, e.g. from a retry tier) changes nothing.
    await applied(await publish('transactions.updated.v1', v2));
    expect((await report(user)).lines).toEqual([]);
    expect((await report(user, '2025-05-01')).lines).toEqual([line('SPENDING', RENT, 2500)]);
  });

  it('count once when the edit arrives before the recorded event', async () => {
    const user = randomUUID();
    const t = recorded(user, -1000, '2025-04-03T10:00:00Z', GROCERIES);
    await applied(await publish('transactions.updated.v1', updated(t, 2, { amountMinor: '-1500' })));
    await applied(await publish('transactions.recorded.v1', t));
    expect((await report(user)).lines).toEqual([line('SPENDING', GROCERIES, 1500)]);
  });
});

describe('transfers between own accounts', () => {
  it('change neither income nor spending, also when a leg is edited or the transfer deleted', async () => {
    const user = randomUUID();
    const salary = recorded(user, 300000, '2025-04-01T08:00:00Z', null);
    const food = recorded(user, -4000, '2025-04-02T08:00:00Z', GROCERIES);
    await applied(await publish('transactions.recorded.v1', salary), await publish('transactions.recorded.v1', food));
    const before = await report(user);
    expect(before.totals).toEqual(totals(300000, 4000));

    const transferId = randomUUID();
    const out = recorded(user, -100000, '2025-04-03T08:00:00Z', null, { transferId, payee: 'Transfer to Savings' });
    const into = recorded(user, 100000, '2025-04-03T08:00:00Z', null, { transferId, accountId: 'acc-2', payee: 'Transfer from Current' });
    await applied(await publish('transactions.recorded.v1', out), await publish('transactions.recorded.v1', into));
    expect(await report(user)).toEqual(before);

    // Budget lets an edit of a leg change its day (both legs), never its amount or category.
    await applied(
      await publish('transactions.updated.v1', { ...updated(out, 2, { bookedAt: '2025-04-04T08:00:00Z' }), transferId }),
      // An edit event without transferId (as budget wrote them before it was in the contract): still a transfer.
      await publish('transactions.updated.v1', updated(into, 2, { bookedAt: '2025-04-04T08:00:00Z' })),
    );
    expect(await report(user)).toEqual(before);
    await applied(await publish('transactions.deleted.v1', { ...deleted(out), transferId }), await publish('transactions.deleted.v1', { ...deleted(into), transferId }));
    expect(await report(user)).toEqual(before);
  });
});

describe('split transactions', () => {
  it("count each part in the part's own category, and follow a change of the parts", async () => {
    const user = randomUUID();
    const t = recorded(user, -9000, '2025-04-03T10:00:00Z', null, {
      splits: [
        { categoryId: GROCERIES, amountMinor: '-6000' },
        { categoryId: HOUSEHOLD, amountMinor: '-2000' },
        { categoryId: GROCERIES, amountMinor: '-1000' },
      ],
    });
    await applied(await publish('transactions.recorded.v1', t));
    const first = await report(user);
    expect(first.lines).toEqual([line('SPENDING', GROCERIES, 7000), line('SPENDING', HOUSEHOLD, 2000)]);
    expect(first.totals).toEqual(totals(0, 9000));

    const v2 = updated(t, 2, {
      splits: [
        { categoryId: HOUSEHOLD, amountMinor: '-5000' },
        { categoryId: null, amountMinor: '-4000' },
      ],
    });
    await applied(await publish('transactions.updated.v1', v2));
    expect((await report(user)).lines).toEqual([line('SPENDING', HOUSEHOLD, 5000), line('SPENDING', null, 4000)]);
    await applied(await publish('transactions.deleted.v1', { ...deleted(t), splits: v2.splits }));
    expect((await report(user)).lines).toEqual([]);
  });
});

describe('insight titles', () => {
  it('name the category, never its id, and take a new name when the report is generated again', async () => {
    const user = randomUUID();
    const march = recorded(user, -10000, '2025-03-10T10:00:00Z', GROCERIES, { categoryName: 'Groceries' });
    const april = recorded(user, -15000, '2025-04-10T10:00:00Z', GROCERIES, { categoryName: 'Groceries' });
    await applied(await publish('transactions.recorded.v1', march), await publish('transactions.recorded.v1', april));
    await report(user);
    const spike = async () => {
      const result = await gql(url, INSIGHTS, { token: auth.tokenFor({ id: user }), variables: { r: [{ __typename: 'User', id: user }] } });
      expect(result.errors).toBeUndefined();
      return (result.data._entities[0].insights as { kind: string; title: string; body: string; categoryId: string }[]).find((i) => i.kind === 'SPENDING_SPIKE');
    };
    expect(await spike()).toEqual({
      kind: 'SPENDING_SPIKE',
      categoryId: GROCERIES,
      title: 'Groceries rose 50%',
      body: 'You spent 150.00 EUR on Groceries in the month from 2025-04-01, up from 100.00 EUR in the month before (+50%).',
    });

    // Renamed in budget: the next event carries the new name; an older event's name does not win back.
    const renamed = recorded(user, -100, '2025-04-11T10:00:00Z', GROCERIES, { categoryName: 'Food & drink' });
    await applied(await publish('transactions.recorded.v1', renamed));
    // Written before the rename, delivered after it (a retry): its name does not win back.
    const stale = encodeEvent('transactions.recorded.v1', user, recorded(user, -100, '2025-02-11T10:00:00Z', GROCERIES, { categoryName: 'Groceries' }));
    stale.headers = { ...stale.headers, [HEADER.occurredAt]: '2025-01-01T00:00:00.000Z' };
    await bus.publish('transactions.recorded.v1', [stale]);
    await applied(stale.headers[HEADER.id]!);
    await report(user);
    const after = await spike();
    expect(after?.title).toBe('Food & drink rose 51%');
    expect(after?.body).toBe('You spent 151.00 EUR on Food & drink in the month from 2025-04-01, up from 100.00 EUR in the month before (+51%).');
    expect(JSON.stringify(after?.title)).not.toContain(GROCERIES);
  });
});
