import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import type { EntityManager } from '@analytica/postgres';
import type { Database } from '@analytica/postgres';
import type { Logger } from '@analytica/logger';
import pg from 'pg';
import type { EventBus } from './bus.js';
import { encodeEvent } from './consumer.js';
import { withSpanHeaders } from './tracing.js';
import { contextFromHeaders, endSpan, startSpan, type Span } from '@analytica/telemetry/context';
import type { EventPayload, Topic } from './contracts.js';

/**
 * The transactional outbox: an event born in a database transaction is written to the service's
 * own `outbox` table in that same transaction, and a relay publishes it afterwards. The event is
 * sent if and only if the change was committed.
 */
export class OutboxMessage {
  id!: string;
  topic!: string;
  key!: string;
  value!: string;
  headers!: Record<string, string>;
  createdAt!: Date;
  publishedAt: Date | null = null;
}

export const OutboxMessageSchema = new EntitySchema<OutboxMessage>({
  class: OutboxMessage,
  tableName: 'outbox',
  properties: {
    id: { type: 'uuid', primary: true },
    topic: { type: 'string' },
    key: { type: 'string' },
    value: { type: 'text' },
    headers: { type: 'json' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    publishedAt: { type: 'Date', fieldName: 'published_at', nullable: true },
  },
});

/** Applied-event ids of a consumer, written in the same transaction as the effect. */
export class ProcessedEvent {
  eventId!: string;
  consumer!: string;
  processedAt!: Date;
}
export const ProcessedEventSchema = new EntitySchema<ProcessedEvent>({
  class: ProcessedEvent,
  tableName: 'processed_events',
  properties: {
    eventId: { type: 'string', primary: true, fieldName: 'event_id' },
    consumer: { type: 'string', primary: true },
    processedAt: { type: 'Date', fieldName: 'processed_at' },
  },
});

/** SQL for a service's first migration: the outbox and processed-event tables. */
export const eventTablesSql = [
  `create table outbox (
     id uuid primary key,
     topic text not null,
     key text not null,
     value text not null,
     headers jsonb not null,
     created_at timestamptz not null default now(),
     published_at timestamptz null
   )`,
  `create index outbox_unpublished on outbox (created_at) where published_at is null`,
  `create table processed_events (
     event_id text not null,
     consumer text not null,
     processed_at timestamptz not null default now(),
     primary key (event_id, consumer)
   )`,
];

/** Adds an event to the unit of work; it is written when `em` flushes, in the same transaction. */
export function recordEvent<T extends Topic>(em: EntityManager, topic: T, key: string, payload: EventPayload<T>) {
  const id = randomUUID();
  const encoded = encodeEvent(topic, key, payload, id);
  const message = Object.assign(new OutboxMessage(), {
    id,
    topic,
    key,
    value: encoded.value,
    headers: encoded.headers,
    createdAt: new Date(),
    publishedAt: null,
  });
  em.persist(message);
  return id;
}

/**
 * Claims an event id for a consumer inside the caller's transaction. Returns false when it was
 * applied before (a redelivery), in which case the caller does nothing.
 */
export async function claimEvent(em: EntityManager, eventId: string, consumer: string): Promise<boolean> {
  const rows: unknown[] = await em
    .getConnection()
    .execute('insert into processed_events (event_id, consumer) values (?, ?) on conflict do nothing returning event_id', [eventId, consumer], 'all', em.getTransactionContext());
  return rows.length === 1;
}

/** An outbox message as the relay put it on the bus. */
export interface RelayedMessage {
  id: string;
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** The channel a service's outbox announces new rows on: one per schema (NOTIFY channels are at most 63 bytes). */
export function outboxChannel(schema: string): string {
  return `outbox.${schema}`.slice(0, 63);
}

/**
 * Makes every insert into the schema's `outbox` announce itself: a statement-level trigger calls
 * `pg_notify(outboxChannel(schema))`, which PostgreSQL delivers when (and only if) the inserting
 * transaction commits, and folds repeats within one transaction. Idempotent; replicas starting
 * together take turns under an advisory lock.
 */
export const outboxNotifySql = [
  `select pg_advisory_xact_lock(hashtext('analytica.outbox_notify'))`,
  `create or replace function outbox_notify() returns trigger language plpgsql as $$
     begin
       perform pg_notify(left('outbox.' || tg_table_schema, 63), '');
       return null;
     end $$`,
  `do $$ begin
     if not exists (select 1 from pg_trigger where tgrelid = 'outbox'::regclass and tgname = 'outbox_notify') then
       create trigger outbox_notify after insert on outbox for each statement execute function outbox_notify();
     end if;
   end $$`,
];

/**
 * Publishes committed outbox rows in order. Several replicas can run it: rows are claimed with
 * SKIP LOCKED, and a row is marked published only after the bus acknowledged it (at least once).
 *
 * It passes when told to: a commit that inserted outbox rows NOTIFYs the relay (a trigger on the
 * table, installed at start), and `poke()` asks directly. It keeps a slow poll beside that
 * (`fallbackIntervalMs`), and polls every `intervalMs` whenever it is not listening (the
 * listening connection failed and is being re-opened, or the trigger could not be installed).
 */
export function startOutboxRelay(options: {
  db: Database;
  bus: EventBus;
  logger: Logger;
  /** Poll interval while not listening for notifications. */
  intervalMs?: number;
  /** Poll interval while listening: a safety net only. */
  fallbackIntervalMs?: number;
  batchSize?: number;
  /**
   * Sees each batch once it is on the bus and marked published: events of committed changes only,
   * at least once. Services derive their live (Redis) events here, so that every path that writes
   * an event gets them. It runs beside the next batch; its failure is logged, the batch stays published.
   */
  onRelayed?: (messages: RelayedMessage[]) => Promise<void>;
}) {
  const { db, bus, logger } = options;
  let running = true;
  let wake: (() => void) | undefined;
  /** Set by a notification or a poke; a pass that starts clears it, so one arriving during a pass is not lost. */
  let wanted = false;
  const wakeUp = () => {
    wanted = true;
    wake?.();
  };

  async function relayBatch(): Promise<number> {
    const em = db.fork();
    // One span per row written under a trace, from the claim to the commit that marks it sent.
    const spans = new Map<string, Span>();
    const relayed = await endingSpans(
      spans,
      em.transactional(async (tx) => {
        const rows: { id: string; topic: string; key: string; value: string; headers: Record<string, string> }[] = await tx.getConnection().execute(
          `select id, topic, key, value, headers from outbox where published_at is null
            order by created_at limit ? for update skip locked`,
          [options.batchSize ?? 200],
          'all',
          tx.getTransactionContext(),
        );
        if (rows.length === 0) return [];
        const byTopic = new Map<string, typeof rows>();
        for (const row of rows) byTopic.set(row.topic, [...(byTopic.get(row.topic) ?? []), row]);
        for (const row of rows) {
          if (!row.headers.traceparent) continue;
          const attributes = { 'analytica.outbox.id': row.id, 'messaging.destination.name': row.topic };
          spans.set(row.id, startSpan('outbox relay', { parent: contextFromHeaders(row.headers), attributes }));
        }
        for (const [topic, batch] of byTopic) {
          await bus.publish(
            topic,
            batch.map((r) => withSpanHeaders({ key: r.key, value: r.value, headers: r.headers }, spans.get(r.id))),
          );
        }
        await tx
          .getConnection()
          // One placeholder per id: knex expands an array parameter into a list, which `any(?)` cannot take.
          .execute(
            `update outbox set published_at = now() where id in (${rows.map(() => '?').join(', ')})`,
            rows.map((r) => r.id),
            'run',
            tx.getTransactionContext(),
          );
        return rows;
      }),
    );
    // Not awaited: a slow or absent Redis must not hold up the events of record.
    if (relayed.length && options.onRelayed) {
      options.onRelayed(relayed).catch((err: unknown) => logger.warn({ err }, 'live events of relayed outbox messages failed'));
    }
    return relayed.length;
  }

  const listener = listenForOutbox(db, logger, wakeUp);

  const done = (async () => {
    while (running) {
      wanted = false;
      let sent = 0;
      try {
        sent = await relayBatch();
      } catch (error) {
        logger.error({ err: error }, 'outbox relay failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
      }
      if (sent === 0 && running && !wanted) {
        const ms = listener.listening() ? (options.fallbackIntervalMs ?? 5000) : (options.intervalMs ?? 200);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    }
  })();

  return {
    /** Ask for an immediate pass (after a commit that wrote events). */
    poke() {
      wakeUp();
    },
    async stop() {
      running = false;
      wake?.();
      await Promise.all([done, listener.stop()]);
    },
  };
}

/** Ends the spans once `work` settles (failed, if it rejects). */
async function endingSpans<T>(spans: Map<string, Span>, work: Promise<T>): Promise<T> {
  try {
    const result = await work;
    for (const span of spans.values()) endSpan(span);
    return result;
  } catch (error) {
    for (const span of spans.values()) endSpan(span, error);
    throw error;
  }
}

/**
 * A connection of its own that LISTENs on the schema's outbox channel and calls `notify` for each
 * notification, and once each time it (re)starts listening (what was committed meanwhile). It is
 * re-opened after an error, 1 s later and then up to every 5 s.
 */
function listenForOutbox(db: Database, logger: Logger, notify: () => void) {
  const schema = db.orm.config.get('schema') ?? 'public';
  const url = db.orm.config.get('clientUrl');
  const channel = outboxChannel(schema);
  let client: pg.Client | undefined;
  let listening = false;
  let stopped = false;
  let retryMs = 1000;
  let retryTimer: NodeJS.Timeout | undefined;
  let installed = false;

  async function install() {
    if (installed) return;
    await db.fork().transactional(async (tx) => {
      for (const sql of outboxNotifySql) await tx.getConnection().execute(sql, [], 'run', tx.getTransactionContext());
    });
    installed = true;
  }

  function retry() {
    listening = false;
    if (stopped || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, retryMs);
    retryMs = Math.min(retryMs * 2, 5000);
  }

  async function connect() {
    const next = new pg.Client({ connectionString: url, application_name: 'outbox-relay' });
    client = next;
    next.on('notification', (message) => {
      if (message.channel === channel) notify();
    });
    const lost = (error: unknown) => {
      if (client !== next) return;
      logger.warn({ err: error }, 'outbox relay: the notification connection failed; polling until it is back');
      client = undefined;
      next.end().catch(() => {});
      retry();
      // A pass now, and polling at intervalMs until listening again.
      notify();
    };
    next.on('error', lost);
    next.on('end', () => lost(new Error('the connection ended')));
    try {
      await install();
      await next.connect();
      await next.query(`listen "${channel.replaceAll('"', '""')}"`);
      if (stopped || client !== next) {
        await next.end().catch(() => {});
        return;
      }
      listening = true;
      retryMs = 1000;
      // Whatever was committed while not listening.
      notify();
    } catch (error) {
      if (client !== next) return;
      logger.warn({ err: error }, 'outbox relay: could not listen for notifications; polling until it can');
      client = undefined;
      await next.end().catch(() => {});
      retry();
    }
  }
  void connect();

  return {
    listening: () => listening,
    async stop() {
      stopped = true;
      listening = false;
      clearTimeout(retryTimer);
      const current = client;
      client = undefined;
      await current?.end().catch(() => {});
    },
  };
}
