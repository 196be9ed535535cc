import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '@analytica/logger';
import { Migration, openDatabase, type Database } from '@analytica/postgres';
import { dropSchema, eventually, services, uniqueName } from '@analytica/testing';
import type { BusMessage, EventBus } from './bus.js';
import { HEADER } from './consumer.js';
import { eventTablesSql, outboxChannel, OutboxMessageSchema, ProcessedEventSchema, recordEvent, startOutboxRelay } from './outbox.js';

const logger = createLogger('test', 'silent');
const schemas: string[] = [];
const databases: Database[] = [];

afterAll(async () => {
  for (const db of databases) await db.close();
  for (const schema of schemas) await dropSchema(schema);
});

class EventTables extends Migration {
  override async up() {
    for (const sql of eventTablesSql) this.addSql(sql);
  }
}

async function setUp() {
  const schema = uniqueName('outbox_test');
  schemas.push(schema);
  const db = await openDatabase({
    url: services.databaseUrl,
    schema,
    entities: [OutboxMessageSchema, ProcessedEventSchema],
    migrations: [{ name: 'event-tables', class: EventTables }],
  });
  databases.push(db);
  const published: (BusMessage & { topic: string })[] = [];
  const bus: EventBus = {
    kind: 'local',
    publish: async (topic, messages) => void published.push(...messages.map((m) => ({ ...m, topic }))),
    consume: () => Promise.reject(new Error('not used')),
    ping: async () => {},
    close: async () => {},
  };
  return { schema, db, bus, published };
}

const payload = (userId: string, n: number) => ({
  userId,
  transactionId: `t${n}`,
  accountId: 'a1',
  categoryId: null,
  amountMinor: '-1250',
  currency: 'EUR',
  payee: 'Corner Market',
  bookedAt: '2026-11-01T10:00:00.000Z',
});

/** Commits `count` events of one key in one transaction, nobody poking the relay. */
async function commitEvents(db: Database, key: string, from: number, count: number) {
  const ids: string[] = [];
  await db.fork().transactional(async (em) => {
    for (let n = from; n < from + count; n++) ids.push(recordEvent(em, 'transactions.recorded.v1', key, payload(key, n)));
  });
  return ids;
}

const idsOf = (published: { headers: Record<string, string> }[]) => published.map((m) => m.headers[HEADER.id]);
/** Events of one transaction share a creation time, so only the order between transactions is defined. */
const inOrder = (ids: (string | undefined)[], ...groups: string[][]) => {
  let at = 0;
  return groups.map((group) => {
    const slice = ids.slice(at, (at += group.length));
    return [...slice].sort().join() === [...group].sort().join();
  });
};

describe('startOutboxRelay', () => {
  // The fallback poll is a minute: anything sooner came from the notification.
  const SLOW_POLL = { intervalMs: 60_000, fallbackIntervalMs: 60_000 };

  it('publishes a committed event as soon as its transaction commits, in order, without a poke or a poll', async () => {
    const { db, bus, published } = await setUp();
    const relay = startOutboxRelay({ db, bus, logger, ...SLOW_POLL });
    try {
      // Listening and the trigger installed once the first pass is done; it found nothing.
      await eventually(async () => ((await triggerInstalled(db)) ? true : undefined));
      await new Promise((r) => setTimeout(r, 300));
      const first = await commitEvents(db, 'u1', 0, 3);
      const started = Date.now();
      await eventually(async () => (published.length === 3 ? true : undefined), 5000, 20);
      expect(Date.now() - started).toBeLessThan(2000);
      const second = await commitEvents(db, 'u1', 3, 2);
      await eventually(async () => (published.length === 5 ? true : undefined), 5000, 20);
      expect(inOrder(idsOf(published), first, second)).toEqual([true, true]);
      expect(published.every((m) => m.topic === 'transactions.recorded.v1' && m.key === 'u1')).toBe(true);
      // Marked published: nothing is sent twice.
      await new Promise((r) => setTimeout(r, 300));
      expect(published).toHaveLength(5);
    } finally {
      await relay.stop();
    }
  });

  it('does not publish what a rolled-back transaction wrote', async () => {
    const { db, bus, published } = await setUp();
    const relay = startOutboxRelay({ db, bus, logger, ...SLOW_POLL });
    try {
      await eventually(async () => ((await triggerInstalled(db)) ? true : undefined));
      await db
        .fork()
        .transactional(async (em) => {
          recordEvent(em, 'transactions.recorded.v1', 'u2', payload('u2', 0));
          await em.flush();
          throw new Error('rolled back');
        })
        .catch(() => {});
      const kept = await commitEvents(db, 'u2', 1, 1);
      await eventually(async () => (published.length === 1 ? true : undefined), 5000, 20);
      await new Promise((r) => setTimeout(r, 300));
      expect(idsOf(published)).toEqual(kept);
    } finally {
      await relay.stop();
    }
  });

  it('listens again after its connection is killed, and publishes what was committed meanwhile', async () => {
    const { schema, db, bus, published } = await setUp();
    const relay = startOutboxRelay({ db, bus, logger, intervalMs: 200, fallbackIntervalMs: 60_000 });
    const admin = new pg.Client({ connectionString: services.databaseUrl });
    await admin.connect();
    try {
      await eventually(async () => ((await listeners(admin, schema)) === 1 ? true : undefined));
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'outbox-relay' and query like $1`, [`%${outboxChannel(schema)}%`]);
      const meanwhile = await commitEvents(db, 'u3', 0, 2);
      await eventually(async () => (published.length === 2 ? true : undefined), 5000, 20);
      // Listening again (re-opened after 1 s): a commit is published without waiting for the fallback poll.
      await eventually(async () => ((await listeners(admin, schema)) === 1 ? true : undefined));
      await new Promise((r) => setTimeout(r, 300));
      const after = await commitEvents(db, 'u3', 2, 1);
      await eventually(async () => (published.length === 3 ? true : undefined), 5000, 20);
      expect(inOrder(idsOf(published), meanwhile, after)).toEqual([true, true]);
    } finally {
      await admin.end();
      await relay.stop();
    }
  });
});

async function triggerInstalled(db: Database): Promise<boolean> {
  const rows: unknown[] = await db.fork().getConnection().execute(`select 1 from pg_trigger where tgrelid = 'outbox'::regclass and tgname = 'outbox_notify'`);
  return rows.length === 1;
}

/** The relay's LISTEN connections of this schema. */
async function listeners(admin: pg.Client, schema: string): Promise<number> {
  const { rows } = await admin.query(`select count(*)::int as n from pg_stat_activity where application_name = 'outbox-relay' and query like $1`, [`%${outboxChannel(schema)}%`]);
  return (rows[0] as { n: number }).n;
}
