import pg from 'pg';
import type { Logger } from '@analytica/logger';
import type { BusMessage, ConsumeOptions, Consumer, EventBus } from './bus.js';
import { publishTraced } from './tracing.js';

/**
 * The embedded run mode's event transport: a durable log in PostgreSQL with Kafka's delivery
 * semantics. Messages are appended to one table; each consumer group keeps a committed offset
 * per topic and advances it only after its handler resolves, so delivery is at least once and
 * in order, and survives a restart. (Retry tiers and dead letters sit above any bus, in consumer.ts.)
 */
export async function createLocalBus(options: { databaseUrl: string; schema?: string; logger: Logger; pollMs?: number }): Promise<EventBus> {
  const schema = options.schema ?? 'event_log';
  // Bounded like every service pool (packages/postgres): no statement here runs long or waits on a lock.
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 4, options: '-c statement_timeout=5000 -c lock_timeout=2000' });
  // An idle connection can drop (the server restarts, or stops first on Ctrl-C); the pool replaces it.
  pool.on('error', (error) => options.logger.warn({ err: error }, 'local bus connection lost'));
  await pool.query(`
    create schema if not exists ${schema};
    create table if not exists ${schema}.messages (
      "offset" bigserial primary key,
      topic text not null,
      key text not null,
      value text not null,
      headers jsonb not null default '{}',
      created_at timestamptz not null default now()
    );
    create index if not exists messages_topic_offset on ${schema}.messages (topic, "offset");
    create table if not exists ${schema}.committed_offsets (
      group_id text not null,
      topic text not null,
      "offset" bigint not null,
      primary key (group_id, topic)
    );`);
  const loops = new Set<{ running: boolean; done: Promise<void> }>();
  const pollMs = options.pollMs ?? 50;

  return {
    kind: 'local',
    async publish(topic: string, messages: BusMessage[]) {
      if (messages.length === 0) return;
      await publishTraced('local', topic, messages, async (traced) => {
        const values: unknown[] = [];
        const rows = traced.map((m, i) => {
          values.push(topic, m.key, m.value, JSON.stringify(m.headers));
          return `($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4}::jsonb)`;
        });
        await pool.query(`insert into ${schema}.messages (topic, key, value, headers) values ${rows.join(', ')}`, values);
      });
    },
    async consume(consume: ConsumeOptions): Promise<Consumer> {
      const loop = { running: true, done: Promise.resolve() };
      loop.done = (async () => {
        while (loop.running) {
          let handled = 0;
          try {
            const { rows } = await pool.query<{ offset: string; topic: string; key: string; value: string; headers: Record<string, string> }>(
              `select m."offset", m.topic, m.key, m.value, m.headers
                 from ${schema}.messages m
                 left join ${schema}.committed_offsets c on c.group_id = $1 and c.topic = m.topic
                where m.topic = any($2) and m."offset" > coalesce(c."offset", 0)
                order by m."offset" limit 100`,
              [consume.groupId, consume.topics],
            );
            for (const row of rows) {
              if (!loop.running) break;
              await consume.handle({ ...row, partition: 0 }, async () => {});
              await pool.query(
                `insert into ${schema}.committed_offsets (group_id, topic, "offset") values ($1, $2, $3)
                 on conflict (group_id, topic) do update set "offset" = excluded."offset"`,
                [consume.groupId, row.topic, row.offset],
              );
              handled++;
            }
          } catch (error) {
            options.logger.error({ err: error, groupId: consume.groupId }, 'local bus consumer failed; will retry');
            await sleep(1000);
          }
          if (handled === 0) await sleep(pollMs);
        }
      })();
      loops.add(loop);
      return {
        async stop() {
          loop.running = false;
          loops.delete(loop);
          await loop.done;
        },
      };
    },
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      for (const loop of loops) loop.running = false;
      await Promise.all([...loops].map((l) => l.done));
      await pool.end();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
