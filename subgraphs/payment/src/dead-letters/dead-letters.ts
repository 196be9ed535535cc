import { randomUUID } from 'node:crypto';
import { LockMode, type FilterQuery } from '@mikro-orm/core';
import { notFound } from '@analytica/errors';
import { deadLetterTopic, HEADER, type EventBus } from '@analytica/events';
import type { Logger } from '@analytica/logger';
import type { Database, EntityManager } from '@analytica/postgres';
import { isUuid } from '@analytica/subgraph/access';
import { checkPageSize, decodeTimeCursor, encodeTimeCursor, pageOf } from '@analytica/subgraph/pages';
import { DeadLetterRecord } from './dead-letter.entity.js';

/** The topics whose dead letters the payment service keeps. */
const PAYMENT_TOPICS = ['payments.requested.v1'] as const;
const DEAD_LETTER_GROUP = 'payment-dead-letters';

/** The topic a dead letter goes back to: the retry tier it died on is not where it belongs. */
const originalTopic = (dlq: string) => dlq.replace(/\.dlq$/, '');

/**
 * Reads the payment dead-letter topics into `dead_letters`, once per message (its topic, partition
 * and offset are unique), so a redelivery adds nothing. `dead_at` is the database's time cut to the
 * millisecond (a check constraint holds every row to it): the pages' cursors carry milliseconds, and
 * a row with microseconds between a cursor's millisecond and the next would be skipped.
 */
export async function startDeadLetterIntake(options: { db: Database; bus: EventBus; logger: Logger }) {
  return options.bus.consume({
    groupId: DEAD_LETTER_GROUP,
    topics: PAYMENT_TOPICS.map(deadLetterTopic),
    async handle(message) {
      const em = options.db.fork();
      await em.getConnection().execute(
        `insert into dead_letters (id, topic, source_topic, partition, "offset", key, value, headers, reason, event_id, dead_at)
         values (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, date_trunc('milliseconds', now()))
         on conflict on constraint dead_letters_position do nothing`,
        [
          randomUUID(),
          message.topic,
          message.headers[HEADER.sourceTopic] ?? null,
          message.partition,
          message.offset,
          message.key,
          message.value,
          JSON.stringify(message.headers),
          message.headers[HEADER.reason] ?? 'no reason recorded',
          message.headers[HEADER.id] ?? null,
        ],
        'run',
      );
      options.logger.warn({ topic: message.topic, eventId: message.headers[HEADER.id], reason: message.headers[HEADER.reason] }, 'dead letter recorded');
    },
  });
}

/** The newest dead letters (the deprecated paymentDeadLetters). */
export function listDeadLetters(em: EntityManager, options: { first: number; includeReplayed: boolean }): Promise<DeadLetterRecord[]> {
  return em.find(DeadLetterRecord, options.includeReplayed ? {} : { replayedAt: null }, { orderBy: { deadAt: 'desc', id: 'desc' }, limit: options.first });
}

/** The largest page of dead letters one request reads. */
export const MAX_DEAD_LETTERS_PAGE = 100;

/**
 * A page of dead letters, newest first, with how many match across all pages: keyset-paged over
 * (dead_at, id) with the time cursors of every newest-first list (pages.ts), exact because dead_at
 * holds milliseconds only (startDeadLetterIntake).
 */
export async function pageDeadLetters(em: EntityManager, options: { first: number; after: string | null | undefined; includeReplayed: boolean }) {
  const { first, after, includeReplayed } = options;
  checkPageSize(first, MAX_DEAD_LETTERS_PAGE, 'dead letters');
  const position = after ? decodeTimeCursor(after) : null;
  const matching: FilterQuery<DeadLetterRecord> = includeReplayed ? {} : { replayedAt: null };
  const older: FilterQuery<DeadLetterRecord> | null = position && {
    $or: [{ deadAt: { $lt: position.createdAt } }, { deadAt: position.createdAt, id: { $lt: position.id } }],
  };
  const [rows, totalCount] = await Promise.all([
    em.find(DeadLetterRecord, older ? { $and: [matching, older] } : matching, { orderBy: [{ deadAt: 'desc' }, { id: 'desc' }], limit: first + 1 }),
    em.count(DeadLetterRecord, matching),
  ]);
  const edges = rows.slice(0, first).map((node) => ({ cursor: encodeTimeCursor({ createdAt: node.deadAt, id: node.id }), node }));
  return { ...pageOf(edges, rows.length > first), totalCount };
}

/**
 * Puts the message back on its topic through the outbox, in the same transaction that marks it
 * replayed, so it is sent once. It keeps its event id (consumers that applied it already skip it)
 * and starts with a fresh retry count.
 */
function replayInto(tx: EntityManager, letter: DeadLetterRecord) {
  const headers = { ...letter.headers };
  for (const name of [HEADER.attempt, HEADER.notBefore, HEADER.reason, HEADER.sourceTopic]) delete headers[name];
  headers['replayed-from'] = letter.id;
  letter.replayedAt = new Date();
  return tx
    .getConnection()
    .execute(
      'insert into outbox (id, topic, key, value, headers, created_at) values (?, ?, ?, ?, ?::jsonb, now())',
      [randomUUID(), originalTopic(letter.topic), letter.key, letter.value, JSON.stringify(headers)],
      'run',
      tx.getTransactionContext(),
    );
}

export async function replayDeadLetter(em: EntityManager, id: string): Promise<DeadLetterRecord> {
  if (!isUuid(id)) throw notFound('DeadLetter', id);
  return em.transactional(async (tx) => {
    const letter = await tx.findOne(DeadLetterRecord, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!letter) throw notFound('DeadLetter', id);
    // Replaying twice would send the message twice: the second call answers the first replay.
    if (!letter.replayedAt) await replayInto(tx, letter);
    return letter;
  });
}

/** Replays every dead letter not replayed yet, oldest first; answers how many. */
export async function replayAllDeadLetters(em: EntityManager): Promise<number> {
  return em.transactional(async (tx) => {
    const letters = await tx.find(DeadLetterRecord, { replayedAt: null }, { orderBy: { deadAt: 'asc', id: 'asc' }, lockMode: LockMode.PESSIMISTIC_WRITE });
    for (const letter of letters) await replayInto(tx, letter);
    return letters.length;
  });
}
