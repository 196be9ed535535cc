import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import { notFound } from '@analytica/errors';
import { deadLetterTopic, HEADER, type EventBus } from '@analytica/events';
import type { Logger } from '@analytica/logger';
import type { Database, EntityManager } from '@analytica/postgres';
import { isUuid } from '@analytica/subgraph/access';
import { DeadLetterRecord } from './dead-letter.entity.js';

/** The topics whose dead letters the payment service keeps. */
const PAYMENT_TOPICS = ['payments.requested.v1'] as const;
const DEAD_LETTER_GROUP = 'payment-dead-letters';

/** The topic a dead letter goes back to: the retry tier it died on is not where it belongs. */
const originalTopic = (dlq: string) => dlq.replace(/\.dlq$/, '');

/**
 * Reads the payment dead-letter topics into `dead_letters`, once per message (its topic, partition
 * and offset are unique), so a redelivery adds nothing.
 */
export async function startDeadLetterIntake(options: { db: Database; bus: EventBus; logger: Logger }) {
  return options.bus.consume({
    groupId: DEAD_LETTER_GROUP,
    topics: PAYMENT_TOPICS.map(deadLetterTopic),
    async handle(message) {
      const em = options.db.fork();
      await em.getConnection().execute(
        `insert into dead_letters (id, topic, source_topic, partition, "offset", key, value, headers, reason, event_id, dead_at)
         values (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, now())
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

export function listDeadLetters(em: EntityManager, options: { first: number; includeReplayed: boolean }): Promise<DeadLetterRecord[]> {
  return em.find(DeadLetterRecord, options.includeReplayed ? {} : { replayedAt: null }, { orderBy: { deadAt: 'desc', id: 'desc' }, limit: options.first });
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
