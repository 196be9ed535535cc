import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, encodeEvent, type EventBus, type EventPayload } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { createTestAuth, dropSchema, eventually, services, uniqueName, type TestAuth } from '@analytica/testing';
import { parseInsightEnv, startInsightService } from '../index.js';

// Weekly and monthly digests on a schedule: each user with transactions in a finished week or month
// gets one `digest` email request (notifications.email.v1, through insight's outbox to Kafka), once,
// also across a restart. The notifications worker's side (template, opt-out, SMTP) is tested there.
// Real Kafka and PostgreSQL; the service's clock moves to Tuesday 2026-03-03, so the finished periods are
// the week from Monday 2026-02-23 and February.

const schema = uniqueName('insight_digests');
const prefix = `${uniqueName('t')}.`;
let auth: TestAuth;
let bus: EventBus;
let env: ReturnType<typeof parseInsightEnv>;
const emails: { payload: EventPayload<'notifications.email.v1'> }[] = [];
let watch: { stop(): Promise<void> };
// Friday 2026-02-27 while the transactions arrive, then Tuesday 2026-03-03, when February and its last week have ended.
let now = new Date('2026-02-27T06:00:00Z');

const start = () => startInsightService(env, { clock: () => now });

function transaction(userId: string, amountMinor: number, bookedAt: string, categoryId: string | null, categoryName: string | null): EventPayload<'transactions.recorded.v1'> {
  return { userId, transactionId: randomUUID(), accountId: 'acc-1', categoryId, categoryName, amountMinor: String(amountMinor), currency: 'EUR', payee: 'Shop', bookedAt };
}

beforeAll(async () => {
  auth = await createTestAuth();
  env = parseInsightEnv({
    ...auth.env,
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATABASE_URL: services.databaseUrl,
    DATABASE_SCHEMA: schema,
    KAFKA_BROKERS: services.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: prefix,
    DIGEST_INTERVAL_MS: '100',
  });
  bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'insight-digest-test', prefix, logger: createLogger('test', 'silent') });
  watch = await bus.consume({
    groupId: 'digest-watch',
    topics: ['notifications.email.v1'],
    handle: async (message) => void emails.push({ payload: JSON.parse(message.value) as EventPayload<'notifications.email.v1'> }),
  });
});

afterAll(async () => {
  await watch?.stop();
  await bus?.close();
  await auth?.close();
  await dropSchema(schema);
});

describe('digests', () => {
  // Two starts of the service and a wait for the schedule.
  it('asks for one weekly and one monthly digest per user with transactions, with the figures, and none again after a restart', async () => {
    const ada = randomUUID();
    const quiet = randomUUID();
    let service = await start();
    try {
      const events = [
        transaction(ada, 250000, '2026-02-02T08:00:00Z', 'salary', 'Salary'),
        transaction(ada, -80000, '2026-02-03T08:00:00Z', 'rent', 'Rent'),
        transaction(ada, -4500, '2026-02-24T10:00:00Z', 'groceries', 'Groceries'),
        transaction(ada, -1500, '2026-02-28T10:00:00Z', null, null),
        // This week has not ended: no digest for it yet.
        transaction(ada, -999, '2026-03-02T10:00:00Z', 'groceries', 'Groceries'),
        transaction(quiet, -1000, '2025-12-15T10:00:00Z', 'groceries', 'Groceries'),
      ];
      for (const payload of events) await bus.publish('transactions.recorded.v1', [encodeEvent('transactions.recorded.v1', payload.userId, payload)]);
      await eventually(async () => {
        const [row] = await service.db.orm.em.getConnection().execute<{ n: string }[]>('select count(*) as n from processed_events');
        return Number(row!.n) === events.length ? true : undefined;
      }, 30_000);
      // Nothing of it has ended yet (the week from 2026-02-16 and January hold no transactions).
      await new Promise((r) => setTimeout(r, 500));
      expect(emails).toEqual([]);
      now = new Date('2026-03-03T06:00:00Z');
      const digests = await eventually(async () => {
        const found = emails.filter((e) => e.payload.userId === ada);
        return found.length >= 2 ? found : undefined;
      }, 30_000);
      const byPeriod = Object.fromEntries(digests.map((e) => [String(e.payload.data.period), e.payload]));
      expect(byPeriod.MONTHLY).toEqual({
        userId: ada,
        template: 'digest',
        data: {
          period: 'MONTHLY',
          startsOn: '2026-02-01',
          endsOn: '2026-02-28',
          totals: [{ currency: 'EUR', incomeMinor: 250000, spendingMinor: 86000 }],
          topSpending: [
            { category: 'Rent', amountMinor: 80000, currency: 'EUR' },
            { category: 'Groceries', amountMinor: 4500, currency: 'EUR' },
            { category: 'Uncategorised', amountMinor: 1500, currency: 'EUR' },
          ],
          insights: ['1640.00 EUR left over to save'],
        },
      });
      expect(byPeriod.WEEKLY).toMatchObject({
        data: { period: 'WEEKLY', startsOn: '2026-02-23', endsOn: '2026-03-01', totals: [{ currency: 'EUR', incomeMinor: 0, spendingMinor: 6000 }] },
      });
      // The report of each period was generated for it.
      const reports = await service.db.orm.em.getConnection().execute(`select period, starts_on::text as "startsOn" from reports where user_id = ? order by period`, [ada]);
      expect(reports).toEqual([
        { period: 'MONTHLY', startsOn: '2026-02-01' },
        { period: 'WEEKLY', startsOn: '2026-02-23' },
      ]);
    } finally {
      await service.stop();
    }

    // A restart (with its immediate pass, then more every 100 ms) asks for none of them again.
    service = await start();
    try {
      await new Promise((r) => setTimeout(r, 2000));
      const rows = await service.db.orm.em.getConnection().execute<{ n: string }[]>(`select count(*) as n from outbox where topic = 'notifications.email.v1'`);
      expect(Number(rows[0]!.n)).toBe(2);
    } finally {
      await service.stop();
    }
    expect(emails.filter((e) => e.payload.userId === ada)).toHaveLength(2);
    // December was never a finished period of the clock's: the user quiet since then gets nothing.
    expect(emails.filter((e) => e.payload.userId === quiet)).toEqual([]);
  }, 120_000);
});
